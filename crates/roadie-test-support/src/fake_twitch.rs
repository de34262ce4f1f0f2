//! The whole fake Twitch: the OAuth provider, Helix (accepting the provider's live
//! tokens) and EventSub, each on its own 127.0.0.1 port, and the `[twitch]` config
//! section that points Roadie at them.

use crate::fake_eventsub::{FakeEventSub, FakeEventSubOptions};
use crate::fake_helix::FakeHelix;
use crate::fake_oauth::FakeOAuth;

/// The three fakes together.
#[derive(Debug)]
pub struct FakeTwitch {
    /// `id.twitch.tv/oauth2`.
    pub oauth: FakeOAuth,
    /// `api.twitch.tv/helix`.
    pub helix: FakeHelix,
    /// `eventsub.wss.twitch.tv/ws`.
    pub eventsub: FakeEventSub,
}

impl FakeTwitch {
    /// Starts all three.
    pub async fn start() -> FakeTwitch {
        let oauth = FakeOAuth::start().await;
        let helix = FakeHelix::start_linked(&oauth).await;
        let eventsub = FakeEventSub::start(FakeEventSubOptions::default()).await;
        FakeTwitch {
            oauth,
            helix,
            eventsub,
        }
    }

    /// A `[twitch]` config section for app `fake-client` pointing at the fakes.
    pub fn config_section(&self) -> String {
        format!(
            "[twitch]\nclient_id = \"fake-client\"\nauth_url = \"{}\"\nhelix_url = \"{}\"\neventsub_url = \"{}\"\n",
            self.oauth.base_url(),
            self.helix.base_url(),
            self.eventsub.url()
        )
    }
}
