//! The bounds on everything a client controls that sizes work or memory, in one place and
//! named after what they bound, with Mastodon's number where it has one. Checking them is
//! the job of whoever parses the input (the HTTP parameters, `NewStatus::parse`, the use
//! cases); this module only names them, so SECURITY.md and the code cannot drift apart
//! unnoticed.

/// Brackets in one form or query key: `a[b][c]` is depth 3. Mastodon's deepest real
/// parameter (`data[alerts][mention]`, `fields_attributes[0][name]`) is 3; Rack allows 32.
pub const MAX_PARAM_DEPTH: usize = 8;
/// Parameters in one request (query and body together, counting every leaf value).
pub const MAX_PARAMS: usize = 1_000;
/// Bytes in one parameter name, brackets included.
pub const MAX_PARAM_KEY_BYTES: usize = 256;
/// Bytes in one parameter value. Mastodon's longest text fields (a status, a bio) are a
/// few thousand bytes at most; a megabyte value is never meant.
pub const MAX_PARAM_VALUE_BYTES: usize = 64 * 1024;

/// How far an `offset` (search, trends) may skip. Skipping costs as much as reading, so a
/// larger offset is refused rather than served slowly.
pub const MAX_OFFSET: usize = 10_000;

/// Bytes in a status's text. Characters are capped by `MAX_STATUS_CHARS`, but a URL counts
/// as 23 characters whatever its length, so without this a megabyte of URL is "short".
pub const MAX_STATUS_BYTES: usize = 16 * 1024;

/// Mentions of remote accounts we do not know yet that one post may make us look up (a
/// WebFinger request and an actor fetch each, `MENTION_LOOKUP_SECS` at most): the rest
/// stay text, as a mention no server answers for does in Mastodon.
pub const MAX_MENTION_LOOKUPS: usize = 5;
/// Seconds one unknown remote mention's lookup may take before it is given up.
pub const MENTION_LOOKUP_SECS: u64 = 5;

/// Characters in a display name (Mastodon: 30).
pub const MAX_DISPLAY_NAME_CHARS: usize = 30;
/// Characters in a bio (Mastodon: 500).
pub const MAX_NOTE_CHARS: usize = 500;
/// Profile fields (Mastodon: 4), and characters in each name and value (Mastodon: 255).
pub const MAX_PROFILE_FIELDS: usize = 4;
pub const MAX_PROFILE_FIELD_CHARS: usize = 255;
/// Characters in a list's title (Mastodon validates presence only; its column is a
/// string, 256 here as for filter titles).
pub const MAX_LIST_TITLE_CHARS: usize = 256;

pub use crate::filter::{
    MAX_KEYWORD_CHARS as MAX_FILTER_KEYWORD_CHARS, MAX_TITLE_CHARS as MAX_FILTER_TITLE_CHARS,
};
pub use crate::status::MAX_STATUS_CHARS;
pub use crate::watch::{MAX_KEYWORD_CHARS as MAX_WATCH_TERM_CHARS, MAX_TERMS as MAX_WATCH_TERMS};

/// Characters in a private note on an account (Mastodon: 2,000).
pub const MAX_ACCOUNT_NOTE_CHARS: usize = 2_000;
/// Hashtags featured on one profile (Mastodon: 10, `accounts.max_featured_tags`).
pub const MAX_FEATURED_TAGS: usize = 10;
/// Accounts endorsed on one profile. Mastodon sets no number; this bounds the list a
/// profile shows.
pub const MAX_ENDORSEMENTS: usize = 100;
/// Ids in one multi-fetch (`GET /api/v1/accounts?id[]=`, `GET /api/v1/statuses?id[]=`):
/// the largest page of accounts; more are refused, not cut.
pub const MAX_MULTI_FETCH_IDS: usize = 80;
/// Distinct reactions on one announcement (Mastodon: 8).
pub const MAX_ANNOUNCEMENT_REACTIONS: usize = 8;
/// Bytes in a reaction's name: one emoji, however many code points it joins.
pub const MAX_REACTION_BYTES: usize = 64;
/// Bytes of an uploaded avatar or header (Mastodon takes 2 MB at most; phones' photos are
/// larger, and they are scaled down here).
pub const MAX_PROFILE_IMAGE_BYTES: usize = 10 * 1024 * 1024;
