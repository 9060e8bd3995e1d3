//! Use cases: plain async functions taking `&AppState`. They validate through
//! `cascade-core`, read and write through the store, and return domain records or
//! rendered Mastodon entities. Handlers call exactly one of them.

pub mod accounts;
pub mod cascade;
pub mod notifications;
pub mod records;
pub mod render;
pub mod statuses;
pub mod timelines;
pub mod viewer;
pub mod views;
pub mod virality;

pub use viewer::Viewer;
