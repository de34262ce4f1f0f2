//! EventSub over WebSocket: frames, normalisation, de-duplication.

pub mod frame;
pub mod normalise;
pub mod session;

pub use frame::{Frame, FrameError, Metadata, Session, SubscriptionInfo, parse_frame};
pub use normalise::{NormaliseError, Normaliser, SUBSCRIPTION_TYPES, parse_time};
pub use roadie_platform::DedupWindow;
pub use session::{SessionConfig, SessionUpdate, SubscriptionCreator};
