//! A typed async client for Roadie's local API, used by the CLI, tests and tools.

use futures_util::StreamExt;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use roadie_protocol::{
    Account, AuthStatus, AuthorizeRequest, AuthorizeUrl, ChatSend, ChatSent, CodeExchange,
    CustomEvent, DeviceInstructions, ErrorBody, EventEnvelope, EventHistory, Health, LoggedOut,
    PublishRequest, Published, SecretChanged, SecretValue, Status,
};
use roadie_protocol::{
    ActionInfo, ActionRun, ActionRunResult, AutomationDocument, CommandInfo, CommandTest,
    CommandTestResult, CommandUpsert, ImportSummary, PointsAdjust, PointsBalance, PointsLink,
    ScriptTest, ScriptTestResult,
};
use roadie_protocol::{ObsInfo, ObsOutputChange, ObsSceneChange, ObsSourceChange, ObsSourceShown};
use roadie_protocol::{TtsQueueInfo, TtsQueued, TtsSay};

/// What a call to the daemon can end in.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing answers at the address: the daemon is not running.
    #[error(
        "the roadie daemon is not running (nothing answers at {address}); start it with `roadie daemon`"
    )]
    Unreachable {
        /// The address tried.
        address: String,
    },
    /// The daemon answered with an error.
    #[error("{message} ({code}, HTTP {status})")]
    Api {
        /// HTTP status.
        status: u16,
        /// The error code.
        code: String,
        /// The message.
        message: String,
    },
    /// The answer was not what the API promises.
    #[error("unexpected answer from the daemon: {0}")]
    Protocol(String),
    /// The event stream was closed by the daemon.
    #[error("the daemon closed the event stream (code {code}): {reason}")]
    StreamClosed {
        /// WebSocket close code.
        code: u16,
        /// The daemon's reason.
        reason: String,
    },
}

impl ClientError {
    /// True when the daemon could not be reached at all.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, ClientError::Unreachable { .. })
    }
}

