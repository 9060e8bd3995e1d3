//! Cascade's domain: identifiers, statuses and their text, visibility rules, timeline
//! paging and merging, and the fan-out policy.
//!
//! This crate does no IO: it has neither sqlx nor axum among its dependencies, so every
//! rule here can be tested as a plain function and reused by the store and the server.

pub mod activitypub;
pub mod breaker;
pub mod cascade;
pub mod coalesce;
pub mod filter;
pub mod hll;
pub mod id;
pub mod interests;
pub mod job;
pub mod limits;
pub mod media;
pub mod notification;
pub mod poll;
pub mod quota;
pub mod ranking;
pub mod seismic;
pub mod spam;
pub mod status;
pub mod text;
pub mod time;
pub mod timeline;
pub mod trends;
pub mod visibility;
pub mod watch;

pub use id::{Id, IdGenerator};
pub use job::JobKind;
pub use notification::NotificationKind;
pub use status::{NewStatus, StatusError, MAX_STATUS_CHARS};
pub use visibility::Visibility;
