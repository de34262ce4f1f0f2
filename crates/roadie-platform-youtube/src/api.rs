//! The YouTube Data API v3 as this adapter uses it: one request path that adds the
//! bearer token, answers a 401 with one refresh and one retry, charges each answered
//! request to the quota planner, and reads Google's error body
//! (`{"error":{"code","message","errors":[{"reason","domain","message"}]}}`) into a
//! typed error by its `reason`; plus readers for the answers it needs.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use roadie_core::Secret;
use roadie_oauth::{RefreshError, RotatingTokens};
use serde::Deserialize;
use serde_json::json;

use crate::YoutubeError;
use crate::message::{MessagePage, parse_page};
use crate::quota::QuotaPlanner;
use crate::settings::WallClock;

/// The Data API methods this adapter calls (each has its own quota cost).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiMethod {
    /// `liveBroadcasts.list`.
    BroadcastsList,
    /// `liveChatMessages.list`.
    MessagesList,
    /// `liveChatMessages.insert`.
    MessagesInsert,
    /// `videos.list`.
    VideosList,
    /// `channels.list`.
    ChannelsList,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ErrorEnvelope {
    error: Option<ErrorDetail>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ErrorDetail {
    message: Option<String>,
    errors: Option<Vec<ErrorItem>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ErrorItem {
    reason: Option<String>,
    message: Option<String>,
}

/// Reads a Google error answer into an error, by its first `reason`.
pub fn parse_error(status: u16, body: &[u8]) -> YoutubeError {
    let envelope: ErrorEnvelope = serde_json::from_slice(body).unwrap_or_default();
    let detail = envelope.error.unwrap_or_default();
    let first = detail
        .errors
        .unwrap_or_default()
        .into_iter()
        .next()
        .unwrap_or_default();
    let message = detail
        .message
        .or(first.message)
        .filter(|message| !message.is_empty())
        .unwrap_or_else(|| {
            String::from_utf8_lossy(body)
                .chars()
                .take(200)
                .collect::<String>()
        });
    let reason = first.reason.unwrap_or_default();
    match reason.as_str() {
        "quotaExceeded" | "dailyLimitExceeded" => YoutubeError::QuotaExceeded(message),
        "rateLimitExceeded" | "userRateLimitExceeded" => YoutubeError::RateLimited(message),
        "liveChatEnded" => YoutubeError::ChatEnded,
        "liveChatDisabled" => YoutubeError::ChatDisabled,
        "liveChatNotFound" => YoutubeError::ChatNotFound,
        _ if status == 401 => YoutubeError::AuthRequired(message),
        _ if status == 429 => YoutubeError::RateLimited(message),
        _ if status >= 500 => YoutubeError::Unavailable { status, message },
        _ => YoutubeError::Api {
            status,
            reason: if reason.is_empty() {
                "unknown".into()
            } else {
                reason
            },
            message,
        },
    }
}

/// A live broadcast from `liveBroadcasts.list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broadcast {
    /// The broadcast's id (also its video id).
    pub id: String,
    /// Its title.
    pub title: Option<String>,
    /// The live chat's id (absent when the broadcast has no chat).
    pub live_chat_id: Option<String>,
    /// `status.lifeCycleStatus` (`live`, `complete`...).
    pub life_cycle_status: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WireBroadcast {
    id: Option<String>,
    snippet: Option<WireBroadcastSnippet>,
    status: Option<WireBroadcastStatus>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WireBroadcastSnippet {
    title: Option<String>,
    live_chat_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WireBroadcastStatus {
    life_cycle_status: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct List {
    items: Option<Vec<serde_json::Value>>,
}

fn list_items(body: &[u8], what: &str) -> Result<Vec<serde_json::Value>, YoutubeError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|error| YoutubeError::Malformed(format!("{what}: {error}")))?;
    if !value.is_object() {
        return Err(YoutubeError::Malformed(format!(
            "{what}: the answer is not a JSON object"
        )));
    }
    let list: List = serde_json::from_value(value)
        .map_err(|error| YoutubeError::Malformed(format!("{what}: {error}")))?;
    Ok(list.items.unwrap_or_default())
}

/// Reads a `liveBroadcasts.list` answer; items without an id are skipped.
pub fn parse_broadcasts(body: &[u8]) -> Result<Vec<Broadcast>, YoutubeError> {
    Ok(list_items(body, "liveBroadcasts.list")?
        .into_iter()
        .filter_map(|item| serde_json::from_value::<WireBroadcast>(item).ok())
        .filter_map(|wire| {
            let snippet = wire.snippet.unwrap_or_default();
            Some(Broadcast {
                id: wire.id.filter(|id| !id.is_empty())?,
                title: snippet.title,
                live_chat_id: snippet.live_chat_id.filter(|id| !id.is_empty()),
                life_cycle_status: wire.status.unwrap_or_default().life_cycle_status,
            })
        })
        .collect())
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WireVideo {
    live_streaming_details: Option<WireLiveDetails>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WireLiveDetails {
    concurrent_viewers: Option<serde_json::Value>,
}

/// Reads `liveStreamingDetails.concurrentViewers` (a string holding a number) from a
/// `videos.list` answer; `None` when absent (the stream ended, or the count is hidden).
pub fn parse_viewers(body: &[u8]) -> Result<Option<u64>, YoutubeError> {
    let items = list_items(body, "videos.list")?;
    let Some(video) = items
        .into_iter()
        .next()
        .and_then(|item| serde_json::from_value::<WireVideo>(item).ok())
    else {
        return Ok(None);
    };
    Ok(video
        .live_streaming_details
        .and_then(|details| details.concurrent_viewers)
        .and_then(|value| match value {
            serde_json::Value::String(text) => text.trim().parse().ok(),
            serde_json::Value::Number(number) => number.as_u64(),
            _ => None,
        }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireChannel {
    id: Option<String>,
    snippet: Option<WireChannelSnippet>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireChannelSnippet {
    title: Option<String>,
}

/// Reads `(channel id, title)` from a `channels.list?mine=true` answer.
pub fn parse_channel(body: &[u8]) -> Result<(String, String), YoutubeError> {
    let channel = list_items(body, "channels.list")?
        .into_iter()
        .next()
        .and_then(|item| serde_json::from_value::<WireChannel>(item).ok())
        .ok_or(YoutubeError::NoChannel)?;
    let id = channel
        .id
        .filter(|id| !id.is_empty())
        .ok_or(YoutubeError::NoChannel)?;
    let title = channel
        .snippet
        .and_then(|snippet| snippet.title)
        .unwrap_or_else(|| id.clone());
    Ok((id, title))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Inserted {
    id: Option<String>,
}

/// A request without the refresh-and-retry machinery (sign-in helpers).
pub(crate) async fn get_once(
    http: &reqwest::Client,
    url: &str,
    query: &[(&str, &str)],
    access: &Secret,
) -> Result<Vec<u8>, YoutubeError> {
    let response = http
        .get(url)
        .query(query)
        .bearer_auth(access.expose_secret())
        .send()
        .await
        .map_err(|error| YoutubeError::Transport(error.without_url().to_string()))?;
    let status = response.status().as_u16();
    let body = response
        .bytes()
        .await
        .map_err(|error| YoutubeError::Transport(error.without_url().to_string()))?;
    if (200..300).contains(&status) {
        Ok(body.to_vec())
    } else {
        Err(parse_error(status, &body))
    }
}

/// The Data API for one signed-in account.
#[derive(Clone)]
pub struct DataApi {
    http: reqwest::Client,
    base: String,
    tokens: Arc<RotatingTokens>,
    quota: Arc<Mutex<QuotaPlanner>>,
    clock: WallClock,
}

impl std::fmt::Debug for DataApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataApi")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl DataApi {
    /// A client for `base` (`https://www.googleapis.com/youtube/v3`), charging `quota`.
    pub fn new(
        base: &str,
        tokens: Arc<RotatingTokens>,
        quota: Arc<Mutex<QuotaPlanner>>,
        clock: WallClock,
        timeout: Duration,
    ) -> DataApi {
        let http = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .timeout(timeout)
            .build()
            .unwrap_or_default();
        DataApi {
            http,
            base: base.trim_end_matches('/').to_owned(),
            tokens,
            quota,
            clock,
        }
    }

    fn charge(&self, method: ApiMethod) {
        let now = self.clock.now();
        if let Ok(mut quota) = self.quota.lock() {
            let costs = quota.costs();
            let units = match method {
                ApiMethod::BroadcastsList => costs.broadcasts_list,
                ApiMethod::MessagesList => costs.messages_list,
                ApiMethod::MessagesInsert => costs.messages_insert,
                ApiMethod::VideosList => costs.videos_list,
                ApiMethod::ChannelsList => costs.channels_list,
            };
            quota.spend(units, now);
        }
    }

    /// Sends a request; returns the body of a 2xx answer. Every answered request is
    /// charged (Google charges even invalid ones) except a 401, which is refused
    /// before the API runs, and a `quotaExceeded` refusal.
    pub async fn call(
        &self,
        method: ApiMethod,
        verb: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> Result<Vec<u8>, YoutubeError> {
        let mut token = self.tokens.access();
        let mut refreshed = false;
        loop {
            let mut request = self
                .http
                .request(verb.clone(), format!("{}{path}", self.base))
                .query(query)
                .bearer_auth(token.expose_secret());
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request
                .send()
                .await
                .map_err(|error| YoutubeError::Transport(error.without_url().to_string()))?;
            let status = response.status().as_u16();
            let bytes = response.bytes().await;
            if status != 401 {
                // The request reached the API: it costs whether or not the body arrives.
                let refused_for_quota = status >= 400
                    && bytes.as_ref().is_ok_and(|bytes| {
                        matches!(parse_error(status, bytes), YoutubeError::QuotaExceeded(_))
                    });
                if !refused_for_quota {
                    self.charge(method);
                }
            }
            let bytes =
                bytes.map_err(|error| YoutubeError::Transport(error.without_url().to_string()))?;
            match status {
                200..=299 => return Ok(bytes.to_vec()),
                401 if !refreshed => {
                    tracing::info!(path, "YouTube answered 401; refreshing the token once");
                    token = self
                        .tokens
                        .refresh(&token)
                        .await
                        .map_err(|error| match error {
                            RefreshError::AuthRequired(reason) => {
                                YoutubeError::AuthRequired(reason)
                            }
                            RefreshError::Transport(reason) => YoutubeError::Transport(reason),
                        })?;
                    refreshed = true;
                }
                401 => {
                    return Err(YoutubeError::AuthRequired(format!(
                        "YouTube refuses the refreshed token: {}",
                        match parse_error(status, &bytes) {
                            YoutubeError::AuthRequired(message) => message,
                            other => other.to_string(),
                        }
                    )));
                }
                _ => return Err(parse_error(status, &bytes)),
            }
        }
    }

    /// The channel's live broadcasts (`broadcastStatus=active`; `mine` must not be
    /// combined with it: the filters are mutually exclusive).
    pub async fn active_broadcasts(&self) -> Result<Vec<Broadcast>, YoutubeError> {
        let body = self
            .call(
                ApiMethod::BroadcastsList,
                Method::GET,
                "/liveBroadcasts",
                &[("part", "id,snippet,status"), ("broadcastStatus", "active")],
                None,
            )
            .await?;
        parse_broadcasts(&body)
    }

    /// One page of a live chat, from `page_token` (history when `None`). Asks for the
    /// largest page (2,000) so a busy chat drains in as few paid calls as possible.
    pub async fn messages(
        &self,
        live_chat_id: &str,
        page_token: Option<&str>,
    ) -> Result<MessagePage, YoutubeError> {
        let mut query = vec![
            ("liveChatId", live_chat_id),
            ("part", "id,snippet,authorDetails"),
            ("maxResults", "2000"),
        ];
        if let Some(token) = page_token {
            query.push(("pageToken", token));
        }
        let body = self
            .call(
                ApiMethod::MessagesList,
                Method::GET,
                "/liveChat/messages",
                &query,
                None,
            )
            .await?;
        parse_page(&body)
    }

    /// Posts `text` to the live chat; returns the new message's id.
    pub async fn insert_message(
        &self,
        live_chat_id: &str,
        text: &str,
    ) -> Result<String, YoutubeError> {
        let body = json!({"snippet": {
            "liveChatId": live_chat_id,
            "type": "textMessageEvent",
            "textMessageDetails": {"messageText": text},
        }});
        let answer = self
            .call(
                ApiMethod::MessagesInsert,
                Method::POST,
                "/liveChat/messages",
                &[("part", "snippet")],
                Some(&body),
            )
            .await?;
        let inserted: Inserted = serde_json::from_slice(&answer).unwrap_or_default();
        Ok(inserted.id.unwrap_or_default())
    }

    /// The broadcast's concurrent viewers, when YouTube shows them.
    pub async fn concurrent_viewers(&self, video_id: &str) -> Result<Option<u64>, YoutubeError> {
        let body = self
            .call(
                ApiMethod::VideosList,
                Method::GET,
                "/videos",
                &[("part", "liveStreamingDetails"), ("id", video_id)],
                None,
            )
            .await?;
        parse_viewers(&body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_error_bodies_are_read_by_reason() {
        let quota = br#"{"error":{"code":403,"message":"The request cannot be completed because you have exceeded your quota.","errors":[{"message":"The request cannot be completed because you have exceeded your quota.","domain":"youtube.quota","reason":"quotaExceeded"}]}}"#;
        assert!(matches!(
            parse_error(403, quota),
            YoutubeError::QuotaExceeded(message) if message.contains("exceeded your quota")
        ));
        let ended = br#"{"error":{"code":403,"message":"The live chat is no longer live.","errors":[{"domain":"youtube.liveChat","reason":"liveChatEnded"}]}}"#;
        assert_eq!(parse_error(403, ended), YoutubeError::ChatEnded);
        assert!(matches!(
            parse_error(502, b"<html>bad gateway</html>"),
            YoutubeError::Unavailable { status: 502, .. }
        ));
        assert!(matches!(
            parse_error(400, br#"{"error":{"code":400,"message":"m","errors":[{"reason":"invalidPageToken"}]}}"#),
            YoutubeError::Api { reason, .. } if reason == "invalidPageToken"
        ));
    }

    #[test]
    fn viewers_are_a_string_holding_a_number() {
        let body = br#"{"items":[{"id":"v","liveStreamingDetails":{"concurrentViewers":"1234","activeLiveChatId":"c"}}]}"#;
        assert_eq!(parse_viewers(body).unwrap(), Some(1234));
        assert_eq!(
            parse_viewers(br#"{"items":[{"id":"v","liveStreamingDetails":{}}]}"#).unwrap(),
            None
        );
        assert_eq!(parse_viewers(br#"{"items":[]}"#).unwrap(), None);
    }
}
