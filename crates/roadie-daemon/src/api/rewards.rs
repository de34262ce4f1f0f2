//! Channel-point rewards Roadie manages (Twitch so far): list, create, update, and
//! fulfil or cancel (refund) their redemptions.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};

use roadie_platform_twitch::helix::{CustomReward, RewardChanges};
use roadie_protocol::{RedemptionDecision, RewardChange, RewardInfo};

use super::{ApiError, AppState};

fn info(reward: CustomReward) -> RewardInfo {
    RewardInfo {
        platform: "twitch".into(),
        id: reward.id,
        title: reward.title,
        cost: reward.cost,
        prompt: reward.prompt,
        enabled: reward.is_enabled,
        paused: reward.is_paused,
        input_required: reward.is_user_input_required,
    }
}

fn changes(change: RewardChange) -> RewardChanges {
    RewardChanges {
        title: change.title,
        cost: change.cost,
        prompt: change.prompt,
        is_enabled: change.enabled,
        is_paused: change.paused,
        is_user_input_required: change.input_required,
    }
}

/// Roadie's own rewards (rewards made elsewhere cannot be managed by Roadie).
#[utoipa::path(get, path = "/api/v1/rewards", security(("bearer" = [])), responses((status = 200, body = Vec<RewardInfo>), (status = 409, body = roadie_protocol::ErrorBody)))]
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<RewardInfo>>, ApiError> {
    Ok(Json(
        state
            .platforms
            .rewards()
            .await?
            .into_iter()
            .map(info)
            .collect(),
    ))
}

/// Creates a reward (title and cost required).
#[utoipa::path(post, path = "/api/v1/rewards", security(("bearer" = [])), request_body = RewardChange,
    responses((status = 200, body = RewardInfo), (status = 400, body = roadie_protocol::ErrorBody), (status = 409, body = roadie_protocol::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    body: Result<Json<RewardChange>, JsonRejection>,
) -> Result<Json<RewardInfo>, ApiError> {
    let Json(change) = body.map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
    Ok(Json(info(
        state.platforms.change_reward(None, changes(change)).await?,
    )))
}

/// Updates one of Roadie's rewards.
#[utoipa::path(patch, path = "/api/v1/rewards/{id}", security(("bearer" = [])), request_body = RewardChange,
    params(("id" = String, Path, description = "the reward id")),
    responses((status = 200, body = RewardInfo), (status = 400, body = roadie_protocol::ErrorBody), (status = 409, body = roadie_protocol::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<Json<RewardChange>, JsonRejection>,
) -> Result<Json<RewardInfo>, ApiError> {
    let Json(change) = body.map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
    Ok(Json(info(
        state
            .platforms
            .change_reward(Some(&id), changes(change))
            .await?,
    )))
}

/// Fulfils or cancels (refunds) a redemption of one of Roadie's rewards.
#[utoipa::path(post, path = "/api/v1/rewards/{reward_id}/redemptions/{redemption_id}", security(("bearer" = [])), request_body = RedemptionDecision,
    params(("reward_id" = String, Path, description = "the reward"), ("redemption_id" = String, Path, description = "the redemption")),
    responses((status = 204, description = "done"), (status = 400, body = roadie_protocol::ErrorBody), (status = 409, body = roadie_protocol::ErrorBody)))]
pub async fn decide(
    State(state): State<AppState>,
    Path((reward_id, redemption_id)): Path<(String, String)>,
    body: Result<Json<RedemptionDecision>, JsonRejection>,
) -> Result<axum::http::StatusCode, ApiError> {
    let Json(decision) = body.map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
    let fulfilled = match decision.status.as_str() {
        "fulfilled" => true,
        "canceled" => false,
        other => {
            return Err(ApiError::bad_request(format!(
                "status {other:?}: expected fulfilled or canceled"
            )));
        }
    };
    state
        .platforms
        .finish_redemption(
            roadie_core::Platform::Twitch,
            &reward_id,
            &redemption_id,
            fulfilled,
        )
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
