//! Commands, points and scripts over the API: list, add and remove commands, the dry
//! run, config-as-code export and import, balances, gives, takes and links, and
//! one-off script runs in the sandbox.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

use roadie_protocol::{
    ActionInfo, ActionRun, ActionRunResult, AutomationDocument, CommandInfo, CommandTest,
    CommandTestResult, CommandUpsert, ImportSummary, PointsAdjust, PointsBalance, PointsLink,
    ScriptTest, ScriptTestResult,
};

use super::{ApiError, AppState};
use crate::automation::{AutomationError, CommandsError, PointsApiError};

impl From<AutomationError> for ApiError {
    fn from(error: AutomationError) -> Self {
        match error {
            AutomationError::BadRequest(message) => ApiError::bad_request(message),
            AutomationError::NotFound(message) => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
            }
            AutomationError::Store(error) => ApiError::internal("the database failed", &error),
        }
    }
}

impl From<CommandsError> for ApiError {
    fn from(error: CommandsError) -> Self {
        match error {
            CommandsError::Document(problems) => {
                let lines: Vec<String> = problems
                    .iter()
                    .map(|problem| {
                        let path = if problem.path.is_empty() {
                            String::new()
                        } else {
                            format!("{}: ", problem.path)
                        };
                        format!(
                            "line {}, column {}: {path}{}",
                            problem.line, problem.column, problem.message
                        )
                    })
                    .collect();
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_document",
                    lines.join("\n"),
                )
            }
            CommandsError::Other(error) => error.into(),
        }
    }
}

impl From<PointsApiError> for ApiError {
    fn from(error: PointsApiError) -> Self {
        match error {
            PointsApiError::UnknownViewer(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "unknown_viewer", error.to_string())
            }
            PointsApiError::Ambiguous { .. } | PointsApiError::BadName(_) => {
                ApiError::bad_request(error.to_string())
            }
            PointsApiError::Refused(_) => {
                ApiError::new(StatusCode::CONFLICT, "refused", error.to_string())
            }
            PointsApiError::Store(error) => ApiError::internal("the database failed", &error),
        }
    }
}

fn body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(value)| value)
        .map_err(|rejection| ApiError::bad_request(rejection.body_text()))
}

/// Every chat command with its counter.
#[utoipa::path(get, path = "/api/v1/commands", security(("bearer" = [])), responses((status = 200, body = Vec<CommandInfo>)))]
pub async fn list_commands(State(state): State<AppState>) -> Json<Vec<CommandInfo>> {
    Json(state.automation.list_commands())
}

/// Adds a command or replaces the one with that name (its counter is kept).
#[utoipa::path(post, path = "/api/v1/commands", security(("bearer" = [])), request_body = CommandUpsert,
    responses((status = 200, body = CommandInfo), (status = 400, body = roadie_protocol::ErrorBody)))]
pub async fn upsert_command(
    State(state): State<AppState>,
    request: Result<Json<CommandUpsert>, JsonRejection>,
) -> Result<Json<CommandInfo>, ApiError> {
    Ok(Json(state.automation.upsert_command(body(request)?).await?))
}

/// Removes a command (`!name`; the `!` may be left out).
#[utoipa::path(delete, path = "/api/v1/commands/{name}", security(("bearer" = [])),
    params(("name" = String, Path, description = "the command, e.g. !so")),
    responses((status = 204), (status = 404, body = roadie_protocol::ErrorBody)))]
pub async fn remove_command(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let name = if name.starts_with('!') {
        name
    } else {
        format!("!{name}")
    };
    if state.automation.remove_command(&name).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("there is no command {name}"),
        ))
    }
}

/// What Roadie would answer to a chat line; nothing is sent or counted.
#[utoipa::path(post, path = "/api/v1/commands/test", security(("bearer" = [])), request_body = CommandTest,
    responses((status = 200, body = CommandTestResult), (status = 400, body = roadie_protocol::ErrorBody)))]
pub async fn test_command(
    State(state): State<AppState>,
    request: Result<Json<CommandTest>, JsonRejection>,
) -> Result<Json<CommandTestResult>, ApiError> {
    Ok(Json(state.automation.test_command(body(request)?).await?))
}

/// Commands and timers as a TOML document.
#[utoipa::path(get, path = "/api/v1/commands/export", security(("bearer" = [])), responses((status = 200, body = AutomationDocument)))]
pub async fn export_commands(
    State(state): State<AppState>,
) -> Result<Json<AutomationDocument>, ApiError> {
    Ok(Json(AutomationDocument {
        toml: state.automation.export_commands().await?,
    }))
}

/// Replaces every command and timer with a TOML document's, checked whole first.
#[utoipa::path(post, path = "/api/v1/commands/import", security(("bearer" = [])), request_body = AutomationDocument,
    responses((status = 200, body = ImportSummary), (status = 400, body = roadie_protocol::ErrorBody)))]
pub async fn import_commands(
    State(state): State<AppState>,
    request: Result<Json<AutomationDocument>, JsonRejection>,
) -> Result<Json<ImportSummary>, ApiError> {
    let document = body(request)?;
    Ok(Json(
        state.automation.import_commands(&document.toml).await?,
    ))
}

