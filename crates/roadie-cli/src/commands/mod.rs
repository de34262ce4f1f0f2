//! One module per subcommand.

pub mod daemon;
pub mod events;
pub mod secrets;
pub mod status;
