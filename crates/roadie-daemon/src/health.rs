//! The health board: each component's state, shown by `GET /api/v1/status`.

use std::collections::BTreeMap;
use std::sync::RwLock;

use roadie_protocol::{ComponentHealth, ComponentState, timefmt};

/// Shared, cheap-to-update component states.
#[derive(Debug, Default)]
pub struct HealthBoard {
    components: RwLock<BTreeMap<String, ComponentHealth>>,
}

impl HealthBoard {
    /// Records a component's state; `since` changes only when the state does.
    pub fn set(&self, name: &str, state: ComponentState, detail: impl Into<String>) {
        let detail = detail.into();
        let Ok(mut components) = self.components.write() else {
            return;
        };
        let since = match components.get(name) {
            Some(previous) if previous.state == state => previous.since.clone(),
            _ => timefmt::format_ms(roadie_store::now_ms()),
        };
        components.insert(
            name.to_owned(),
            ComponentHealth {
                name: name.to_owned(),
                state,
                detail,
                since,
            },
        );
    }

    /// Every component, by name.
    pub fn snapshot(&self) -> Vec<ComponentHealth> {
        self.components
            .read()
            .map(|components| components.values().cloned().collect())
            .unwrap_or_default()
    }
}