/// A connection to one daemon.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    address: String,
    token: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("address", &self.address)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl Client {
    /// A client for the daemon at `address` (`host:port`), authenticating with `token`.
    pub fn new(address: impl Into<String>, token: Option<String>) -> Client {
        let http = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(std::time::Duration::from_secs(2))
            .build()
            .unwrap_or_default();
        Client {
            http,
            address: address.into(),
            token,
        }
    }

    /// The daemon's address.
    pub fn address(&self) -> &str {
        &self.address
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let builder = self
            .http
            .request(method, format!("http://{}{path}", self.address));
        match &self.token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    async fn send(&self, builder: RequestBuilder) -> Result<reqwest::Response, ClientError> {
        builder.send().await.map_err(|error| {
            if error.is_connect() || error.is_timeout() {
                ClientError::Unreachable {
                    address: self.address.clone(),
                }
            } else {
                ClientError::Protocol(error.to_string())
            }
        })
    }

    async fn call<T: DeserializeOwned>(&self, builder: RequestBuilder) -> Result<T, ClientError> {
        let response = self.send(builder).await?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|error| ClientError::Protocol(error.to_string()))?;
        if status.is_success() {
            return serde_json::from_slice(&body)
                .map_err(|error| ClientError::Protocol(error.to_string()));
        }
        Err(api_error(status, &body))
    }

    /// Like [`Client::call`] for answers without a body (204).
    async fn call_empty(&self, builder: RequestBuilder) -> Result<(), ClientError> {
        let response = self.send(builder).await?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = response
            .bytes()
            .await
            .map_err(|error| ClientError::Protocol(error.to_string()))?;
        Err(api_error(status, &body))
    }

    /// `GET /api/v1/health`.
    pub async fn health(&self) -> Result<Health, ClientError> {
        self.call(self.request(Method::GET, "/api/v1/health")).await
    }

    /// `GET /api/v1/status`.
    pub async fn status(&self) -> Result<Status, ClientError> {
        self.call(self.request(Method::GET, "/api/v1/status")).await
    }

    /// `GET /api/v1/events/history`.
    pub async fn history(
        &self,
        types: &[String],
        since: Option<&str>,
        limit: Option<usize>,
    ) -> Result<EventHistory, ClientError> {
        let mut query: Vec<(&str, String)> =
            types.iter().map(|kind| ("type", kind.clone())).collect();
        if let Some(since) = since {
            query.push(("since", since.to_owned()));
        }
        if let Some(limit) = limit {
            query.push(("limit", limit.to_string()));
        }
        self.call(
            self.request(Method::GET, "/api/v1/events/history")
                .query(&query),
        )
        .await
    }

    /// `POST /api/v1/events`: publishes custom events, returns their ids once stored.
    pub async fn publish(&self, events: Vec<CustomEvent>) -> Result<Published, ClientError> {
        self.call(
            self.request(Method::POST, "/api/v1/events")
                .json(&PublishRequest::Many(events)),
        )
        .await
    }

    /// `PUT /api/v1/secrets/{key}`.
    pub async fn set_secret(&self, key: &str, value: String) -> Result<SecretChanged, ClientError> {
        self.call(
            self.request(Method::PUT, &format!("/api/v1/secrets/{key}"))
                .json(&SecretValue { value }),
        )
        .await
    }

    /// `DELETE /api/v1/secrets/{key}`.
    pub async fn delete_secret(&self, key: &str) -> Result<SecretChanged, ClientError> {
        self.call(self.request(Method::DELETE, &format!("/api/v1/secrets/{key}")))
            .await
    }

    /// `GET /api/v1/auth`.
    pub async fn auth_status(&self) -> Result<AuthStatus, ClientError> {
        self.call(self.request(Method::GET, "/api/v1/auth")).await
    }

    /// `POST /api/v1/auth/{platform}/import` with a platform's token answer (raw JSON).
    pub async fn auth_import(
        &self,
        platform: &str,
        token_json: Vec<u8>,
    ) -> Result<Account, ClientError> {
        let builder = self
            .request(Method::POST, &format!("/api/v1/auth/{platform}/import"))
            .header("content-type", "application/json")
            .body(token_json);
        self.call(builder).await
    }

    /// `POST /api/v1/auth/{platform}/authorize`.
    pub async fn auth_authorize(
        &self,
        platform: &str,
        request: &AuthorizeRequest,
    ) -> Result<AuthorizeUrl, ClientError> {
        self.call(
            self.request(Method::POST, &format!("/api/v1/auth/{platform}/authorize"))
                .json(request),
        )
        .await
    }

    /// `POST /api/v1/auth/{platform}/exchange`.
    pub async fn auth_exchange(
        &self,
        platform: &str,
        exchange: &CodeExchange,
    ) -> Result<Account, ClientError> {
        self.call(
            self.request(Method::POST, &format!("/api/v1/auth/{platform}/exchange"))
                .json(exchange),
        )
        .await
    }

    /// `POST /api/v1/auth/{platform}/device`.
    pub async fn auth_device(&self, platform: &str) -> Result<DeviceInstructions, ClientError> {
        self.call(self.request(Method::POST, &format!("/api/v1/auth/{platform}/device")))
            .await
    }

    /// `DELETE /api/v1/auth/{platform}`.
    pub async fn auth_logout(&self, platform: &str) -> Result<LoggedOut, ClientError> {
        self.call(self.request(Method::DELETE, &format!("/api/v1/auth/{platform}")))
            .await
    }

    /// `POST /api/v1/chat`.
    pub async fn chat_send(
        &self,
        platform: Option<&str>,
        text: &str,
    ) -> Result<ChatSent, ClientError> {
        let body = ChatSend {
            platform: platform.map(str::to_owned),
            text: text.to_owned(),
        };
        self.call(self.request(Method::POST, "/api/v1/chat").json(&body))
            .await
    }

    /// `GET /api/v1/commands`.
    pub async fn commands(&self) -> Result<Vec<CommandInfo>, ClientError> {
        self.call(self.request(Method::GET, "/api/v1/commands"))
            .await
    }

    /// `POST /api/v1/commands`.
    pub async fn command_upsert(
        &self,
        command: &CommandUpsert,
    ) -> Result<CommandInfo, ClientError> {
        self.call(self.request(Method::POST, "/api/v1/commands").json(command))
            .await
    }

    /// `DELETE /api/v1/commands/{name}`.
    pub async fn command_remove(&self, name: &str) -> Result<(), ClientError> {
        let path = format!("/api/v1/commands/{}", path_segment(name));
        self.call_empty(self.request(Method::DELETE, &path)).await
    }

    /// `POST /api/v1/commands/test`.
    pub async fn command_test(&self, test: &CommandTest) -> Result<CommandTestResult, ClientError> {
        self.call(
            self.request(Method::POST, "/api/v1/commands/test")
                .json(test),
        )
        .await
    }

    /// `GET /api/v1/commands/export`.
    pub async fn commands_export(&self) -> Result<AutomationDocument, ClientError> {
        self.call(self.request(Method::GET, "/api/v1/commands/export"))
            .await
    }

    /// `POST /api/v1/commands/import`.
    pub async fn commands_import(&self, toml: String) -> Result<ImportSummary, ClientError> {
        let body = AutomationDocument { toml };
        self.call(
            self.request(Method::POST, "/api/v1/commands/import")
                .json(&body),
        )
        .await
    }

    /// `POST /api/v1/scripts/test`.
    pub async fn script_test(&self, test: &ScriptTest) -> Result<ScriptTestResult, ClientError> {
        self.call(
            self.request(Method::POST, "/api/v1/scripts/test")
                .json(test),
        )
        .await
    }

    /// `GET /api/v1/points/{user}`.
    pub async fn points_balance(&self, user: &str) -> Result<PointsBalance, ClientError> {
        let path = format!("/api/v1/points/{}", path_segment(user));
        self.call(self.request(Method::GET, &path)).await
    }

    /// `GET /api/v1/points?limit=`.
    pub async fn points_top(&self, limit: usize) -> Result<Vec<PointsBalance>, ClientError> {
        self.call(
            self.request(Method::GET, "/api/v1/points")
                .query(&[("limit", limit)]),
        )
        .await
    }

    /// `POST /api/v1/points/adjust`.
    pub async fn points_adjust(&self, adjust: &PointsAdjust) -> Result<PointsBalance, ClientError> {
        self.call(
            self.request(Method::POST, "/api/v1/points/adjust")
                .json(adjust),
        )
        .await
    }

    /// `POST /api/v1/points/link`.
    pub async fn points_link(&self, link: &PointsLink) -> Result<PointsBalance, ClientError> {
        self.call(self.request(Method::POST, "/api/v1/points/link").json(link))
            .await
    }

    /// `GET /api/v1/actions`.
    pub async fn actions(&self) -> Result<Vec<ActionInfo>, ClientError> {
        self.call(self.request(Method::GET, "/api/v1/actions"))
            .await
    }

    /// `POST /api/v1/actions/{name}/run`.
    pub async fn action_run(
        &self,
        name: &str,
        run: &ActionRun,
    ) -> Result<ActionRunResult, ClientError> {
        let path = format!("/api/v1/actions/{}/run", path_segment(name));
        self.call(self.request(Method::POST, &path).json(run)).await
    }

    /// `GET /api/v1/actions/export`.
    pub async fn actions_export(&self) -> Result<AutomationDocument, ClientError> {
        self.call(self.request(Method::GET, "/api/v1/actions/export"))
            .await
    }

    /// `POST /api/v1/actions/import`.
    pub async fn actions_import(&self, toml: String) -> Result<ImportSummary, ClientError> {
        let body = AutomationDocument { toml };
        self.call(
            self.request(Method::POST, "/api/v1/actions/import")
                .json(&body),
        )
        .await
    }

    /// `GET /api/v1/obs`.
    pub async fn obs(&self) -> Result<ObsInfo, ClientError> {
        self.call(self.request(Method::GET, "/api/v1/obs")).await
    }

    /// `POST /api/v1/obs/scene`.
    pub async fn obs_scene(&self, scene: &str) -> Result<(), ClientError> {
        let body = ObsSceneChange {
            scene: scene.to_owned(),
        };
        self.call_empty(self.request(Method::POST, "/api/v1/obs/scene").json(&body))
            .await
    }

    /// `POST /api/v1/obs/source`.
    pub async fn obs_source(
        &self,
        change: &ObsSourceChange,
    ) -> Result<ObsSourceShown, ClientError> {
        self.call(
            self.request(Method::POST, "/api/v1/obs/source")
                .json(change),
        )
        .await
    }

    /// `POST /api/v1/obs/stream` or `/record` with `start` or `stop`.
    pub async fn obs_output(&self, output: &str, action: &str) -> Result<(), ClientError> {
        let body = ObsOutputChange {
            action: action.to_owned(),
        };
        let path = format!("/api/v1/obs/{}", path_segment(output));
        self.call_empty(self.request(Method::POST, &path).json(&body))
            .await
    }

    /// `GET /api/v1/tts`.
    pub async fn tts_queue(&self) -> Result<TtsQueueInfo, ClientError> {
        self.call(self.request(Method::GET, "/api/v1/tts")).await
    }

    /// `POST /api/v1/tts/say`.
    pub async fn tts_say(&self, text: &str, voice: Option<&str>) -> Result<TtsQueued, ClientError> {
        let body = TtsSay {
            text: text.to_owned(),
            voice: voice.map(str::to_owned),
        };
        self.call(self.request(Method::POST, "/api/v1/tts/say").json(&body))
            .await
    }

    /// `POST /api/v1/tts/{skip|pause|resume|clear}`.
    pub async fn tts_control(&self, action: &str) -> Result<(), ClientError> {
        let path = format!("/api/v1/tts/{}", path_segment(action));
        self.call_empty(self.request(Method::POST, &path)).await
    }

    /// Opens `GET /api/v1/events` as a WebSocket.
    pub async fn subscribe(
        &self,
        types: &[String],
        since: Option<&str>,
    ) -> Result<EventStream, ClientError> {
        let mut query: Vec<String> = types.iter().map(|kind| format!("type={kind}")).collect();
        if let Some(since) = since {
            query.push(format!("since={since}"));
        }
        let url = format!("ws://{}/api/v1/events?{}", self.address, query.join("&"));
        let mut request = url
            .into_client_request()
            .map_err(|error| ClientError::Protocol(error.to_string()))?;
        if let Some(token) = &self.token {
            let value = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|error| ClientError::Protocol(error.to_string()))?;
            request.headers_mut().insert("authorization", value);
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => Ok(EventStream { socket }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                let body = response.body().clone().unwrap_or_default();
                Err(api_error(
                    StatusCode::from_u16(response.status().as_u16())
                        .unwrap_or(StatusCode::BAD_GATEWAY),
                    &body,
                ))
            }
            Err(tokio_tungstenite::tungstenite::Error::Io(_)) => Err(ClientError::Unreachable {
                address: self.address.clone(),
            }),
            Err(error) => Err(ClientError::Protocol(error.to_string())),
        }
    }
}