/// Runs a script once in the sandbox; nothing it asks for takes effect.
#[utoipa::path(post, path = "/api/v1/scripts/test", security(("bearer" = [])), request_body = ScriptTest,
    responses((status = 200, body = ScriptTestResult), (status = 400, body = roadie_protocol::ErrorBody)))]
pub async fn test_script(
    State(state): State<AppState>,
    request: Result<Json<ScriptTest>, JsonRejection>,
) -> Result<Json<ScriptTestResult>, ApiError> {
    Ok(Json(state.automation.test_script(body(request)?).await?))
}

/// `?limit=` for the leaderboard.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct TopQuery {
    /// How many (default 10, at most 100).
    limit: Option<usize>,
}

/// The highest balances.
#[utoipa::path(get, path = "/api/v1/points", security(("bearer" = [])), params(TopQuery),
    responses((status = 200, body = Vec<PointsBalance>)))]
pub async fn top(
    State(state): State<AppState>,
    Query(query): Query<TopQuery>,
) -> Result<Json<Vec<PointsBalance>>, ApiError> {
    let limit = query.limit.unwrap_or(10).clamp(1, 100);
    Ok(Json(state.automation.top(limit).await?))
}

/// A viewer's balance (`platform:login` or a bare login).
#[utoipa::path(get, path = "/api/v1/points/{user}", security(("bearer" = [])),
    params(("user" = String, Path, description = "platform:login or login")),
    responses((status = 200, body = PointsBalance), (status = 404, body = roadie_protocol::ErrorBody)))]
pub async fn balance(
    State(state): State<AppState>,
    Path(user): Path<String>,
) -> Result<Json<PointsBalance>, ApiError> {
    Ok(Json(state.automation.balance(&user).await?))
}

/// Gives (positive amount) or takes (negative) points.
#[utoipa::path(post, path = "/api/v1/points/adjust", security(("bearer" = [])), request_body = PointsAdjust,
    responses((status = 200, body = PointsBalance), (status = 404, body = roadie_protocol::ErrorBody), (status = 409, body = roadie_protocol::ErrorBody)))]
pub async fn adjust(
    State(state): State<AppState>,
    request: Result<Json<PointsAdjust>, JsonRejection>,
) -> Result<Json<PointsBalance>, ApiError> {
    let request = body(request)?;
    Ok(Json(
        state
            .automation
            .adjust(&request.user, request.amount, request.reason)
            .await?,
    ))
}

/// Links two viewers' accounts into one balance.
#[utoipa::path(post, path = "/api/v1/points/link", security(("bearer" = [])), request_body = PointsLink,
    responses((status = 200, body = PointsBalance), (status = 404, body = roadie_protocol::ErrorBody)))]
pub async fn link(
    State(state): State<AppState>,
    request: Result<Json<PointsLink>, JsonRejection>,
) -> Result<Json<PointsBalance>, ApiError> {
    let request = body(request)?;
    Ok(Json(
        state
            .automation
            .link(&request.first, &request.second)
            .await?,
    ))
}

/// Every action.
#[utoipa::path(get, path = "/api/v1/actions", security(("bearer" = [])), responses((status = 200, body = Vec<ActionInfo>)))]
pub async fn list_actions(State(state): State<AppState>) -> Json<Vec<ActionInfo>> {
    Json(state.automation.list_actions())
}

/// Runs an action by name and answers when it finished.
#[utoipa::path(post, path = "/api/v1/actions/{name}/run", security(("bearer" = [])), request_body = ActionRun,
    params(("name" = String, Path, description = "the action")),
    responses((status = 200, body = ActionRunResult), (status = 404, body = roadie_protocol::ErrorBody)))]
pub async fn run_action(
    State(state): State<AppState>,
    Path(name): Path<String>,
    request: Result<Json<ActionRun>, JsonRejection>,
) -> Result<Json<ActionRunResult>, ApiError> {
    let request = body(request)?;
    Ok(Json(
        state
            .automation
            .run_action_by_name(&name, request.user, request.input)
            .await?,
    ))
}

/// The actions as a TOML document.
#[utoipa::path(get, path = "/api/v1/actions/export", security(("bearer" = [])), responses((status = 200, body = AutomationDocument)))]
pub async fn export_actions(State(state): State<AppState>) -> Json<AutomationDocument> {
    Json(AutomationDocument {
        toml: state.automation.export_actions(),
    })
}

/// Replaces every action with a TOML document's, checked whole first.
#[utoipa::path(post, path = "/api/v1/actions/import", security(("bearer" = [])), request_body = AutomationDocument,
    responses((status = 200, body = ImportSummary), (status = 400, body = roadie_protocol::ErrorBody)))]
pub async fn import_actions(
    State(state): State<AppState>,
    request: Result<Json<AutomationDocument>, JsonRejection>,
) -> Result<Json<ImportSummary>, ApiError> {
    let document = body(request)?;
    Ok(Json(state.automation.import_actions(&document.toml).await?))
}
