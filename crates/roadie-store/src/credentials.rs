//! Metadata of OAuth credentials. The tokens themselves are in the keystore, under
//! `keystore_key`; this table never holds token material.

use rusqlite::{Connection, params};

use roadie_core::{Platform, Timestamp};

use crate::StoreError;

/// One connected account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OauthCredential {
    /// Twitch, Kick or YouTube (never Roadie).
    pub platform: Platform,
    /// The platform's account id.
    pub account_id: String,
    /// The account's login (it can change; the id does not).
    pub account_login: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// When the access token expires, if known.
    pub expires_at: Option<Timestamp>,
    /// The keystore key holding the token set.
    pub keystore_key: String,
}

impl OauthCredential {
    pub(crate) fn validate(&self) -> Result<(), StoreError> {
        if self.platform == Platform::Roadie {
            return Err(StoreError::Invalid {
                field: "platform",
                reason: "must be twitch, kick or youtube".into(),
            });
        }
        if self.account_id.is_empty() {
            return Err(StoreError::Invalid {
                field: "account_id",
                reason: "must not be empty".into(),
            });
        }
        if self.keystore_key.is_empty() {
            return Err(StoreError::Invalid {
                field: "keystore_key",
                reason: "must not be empty".into(),
            });
        }
        if let Some(bad) = self.scopes.iter().find(|scope| {
            scope.is_empty() || scope.contains(',') || scope.contains(char::is_whitespace)
        }) {
            return Err(StoreError::Invalid {
                field: "scopes",
                reason: format!("{bad:?} is not a scope"),
            });
        }
        Ok(())
    }
}

pub(crate) fn upsert(
    connection: &Connection,
    credential: &OauthCredential,
    now_ms: i64,
) -> Result<(), StoreError> {
    connection.execute(
        "INSERT INTO oauth_credentials
             (platform, account_id, account_login, scopes, expires_at_ms, keystore_key, created_at_ms, updated_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
         ON CONFLICT (platform, account_id) DO UPDATE SET
             account_login = excluded.account_login, scopes = excluded.scopes,
             expires_at_ms = excluded.expires_at_ms, keystore_key = excluded.keystore_key,
             updated_at_ms = excluded.updated_at_ms",
        params![
            credential.platform.as_str(),
            credential.account_id,
            credential.account_login,
            credential.scopes.join(","),
            credential.expires_at.map(Timestamp::unix_ms),
            credential.keystore_key,
            now_ms,
        ],
    )?;
    Ok(())
}

pub(crate) fn delete(
    connection: &Connection,
    platform: Platform,
    account_id: &str,
) -> Result<bool, StoreError> {
    let removed = connection.execute(
        "DELETE FROM oauth_credentials WHERE platform = ?1 AND account_id = ?2",
        params![platform.as_str(), account_id],
    )?;
    Ok(removed > 0)
}

pub(crate) fn all(connection: &Connection) -> Result<Vec<OauthCredential>, StoreError> {
    let mut statement = connection.prepare_cached(
        "SELECT platform, account_id, account_login, scopes, expires_at_ms, keystore_key
         FROM oauth_credentials ORDER BY platform, account_id",
    )?;
    let rows = statement.query_map([], |row| {
        let platform_text: String = row.get(0)?;
        let scopes_text: String = row.get(3)?;
        Ok((
            platform_text,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            scopes_text,
            row.get::<_, Option<i64>>(4)?,
            row.get::<_, String>(5)?,
        ))
    })?;
    let mut credentials = Vec::new();
    for row in rows {
        let (platform_text, account_id, account_login, scopes_text, expires_at_ms, keystore_key) =
            row?;
        let platform = platform_text
            .parse::<Platform>()
            .map_err(|error| StoreError::Invalid {
                field: "platform",
                reason: error.to_string(),
            })?;
        let scopes = scopes_text
            .split(',')
            .filter(|scope| !scope.is_empty())
            .map(str::to_owned)
            .collect();
        credentials.push(OauthCredential {
            platform,
            account_id,
            account_login,
            scopes,
            expires_at: expires_at_ms.map(Timestamp),
            keystore_key,
        });
    }
    Ok(credentials)
}
