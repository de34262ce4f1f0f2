//! Roadie's text-to-speech: engines that turn text into WAV, a WAV checker, and the
//! TTS queue as a pure state machine.
//!
//! - [`engine`]: the [`Engine`] trait, [`EspeakEngine`] (the `espeak-ng` program),
//!   [`CommandEngine`] (any program that writes WAV: Piper and the like) and
//!   [`probe`], which finds the configured engine or says how to install it.
//!   Programs are run directly, never through a shell, under a time limit.
//! - [`wav`]: a small RIFF/WAVE parser: format, duration and level, tolerant of
//!   streaming headers and odd chunk layouts, never panicking on any input.
//! - [`queue`]: [`TtsQueue`], the queue with filters, limits, per-user voices, skip,
//!   pause and resume. No I/O and no clock: time comes in with each request, and
//!   every transition returns the events to emit as data.
//! - [`filter`]: the text filters the queue applies (links, repeated characters,
//!   banned words), usable on their own for previews.

pub mod engine;
pub mod error;
pub mod filter;
pub mod queue;
pub mod wav;

pub use engine::{
    BoxFuture, CommandConfig, CommandEngine, Engine, EngineConfig, EspeakConfig, EspeakEngine,
    Voice, probe,
};
pub use error::{EngineMissing, TtsError};
pub use queue::{
    BannedAction, FilterChange, Item, ItemId, OverLength, QueueConfig, RateLimit, Refusal, Request,
    SkipReason, Speaker, TtsEvent, TtsQueue,
};
pub use wav::{Level, SampleFormat, Wav, WavError, WavInfo};
