//! Channel-point rewards Roadie manages: list, create and update its own rewards,
//! and fulfil or cancel (refund) their redemptions. Twitch lets only the app that
//! created a reward change it or its redemptions; that refusal gets its own error.

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{DataList, Helix, HelixError};

/// A custom reward.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CustomReward {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its cost in channel points.
    pub cost: u64,
    /// The prompt shown to viewers.
    #[serde(default)]
    pub prompt: String,
    /// Whether viewers can see it.
    pub is_enabled: bool,
    /// Whether redeeming is paused.
    #[serde(default)]
    pub is_paused: bool,
    /// Whether the viewer must enter text.
    #[serde(default)]
    pub is_user_input_required: bool,
}

/// Fields to set when creating or updating a reward (`None`: leave as is / default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RewardChanges {
    /// Title (required to create).
    pub title: Option<String>,
    /// Cost (required to create).
    pub cost: Option<u64>,
    /// Prompt.
    pub prompt: Option<String>,
    /// Visible.
    pub is_enabled: Option<bool>,
    /// Paused.
    pub is_paused: Option<bool>,
    /// Text required.
    pub is_user_input_required: Option<bool>,
}

impl RewardChanges {
    fn body(&self) -> Value {
        let mut body = json!({});
        let fields: [(&str, Option<Value>); 6] = [
            ("title", self.title.clone().map(Value::from)),
            ("cost", self.cost.map(Value::from)),
            ("prompt", self.prompt.clone().map(Value::from)),
            ("is_enabled", self.is_enabled.map(Value::from)),
            ("is_paused", self.is_paused.map(Value::from)),
            (
                "is_user_input_required",
                self.is_user_input_required.map(Value::from),
            ),
        ];
        for (key, value) in fields {
            if let Some(value) = value {
                body[key] = value;
            }
        }
        body
    }
}

/// Twitch's 403 for another app's reward, in words a streamer can act on.
fn not_ours(error: HelixError) -> HelixError {
    match error {
        HelixError::Api {
            status: 403,
            message,
        } => HelixError::Api {
            status: 403,
            message: format!(
                "Twitch lets only the app that created a reward change it or its redemptions; this reward was made on twitch.tv or by another app, so Roadie cannot manage it (create it with Roadie instead). Twitch said: {message}"
            ),
        },
        other => other,
    }
}

fn first(body: &[u8], path: &str) -> Result<CustomReward, HelixError> {
    let answer: DataList<CustomReward> = serde_json::from_slice(body)
        .map_err(|error| HelixError::Malformed(format!("{path}: {error}")))?;
    answer
        .data
        .into_iter()
        .next()
        .ok_or_else(|| HelixError::Malformed(format!("{path} returned no reward")))
}

impl Helix {
    /// The rewards Roadie can manage (the ones this app created).
    pub async fn own_rewards(&self, broadcaster_id: &str) -> Result<Vec<CustomReward>, HelixError> {
        let answer: DataList<CustomReward> = self
            .get(
                "/channel_points/custom_rewards",
                &[
                    ("broadcaster_id", broadcaster_id),
                    ("only_manageable_rewards", "true"),
                ],
            )
            .await?;
        Ok(answer.data)
    }

    /// Creates a reward; `changes` must carry a title and a cost.
    pub async fn create_reward(
        &self,
        broadcaster_id: &str,
        changes: &RewardChanges,
    ) -> Result<CustomReward, HelixError> {
        if changes
            .title
            .as_deref()
            .is_none_or(|title| title.trim().is_empty())
            || changes.cost.is_none_or(|cost| cost == 0)
        {
            return Err(HelixError::Api {
                status: 400,
                message: "a reward needs a title and a cost of at least 1".into(),
            });
        }
        let path = "/channel_points/custom_rewards";
        let (_, body) = self
            .call(
                Method::POST,
                path,
                &[("broadcaster_id", broadcaster_id)],
                Some(&changes.body()),
            )
            .await?;
        first(&body, path)
    }

    /// Updates one of Roadie's rewards.
    pub async fn update_reward(
        &self,
        broadcaster_id: &str,
        reward_id: &str,
        changes: &RewardChanges,
    ) -> Result<CustomReward, HelixError> {
        let path = "/channel_points/custom_rewards";
        let (_, body) = self
            .call(
                Method::PATCH,
                path,
                &[("broadcaster_id", broadcaster_id), ("id", reward_id)],
                Some(&changes.body()),
            )
            .await
            .map_err(not_ours)?;
        first(&body, path)
    }

    /// Fulfils (`true`) or cancels and refunds (`false`) a redemption of one of
    /// Roadie's rewards.
    pub async fn finish_redemption(
        &self,
        broadcaster_id: &str,
        reward_id: &str,
        redemption_id: &str,
        fulfilled: bool,
    ) -> Result<(), HelixError> {
        let status = if fulfilled { "FULFILLED" } else { "CANCELED" };
        self.call(
            Method::PATCH,
            "/channel_points/custom_rewards/redemptions",
            &[
                ("broadcaster_id", broadcaster_id),
                ("reward_id", reward_id),
                ("id", redemption_id),
            ],
            Some(&json!({"status": status})),
        )
        .await
        .map(|_| ())
        .map_err(not_ours)
    }
}
