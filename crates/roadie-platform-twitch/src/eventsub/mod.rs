//! EventSub over WebSocket: frames, normalisation, de-duplication.

pub mod dedup;
pub mod frame;
pub mod normalise;
pub mod session;

pub use dedup::DedupWindow;
pub use frame::{Frame, FrameError, Metadata, Session, SubscriptionInfo, parse_frame};
pub use normalise::{NormaliseError, Normaliser, SUBSCRIPTION_TYPES, parse_time};
pub use session::{SessionConfig, SessionUpdate, SubscriptionCreator};
