//! `ObsError`, what every request of the OBS client can fail with.

use std::time::Duration;

/// Why an OBS request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObsError {
    /// There is no identified session right now (OBS closed, restarting, not reachable);
    /// the client keeps reconnecting by itself.
    #[error("OBS is not connected")]
    NotConnected,
    /// OBS refused the password (close 4009 AuthenticationFailed), or asks for one and
    /// none is configured. The client does not retry until the password changes or a
    /// long pause has passed.
    #[error(
        "OBS refused the password (or needs one and none is set): check obs-websocket's \
         server password and set it with `roadie secrets set obs.password`"
    )]
    WrongPassword,
    /// The connection dropped before OBS answered.
    #[error("the connection to OBS was lost before it answered {request_type}")]
    ConnectionLost {
        /// The request.
        request_type: String,
    },
    /// OBS did not answer in time.
    #[error("OBS did not answer {request_type} within {timeout:?}")]
    Timeout {
        /// The request.
        request_type: String,
        /// The configured limit.
        timeout: Duration,
    },
    /// OBS answered with `requestStatus.result` false.
    #[error("OBS refused the request (code {code}): {comment}")]
    Request {
        /// `requestStatus.code`, e.g. 600 ResourceNotFound, 500 OutputRunning.
        code: u32,
        /// OBS's comment, or the name of the code when OBS gave none.
        comment: String,
    },
    /// OBS answered, but without the data the request promises.
    #[error("OBS answered {request_type} without the expected data: {detail}")]
    UnexpectedResponse {
        /// The request.
        request_type: String,
        /// What was missing.
        detail: String,
    },
    /// The client was shut down.
    #[error("the OBS client is shut down")]
    ShutDown,
}

/// The protocol's name of a `requestStatus.code`.
pub(crate) fn status_name(code: u32) -> &'static str {
    match code {
        100 => "Success",
        203 => "MissingRequestType",
        204 => "UnknownRequestType",
        205 => "GenericError",
        206 => "UnsupportedRequestBatchExecutionType",
        207 => "NotReady",
        300 => "MissingRequestField",
        301 => "MissingRequestData",
        400 => "InvalidRequestField",
        401 => "InvalidRequestFieldType",
        402 => "RequestFieldOutOfRange",
        403 => "RequestFieldEmpty",
        404 => "TooManyRequestFields",
        500 => "OutputRunning",
        501 => "OutputNotRunning",
        502 => "OutputPaused",
        503 => "OutputNotPaused",
        504 => "OutputDisabled",
        505 => "StudioModeActive",
        506 => "StudioModeNotActive",
        600 => "ResourceNotFound",
        601 => "ResourceAlreadyExists",
        602 => "InvalidResourceType",
        603 => "NotEnoughResources",
        604 => "InvalidResourceState",
        605 => "InvalidInputKind",
        606 => "ResourceNotConfigurable",
        607 => "InvalidFilterKind",
        700 => "ResourceCreationFailed",
        701 => "ResourceActionFailed",
        702 => "RequestProcessingFailed",
        703 => "CannotAct",
        _ => "unknown status",
    }
}
