//! The event bus: producers publish core events; the store's writer numbers and
//! commits them in batches; after each commit the envelopes are fanned out to every
//! subscriber. Order of ids = order of storage = order of delivery.

use std::borrow::Cow;
use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::broadcast;

use roadie_core::{Event, EventId};
use roadie_protocol::{envelope_json, event_data_json};
use roadie_store::{CommitHook, EventRow, NewEvent, Store, StoreError};

/// Fan-out capacity: a subscriber further behind than this is cut off.
pub const FANOUT_CAPACITY: usize = 8192;

/// One stored event, ready to send: its envelope JSON is built once for all subscribers.
#[derive(Debug, Clone)]
pub struct Frame {
    /// The event's id.
    pub id: EventId,
    /// Its type name.
    pub kind: Cow<'static, str>,
    /// The envelope JSON.
    pub json: Utf8Bytes,
}

impl Frame {
    /// Builds the frame for a stored row.
    pub fn from_row(row: &EventRow) -> Frame {
        let json = envelope_json(
            row.id.encode().as_str(),
            row.at_ms,
            &row.platform,
            &row.kind,
            &row.data_json,
        );
        Frame {
            id: row.id,
            kind: row.kind.clone(),
            json: Utf8Bytes::from(json),
        }
    }
}

/// Publishes events and hands out subscriptions.
#[derive(Debug, Clone)]
pub struct EventBus {
    store: Store,
    fanout: broadcast::Sender<Arc<Frame>>,
}

impl EventBus {
    /// The fan-out channel and the store hook that feeds it after each commit.
    pub fn fanout() -> (broadcast::Sender<Arc<Frame>>, CommitHook) {
        let (sender, _) = broadcast::channel(FANOUT_CAPACITY);
        let hook_sender = sender.clone();
        let hook: CommitHook = Box::new(move |rows: &[EventRow]| {
            for row in rows {
                // No subscribers is normal; the event is stored either way.
                let _ = hook_sender.send(Arc::new(Frame::from_row(row)));
            }
        });
        (sender, hook)
    }

    /// A bus over `store`, fanning out through `fanout` (from [`EventBus::fanout`]).
    pub fn new(store: Store, fanout: broadcast::Sender<Arc<Frame>>) -> EventBus {
        EventBus { store, fanout }
    }

    /// The store behind the bus.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Queues an event; it is stored and delivered with the writer's next batch.
    pub async fn publish(&self, event: &Event) -> Result<(), StoreError> {
        self.store.append_event(to_new_event(event)).await
    }

    /// Queues an event if the store's queue has room right now; gives it back, ready
    /// for [`EventBus::publish_prepared`], when the queue is full.
    pub fn try_publish(&self, event: &Event) -> Result<Option<NewEvent>, StoreError> {
        self.store.try_append_event(to_new_event(event))
    }

    /// Queues an event [`EventBus::try_publish`] gave back, waiting for room.
    pub async fn publish_prepared(&self, event: NewEvent) -> Result<(), StoreError> {
        self.store.append_event(event).await
    }

    /// Stores events in order and returns their ids once they are durable.
    pub async fn publish_acked(&self, events: &[Event]) -> Result<Vec<EventId>, StoreError> {
        self.store
            .append_events_acked(events.iter().map(to_new_event).collect())
            .await
    }

    /// A live subscription to everything stored from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Frame>> {
        self.fanout.subscribe()
    }

    /// How many subscribers are attached.
    pub fn subscriber_count(&self) -> usize {
        self.fanout.receiver_count()
    }
}

fn to_new_event(event: &Event) -> NewEvent {
    NewEvent {
        at_ms: event.at.unix_ms(),
        platform: event.platform,
        kind: event.kind.type_name(),
        data_json: event_data_json(&event.kind),
    }
}
