//! Kick's unofficial Pusher feed: what most Kick bots read, and the only route that
//! needs no public URL. The chatroom id, channel id and broadcaster user id come from
//! the (unofficial) channel-information endpoint; the feed's frames are decoded in
//! [`frame`] and the connection is kept in [`session`].

pub mod frame;
pub mod session;

use serde_json::Value;

pub use frame::{FrameError, PusherFrame, parse_frame};
pub use session::{SessionConfig, SessionUpdate};

/// The three ids of one Kick channel. They differ from each other: the chat lives on
/// the chatroom id, follows and live status on the channel id, and the public API
/// names the broadcaster by user id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelIds {
    /// `chatroom.id`.
    pub chatroom_id: String,
    /// `id` (the channel's id).
    pub channel_id: String,
    /// `user_id` (the broadcaster's user id).
    pub user_id: String,
}

impl ChannelIds {
    /// The Pusher channels to subscribe: chat, subscriptions and bans on
    /// `chatrooms.<id>.v2`, newer gift and reward events on `chatroom_<id>`, follows,
    /// live status and kicks on `channel.<id>` and `channel_<id>`.
    pub fn pusher_channels(&self) -> Vec<String> {
        vec![
            format!("chatrooms.{}.v2", self.chatroom_id),
            format!("chatroom_{}", self.chatroom_id),
            format!("channel.{}", self.channel_id),
            format!("channel_{}", self.channel_id),
        ]
    }
}

fn id_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Number(number) => Some(number.to_string()),
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        _ => None,
    }
}

/// Reads the channel-information answer (`{id, user_id, chatroom: {id}, ...}`).
pub fn parse_channel_info(body: &[u8]) -> Result<ChannelIds, String> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| "the channel information is not JSON".to_owned())?;
    let chatroom_id = id_text(
        value
            .get("chatroom")
            .and_then(|chatroom| chatroom.get("id")),
    )
    .ok_or("the channel information has no chatroom.id")?;
    let channel_id = id_text(value.get("id")).ok_or("the channel information has no id")?;
    let user_id = id_text(value.get("user_id"))
        .or_else(|| id_text(value.get("user").and_then(|user| user.get("id"))))
        .unwrap_or_default();
    Ok(ChannelIds {
        chatroom_id,
        channel_id,
        user_id,
    })
}

/// Looks the channel up at `{channel_info_url}/{slug}`. The real endpoint sits behind
/// Cloudflare and may refuse automated clients; the error says so.
pub async fn resolve_channel(
    http: &reqwest::Client,
    channel_info_url: &str,
    slug: &str,
) -> Result<ChannelIds, String> {
    let mut url = reqwest::Url::parse(channel_info_url)
        .map_err(|error| format!("channel_info_url {channel_info_url:?}: {error}"))?;
    url.path_segments_mut()
        .map_err(|()| format!("channel_info_url {channel_info_url:?} cannot take a path"))?
        .pop_if_empty()
        .push(slug);
    let response = http
        .get(url)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|error| error.without_url().to_string())?;
    let status = response.status().as_u16();
    let body = response
        .bytes()
        .await
        .map_err(|error| error.without_url().to_string())?;
    match status {
        200 => parse_channel_info(&body),
        404 => Err(format!("Kick has no channel {slug:?}")),
        403 | 429 | 503 => Err(format!(
            "the channel information answered HTTP {status} (Kick's Cloudflare protection refuses the request; \
             open {channel_info_url}/{slug} in a browser and set [kick] chatroom_id = chatroom.id and channel_id = id)"
        )),
        status => Err(format!("the channel information answered HTTP {status}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_ids_are_read_and_differ() {
        let body = br#"{"id":1174682,"user_id":1185563,"slug":"someone","chatroom":{"id":1165302,"channel_id":1174682}}"#;
        let ids = parse_channel_info(body).unwrap();
        assert_eq!(
            ids,
            ChannelIds {
                chatroom_id: "1165302".into(),
                channel_id: "1174682".into(),
                user_id: "1185563".into()
            }
        );
        assert_eq!(
            ids.pusher_channels(),
            [
                "chatrooms.1165302.v2",
                "chatroom_1165302",
                "channel.1174682",
                "channel_1174682"
            ]
        );
        assert!(parse_channel_info(br#"{"id":1}"#).is_err());
        assert!(parse_channel_info(b"<html>").is_err());
    }
}
