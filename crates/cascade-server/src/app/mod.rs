//! Use cases: plain async functions taking `&AppState`. They validate through
//! `cascade-core`, read and write through the store, and return domain records or
//! rendered Mastodon entities. Handlers call exactly one of them.

pub mod accounts;
pub mod admin;
pub mod announcements;
pub mod annual;
pub mod away;
pub mod cascade;
pub mod clock;
pub mod conversations;
pub mod dashboard;
pub mod delivery;
pub mod emojis;
pub mod entity;
pub mod fanout;
pub mod federation;
pub mod feeds;
pub mod filters;
pub mod instance;
pub mod lists;
pub mod media;
pub mod notifications;
pub mod polls;
pub mod profiles;
pub mod push;
pub mod ranked;
pub mod records;
pub mod render;
pub mod rendered;
pub mod reports;
pub mod scheduled;
pub mod search;
pub mod spam;
pub mod statuses;
pub mod stream;
pub mod suggestions;
pub mod tags;
pub mod timelines;
pub mod tokens;
pub mod trends;
pub mod viewer;
pub mod views;
pub mod virality;
pub mod watch;

pub use viewer::Viewer;
