//! How many of each thing one account (or one streaming connection) may have: every
//! collection a client grows that costs the server memory or work on every read.
//!
//! Mastodon's numbers where it has them; past a quota the server answers 422 with an error
//! that names it. Lengths of single values (titles, keywords, texts) live beside their
//! validation (`filter`, `watch`, `status`); brand watches' quotas are in `watch`.

/// Lists per account (Mastodon's `List::MAX_PER_ACCOUNT`).
pub const MAX_LISTS: usize = 50;
/// Content filters per account: each is matched against every status a timeline shows.
pub const MAX_FILTERS: usize = 100;
/// Keywords per content filter.
pub const MAX_FILTER_KEYWORDS: usize = 100;
/// Web Push subscriptions per account (one per access token): each notification costs
/// one outgoing request per subscription.
pub const MAX_PUSH_SUBSCRIPTIONS: usize = 50;
/// Streams one streaming connection may subscribe to at once.
pub const MAX_STREAM_SUBSCRIPTIONS: usize = 100;
/// Bytes of media attachments one account may store (every upload, attached or not),
/// unless the configuration says otherwise: past it an upload is a 422.
pub const MEDIA_BYTES_PER_ACCOUNT: u64 = 1024 * 1024 * 1024;
