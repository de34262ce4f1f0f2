//! Roadie's OAuth base, shared by every platform: `TokenSet`, PKCE (S256) and `state`
//! generation, the loopback callback server with its "Connected" and error pages, the
//! device code flow (RFC 8628, with Twitch's and Google's quirks), refresh with
//! rotation, and revocation. Platform specifics (endpoints, scopes, validation) live
//! in the adapters; this crate only speaks OAuth.
//!
//! Token material is only ever a `Secret`; `TokenSet` serialises itself for the
//! keystore and nowhere else.

mod callback;
mod device;
mod error;
mod flow;
mod pkce;
mod rotating;
mod token;

pub use callback::{Authorized, CallbackServer};
pub use device::{DeviceAuthorization, DeviceFlavor, DevicePoller};
pub use error::OAuthError;
pub use flow::{Client, ClientCredentials, authorize_url, post_form};
pub use pkce::{Pkce, new_state};
pub use rotating::{RefreshError, RotatingTokens, TokenStore};
pub use token::{TokenResponse, TokenSet};