fn api_error(status: StatusCode, body: &[u8]) -> ClientError {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(parsed) => ClientError::Api {
            status: status.as_u16(),
            code: parsed.error.code,
            message: parsed.error.message,
        },
        Err(_) => ClientError::Api {
            status: status.as_u16(),
            code: "unknown".into(),
            message: String::from_utf8_lossy(body).into_owned(),
        },
    }
}

/// A live event stream.
#[derive(Debug)]
pub struct EventStream {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl EventStream {
    /// The next envelope as raw JSON text; `None` when the daemon closed normally.
    pub async fn next_text(&mut self) -> Option<Result<String, ClientError>> {
        loop {
            let message = match self.socket.next().await? {
                Ok(message) => message,
                Err(error) => return Some(Err(ClientError::Protocol(error.to_string()))),
            };
            match message {
                Message::Text(text) => return Some(Ok(text.to_string())),
                Message::Close(Some(frame)) if frame.code != CloseCode::Normal => {
                    return Some(Err(ClientError::StreamClosed {
                        code: frame.code.into(),
                        reason: frame.reason.to_string(),
                    }));
                }
                Message::Close(_) => return None,
                _ => {}
            }
        }
    }

    /// The next envelope, parsed.
    pub async fn next_event(&mut self) -> Option<Result<EventEnvelope, ClientError>> {
        let text = match self.next_text().await? {
            Ok(text) => text,
            Err(error) => return Some(Err(error)),
        };
        Some(serde_json::from_str(&text).map_err(|error| ClientError::Protocol(error.to_string())))
    }

    /// Closes the stream politely.
    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

/// `text` as one URL path segment: everything but unreserved characters and `!`, `:`,
/// `@` percent-encoded.
fn path_segment(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~!:@".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_token() {
        let client = Client::new("127.0.0.1:1", Some("very-secret-token".into()));
        assert!(!format!("{client:?}").contains("very-secret-token"));
    }

    #[test]
    fn error_bodies_are_parsed() {
        let error = api_error(
            StatusCode::UNAUTHORIZED,
            br#"{"error":{"code":"unauthorized","message":"no"}}"#,
        );
        assert!(
            matches!(error, ClientError::Api { status: 401, ref code, .. } if code == "unauthorized")
        );
    }

    #[test]
    fn path_segments_keep_command_and_viewer_names_readable() {
        assert_eq!(path_segment("!so"), "!so");
        assert_eq!(path_segment("twitch:alice"), "twitch:alice");
        assert_eq!(path_segment("a b/c?"), "a%20b%2Fc%3F");
        assert_eq!(path_segment("ä"), "%C3%A4");
    }
}
