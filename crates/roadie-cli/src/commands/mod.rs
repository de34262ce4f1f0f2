//! One module per subcommand.

pub mod auth;
pub mod automation;
pub mod chat;
pub mod daemon;
pub mod events;
pub mod obs;
pub mod secrets;
pub mod status;
pub mod tts;
