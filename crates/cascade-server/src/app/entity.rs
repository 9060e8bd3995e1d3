//! The Mastodon JSON shapes Cascade returns. Only this module knows them: the shape is a
//! promise to existing clients, so it lives in one place. Ids are strings, times RFC 3339.

use std::sync::Arc;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;

#[derive(Debug, Clone, Serialize)]
pub struct Field {
    pub name: String,
    pub value: String,
    pub verified_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub id: String,
    pub username: String,
    pub acct: String,
    pub display_name: String,
    pub locked: bool,
    pub bot: bool,
    pub discoverable: bool,
    pub indexable: bool,
    pub group: bool,
    pub hide_collections: bool,
    pub noindex: bool,
    pub created_at: String,
    pub note: String,
    pub url: String,
    pub uri: String,
    pub avatar: String,
    pub avatar_static: String,
    pub header: String,
    pub header_static: String,
    pub followers_count: i64,
    pub following_count: i64,
    pub statuses_count: i64,
    pub last_status_at: Option<String>,
    pub emojis: Vec<Value>,
    pub roles: Vec<Value>,
    pub fields: Vec<Field>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Value>,
    /// Cascade's extension: present while the account is away (out of office).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cascade_away: Option<AwayNotice>,
    /// Present (and true) only for a suspended account, as in Mastodon.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspended: Option<bool>,
    /// The account this one moved to (ActivityPub `Move`), where the endpoint shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moved: Option<Box<Account>>,
}

/// What a profile shows of an away period: the message and when it ends.
#[derive(Debug, Clone, Serialize)]
pub struct AwayNotice {
    pub message: String,
    pub ends_at: String,
}

/// An away period (`/api/v1/cascade/away`).
#[derive(Debug, Clone, Serialize)]
pub struct Away {
    pub id: String,
    pub message: String,
    pub starts_at: String,
    pub ends_at: String,
    /// Whether the period is under way now (it may start later).
    pub active: bool,
}

/// A Web Push subscription, as Mastodon renders it.
#[derive(Debug, Clone, Serialize)]
pub struct WebPushSubscription {
    pub id: String,
    pub endpoint: String,
    pub standard: bool,
    pub alerts: std::collections::BTreeMap<String, bool>,
    pub server_key: String,
    pub policy: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Source {
    pub privacy: String,
    pub sensitive: bool,
    pub language: Option<String>,
    pub note: String,
    pub fields: Vec<Field>,
    pub follow_requests_count: i64,
    pub hide_collections: bool,
    pub discoverable: bool,
    pub indexable: bool,
    pub quote_policy: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Mention {
    pub id: String,
    pub username: String,
    pub acct: String,
    pub url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tag {
    pub name: String,
    pub url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Application {
    pub name: String,
    pub website: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuoteApproval {
    pub automatic: &'static [&'static str],
    pub manual: &'static [&'static str],
    pub current_user: &'static str,
}

/// A quote as Mastodon 4.5 renders it. Inside a quoted status the nested quote is shallow
/// (an id only), so a chain of quotes cannot make a response unbounded.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Quote {
    Full {
        state: String,
        quoted_status: Option<Box<Status>>,
    },
    Shallow {
        state: String,
        quoted_status_id: Option<String>,
    },
}

/// A status as one viewer sees it: the fields every viewer sees alike, rendered once per
/// version of the status's record and shared (`common`, `account`), and the viewer's own
/// (marks, filters, what it may see of a reblog or quote). It reads as the common fields
/// (`Deref`) and serialises as Mastodon's one flat object, in Mastodon's key order.
#[derive(Debug, Clone)]
pub struct Status {
    pub common: Arc<SharedStatus>,
    /// The status's flag, or its author's media marked sensitive by a moderator.
    pub sensitive: bool,
    pub favourited: Option<bool>,
    pub reblogged: Option<bool>,
    pub muted: Option<bool>,
    pub bookmarked: Option<bool>,
    pub pinned: Option<bool>,
    pub filtered: Option<Vec<FilterResult>>,
    pub reblog: Option<Box<Status>>,
    pub account: Arc<Rendered<Account>>,
    /// The mentioned accounts that still exist.
    pub mentions: Vec<Mention>,
    pub poll: Option<Value>,
    pub quote: Option<Quote>,
    pub quote_approval: QuoteApproval,
    /// Cascade's extension: view counts, for those allowed to see them, and whether the
    /// status is an automatic reply. Clients that do not know it ignore it.
    pub cascade: Option<StatusExtension>,
    /// The source text, only in the response to a delete (for "delete and redraft").
    pub text: Option<String>,
}

impl std::ops::Deref for Status {
    type Target = StatusCommon;

    fn deref(&self) -> &StatusCommon {
        &self.common.fields
    }
}

impl Serialize for Status {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let j = &self.common.json;
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("id", &j.id)?;
        m.serialize_entry("created_at", &j.created_at)?;
        m.serialize_entry("in_reply_to_id", &j.in_reply_to_id)?;
        m.serialize_entry("in_reply_to_account_id", &j.in_reply_to_account_id)?;
        m.serialize_entry("sensitive", &self.sensitive)?;
        m.serialize_entry("spoiler_text", &j.spoiler_text)?;
        m.serialize_entry("visibility", &j.visibility)?;
        m.serialize_entry("language", &j.language)?;
        m.serialize_entry("uri", &j.uri)?;
        m.serialize_entry("url", &j.url)?;
        m.serialize_entry("replies_count", &j.replies_count)?;
        m.serialize_entry("reblogs_count", &j.reblogs_count)?;
        m.serialize_entry("favourites_count", &j.favourites_count)?;
        m.serialize_entry("quotes_count", &j.quotes_count)?;
        m.serialize_entry("edited_at", &j.edited_at)?;
        for (key, mark) in [
            ("favourited", self.favourited),
            ("reblogged", self.reblogged),
            ("muted", self.muted),
            ("bookmarked", self.bookmarked),
            ("pinned", self.pinned),
        ] {
            if let Some(mark) = mark {
                m.serialize_entry(key, &mark)?;
            }
        }
        m.serialize_entry("content", &j.content)?;
        if let Some(filtered) = &self.filtered {
            m.serialize_entry("filtered", filtered)?;
        }
        m.serialize_entry("reblog", &self.reblog)?;
        m.serialize_entry("application", &j.application)?;
        m.serialize_entry("account", &*self.account)?;
        m.serialize_entry("media_attachments", &j.media_attachments)?;
        m.serialize_entry("mentions", &self.mentions)?;
        m.serialize_entry("tags", &j.tags)?;
        m.serialize_entry("emojis", &j.emojis)?;
        m.serialize_entry("card", &j.card)?;
        m.serialize_entry("poll", &self.poll)?;
        m.serialize_entry("quote", &self.quote)?;
        m.serialize_entry("quote_approval", &self.quote_approval)?;
        if let Some(cascade) = &self.cascade {
            m.serialize_entry("cascade", cascade)?;
        }
        if let Some(text) = &self.text {
            m.serialize_entry("text", text)?;
        }
        m.end()
    }
}

/// The fields of a status that every viewer sees alike: they depend on its record (and
/// its attachments and tags), the instance's custom emojis and its configuration only.
#[derive(Debug, Clone, Serialize)]
pub struct StatusCommon {
    pub id: String,
    pub created_at: String,
    pub in_reply_to_id: Option<String>,
    pub in_reply_to_account_id: Option<String>,
    pub spoiler_text: String,
    pub visibility: String,
    pub language: Option<String>,
    pub uri: String,
    pub url: Option<String>,
    pub replies_count: i64,
    pub reblogs_count: i64,
    pub favourites_count: i64,
    pub quotes_count: i64,
    pub edited_at: Option<String>,
    pub content: String,
    pub application: Option<Application>,
    pub media_attachments: Vec<MediaAttachment>,
    pub tags: Vec<Tag>,
    pub emojis: Vec<Value>,
    pub card: Option<Value>,
}

/// `StatusCommon` with each field's JSON, serialised once: a response that shows the
/// status copies these bytes between the viewer's own fields. One piece per field, not
/// one for all, because a JSON object cannot be spliced from fragments through serde.
#[derive(Debug)]
pub struct SharedStatus {
    pub fields: StatusCommon,
    json: CommonJson,
    bytes: usize,
}

#[derive(Debug)]
struct CommonJson {
    id: Box<RawValue>,
    created_at: Box<RawValue>,
    in_reply_to_id: Box<RawValue>,
    in_reply_to_account_id: Box<RawValue>,
    spoiler_text: Box<RawValue>,
    visibility: Box<RawValue>,
    language: Box<RawValue>,
    uri: Box<RawValue>,
    url: Box<RawValue>,
    replies_count: Box<RawValue>,
    reblogs_count: Box<RawValue>,
    favourites_count: Box<RawValue>,
    quotes_count: Box<RawValue>,
    edited_at: Box<RawValue>,
    content: Box<RawValue>,
    application: Box<RawValue>,
    media_attachments: Box<RawValue>,
    tags: Box<RawValue>,
    emojis: Box<RawValue>,
    card: Box<RawValue>,
}

impl SharedStatus {
    pub fn new(fields: StatusCommon) -> SharedStatus {
        let f = &fields;
        let json = CommonJson {
            id: raw(&f.id),
            created_at: raw(&f.created_at),
            in_reply_to_id: raw(&f.in_reply_to_id),
            in_reply_to_account_id: raw(&f.in_reply_to_account_id),
            spoiler_text: raw(&f.spoiler_text),
            visibility: raw(&f.visibility),
            language: raw(&f.language),
            uri: raw(&f.uri),
            url: raw(&f.url),
            replies_count: raw(&f.replies_count),
            reblogs_count: raw(&f.reblogs_count),
            favourites_count: raw(&f.favourites_count),
            quotes_count: raw(&f.quotes_count),
            edited_at: raw(&f.edited_at),
            content: raw(&f.content),
            application: raw(&f.application),
            media_attachments: raw(&f.media_attachments),
            tags: raw(&f.tags),
            emojis: raw(&f.emojis),
            card: raw(&f.card),
        };
        let j = &json;
        let bytes = [
            &j.id,
            &j.created_at,
            &j.in_reply_to_id,
            &j.in_reply_to_account_id,
            &j.spoiler_text,
            &j.visibility,
            &j.language,
            &j.uri,
            &j.url,
            &j.replies_count,
            &j.reblogs_count,
            &j.favourites_count,
            &j.quotes_count,
            &j.edited_at,
            &j.content,
            &j.application,
            &j.media_attachments,
            &j.tags,
            &j.emojis,
            &j.card,
        ]
        .iter()
        .map(|r| 2 * r.get().len())
        .sum::<usize>()
            + std::mem::size_of::<SharedStatus>();
        SharedStatus {
            fields,
            json,
            bytes,
        }
    }

    /// The bytes kept, for the cache's budget: the JSON, and about as much again in
    /// the fields.
    pub fn weight(&self) -> usize {
        self.bytes
    }
}

/// A value's JSON. The entities here always serialise (no maps with other than string
/// keys); `null` stands in should one ever not.
fn raw<T: Serialize + ?Sized>(value: &T) -> Box<RawValue> {
    serde_json::value::to_raw_value(value).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

/// A value kept with its JSON, so that every response that shows it copies the bytes
/// instead of serialising it again (`app::rendered` keeps them per record). It reads as
/// the value and serialises as the JSON.
#[derive(Debug)]
pub struct Rendered<T> {
    value: T,
    json: Box<RawValue>,
}

impl<T: Serialize> Rendered<T> {
    pub fn new(value: T) -> Rendered<T> {
        let json = raw(&value);
        Rendered { value, json }
    }

    /// The bytes kept, for the cache's budget.
    pub fn weight(&self) -> usize {
        2 * self.json.get().len() + std::mem::size_of::<Self>()
    }
}

impl<T> std::ops::Deref for Rendered<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> Serialize for Rendered<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.json.serialize(serializer)
    }
}

/// `Status.cascade`: the view counts (when the viewer may see them) and the automatic
/// mark (on automatic replies), each key present only when it applies.
#[derive(Debug, Clone, Serialize)]
pub struct StatusExtension {
    #[serde(flatten)]
    pub stats: Option<StatusStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automatic: Option<bool>,
    /// Why the status stands where it does in the ranked home feed (only there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ranking: Option<Ranking>,
}

impl StatusExtension {
    /// The extension, or `None` when it would be empty.
    pub fn new(stats: Option<StatusStats>, automatic: bool) -> Option<StatusExtension> {
        (stats.is_some() || automatic).then(|| StatusExtension {
            stats,
            automatic: automatic.then_some(true),
            ranking: None,
        })
    }
}

/// `Status.cascade.ranking`: a ranked home feed entry's score and what explains it.
#[derive(Debug, Clone, Serialize)]
pub struct Ranking {
    /// The order of the feed: relative engagement × time decay.
    pub score: f64,
    /// Weighted engagement per account of audience, smoothed towards a prior rate.
    pub relative_engagement: f64,
    /// The accounts the post reached: the author's followers, or more when reshares took
    /// it further.
    pub audience: i64,
    pub favourites: i64,
    pub reblogs: i64,
    pub quotes: i64,
    pub replies: i64,
    /// Hours since the entry reached the timeline.
    pub age_hours: f64,
    /// Set when the entry is a reshare by someone the viewer follows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reshared_by: Option<String>,
    /// A sentence for people.
    pub explanation: String,
}

/// How often a status was shown: `views` counts impressions, `reach` estimates the
/// distinct signed-in accounts that saw it.
#[derive(Debug, Clone, Serialize)]
pub struct StatusStats {
    pub views: i64,
    pub reach: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusEdit {
    pub content: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub created_at: String,
    pub account: Account,
    pub media_attachments: Vec<MediaAttachment>,
    pub emojis: Vec<Value>,
    pub poll: Option<Value>,
}

/// A media attachment as Mastodon renders it. `url` is `null` while video or audio is
/// still being processed.
#[derive(Debug, Clone, Serialize)]
pub struct MediaAttachment {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub url: Option<String>,
    pub preview_url: Option<String>,
    pub remote_url: Option<String>,
    pub preview_remote_url: Option<String>,
    pub text_url: Option<String>,
    /// `original` and `small` (width, height, size, aspect; duration and fps for video),
    /// and `focus` when set.
    pub meta: Value,
    pub description: Option<String>,
    pub blurhash: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusSource {
    pub id: String,
    pub text: String,
    pub spoiler_text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Context {
    pub ancestors: Vec<Status>,
    pub descendants: Vec<Status>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Relationship {
    pub id: String,
    pub following: bool,
    pub showing_reblogs: bool,
    pub notifying: bool,
    pub languages: Option<Vec<String>>,
    pub followed_by: bool,
    pub blocking: bool,
    pub blocked_by: bool,
    pub muting: bool,
    pub muting_notifications: bool,
    pub muting_expires_at: Option<String>,
    pub requested: bool,
    pub requested_by: bool,
    pub domain_blocking: bool,
    pub endorsed: bool,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FamiliarFollowers {
    pub id: String,
    pub accounts: Vec<Account>,
}

/// A hashtag featured on a profile, with its author's use of it (Mastodon sends the count
/// as a string).
#[derive(Debug, Clone, Serialize)]
pub struct FeaturedTag {
    pub id: String,
    pub name: String,
    pub url: String,
    pub statuses_count: String,
    /// The day of the author's latest public or unlisted status with the tag.
    pub last_status_at: Option<String>,
}

/// A status waiting for its time (`app::scheduled`).
#[derive(Debug, Clone, Serialize)]
pub struct ScheduledStatus {
    pub id: String,
    pub scheduled_at: String,
    pub params: serde_json::Value,
    pub media_attachments: Vec<serde_json::Value>,
}

/// A poll as one viewer sees it.
#[derive(Debug, Clone, Serialize)]
pub struct Poll {
    pub id: String,
    pub expires_at: Option<String>,
    pub expired: bool,
    pub multiple: bool,
    pub votes_count: i64,
    /// Distinct voters; `null` for a single-choice poll, as in Mastodon.
    pub voters_count: Option<i64>,
    pub options: Vec<PollOption>,
    pub emojis: Vec<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voted: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub own_votes: Option<Vec<i64>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PollOption {
    pub title: String,
    /// `null` while the totals are hidden.
    pub votes_count: Option<i64>,
}

/// An announcement from the administrators, as one user sees it.
#[derive(Debug, Clone, Serialize)]
pub struct Announcement {
    pub id: String,
    pub content: String,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub all_day: bool,
    pub published: bool,
    pub published_at: String,
    pub updated_at: String,
    /// Whether the user dismissed it.
    pub read: bool,
    pub mentions: Vec<Mention>,
    pub statuses: Vec<serde_json::Value>,
    pub tags: Vec<Tag>,
    pub emojis: Vec<serde_json::Value>,
    pub reactions: Vec<Reaction>,
}

/// An emoji reaction to an announcement (Unicode emoji only: there are no custom emoji).
#[derive(Debug, Clone, Serialize)]
pub struct Reaction {
    pub name: String,
    pub count: i64,
    pub me: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct List {
    pub id: String,
    pub title: String,
    pub replies_policy: String,
    pub exclusive: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Token {
    pub access_token: String,
    pub token_type: String,
    pub scope: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Application2 {
    pub id: String,
    pub name: String,
    pub website: Option<String>,
    pub scopes: Vec<String>,
    pub redirect_uri: String,
    pub redirect_uris: Vec<String>,
    pub vapid_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<i64>,
}

/// Cascade's extension entity: how a status spread (`GET /api/v1/statuses/:id/cascade`).
#[derive(Debug, Clone, Serialize)]
pub struct Cascade {
    /// The original status at the root of the cascade.
    pub root: Status,
    /// The page that draws it.
    pub url: String,
    /// The root first, then every reshare, parents before children.
    pub nodes: Vec<CascadeNode>,
    pub stats: CascadeStats,
    /// SEISMIC's estimate of where the cascade is heading.
    pub prediction: Option<CascadePrediction>,
}

/// SEISMIC (Zhao et al. 2015): the post's infectiousness so far and the final number of
/// reshares it implies, with an interval; `null` finals mean the cascade is supercritical
/// (each reshare leads to more than one more), so no finite size is predicted.
#[derive(Debug, Clone, Serialize)]
pub struct CascadePrediction {
    pub at: String,
    pub infectiousness: f64,
    pub infectiousness_lower: f64,
    pub infectiousness_upper: f64,
    pub final_reshares: Option<f64>,
    pub final_reshares_lower: Option<f64>,
    pub final_reshares_upper: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CascadeNode {
    pub id: String,
    pub parent_id: Option<String>,
    /// `root`, `reblog` or `quote`.
    pub kind: String,
    pub account_id: String,
    pub acct: String,
    pub created_at: String,
    pub depth: u32,
    /// The resharer's follower count when it reshared.
    pub followers_count: i64,
    /// Accounts this node exposed the cascade to that no earlier node had; `null` until
    /// the background job has counted them.
    pub exposed: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CascadeStats {
    pub size: usize,
    pub reblogs: usize,
    pub quotes: usize,
    pub depth: u32,
    pub max_breadth: usize,
    /// Nodes at each depth, the root's first.
    pub breadth: Vec<usize>,
    /// Mean shortest-path distance between all pairs of nodes (Goel et al. 2016).
    pub structural_virality: f64,
    /// Distinct accounts the cascade was exposed to (followers of its nodes).
    pub reach: i64,
    /// Nodes whose exposure is not counted yet.
    pub reach_pending: usize,
    /// The root's view counts, for those who may see them.
    pub views: Option<StatusStats>,
    pub amplifiers: Vec<CascadeAmplifier>,
    pub over_time: CascadeSeries,
}

#[derive(Debug, Clone, Serialize)]
pub struct CascadeAmplifier {
    pub account_id: String,
    pub acct: String,
    /// The account's avatar (uploaded, or its generated one).
    pub avatar: String,
    /// Reshares made directly through this account's reshares (its children in the tree).
    pub reshares: u64,
    pub reshare_share: f64,
    /// Accounts this account's own reshares newly reached.
    pub reach: i64,
    pub reach_share: f64,
    /// Everything below this account's reshares: all reshares in their subtrees, and the
    /// accounts those reached.
    pub subtree_reshares: u64,
    pub subtree_reach: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CascadeSeries {
    pub start: String,
    pub bucket_seconds: i64,
    pub reshares: Vec<u64>,
    /// Views per bucket, for those who may see view counts.
    pub views: Option<Vec<u64>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub group_key: String,
    pub created_at: String,
    pub account: Arc<Rendered<Account>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

/// Mastodon 4.3's notification group (v2).
#[derive(Debug, Clone, Serialize)]
pub struct NotificationGroup {
    pub group_key: String,
    pub notifications_count: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub most_recent_notification_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_min_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_max_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_page_notification_at: Option<String>,
    pub sample_account_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_id: Option<String>,
}

/// An account reduced to what an avatar row needs (`expand_accounts=partial_avatars`).
#[derive(Debug, Clone, Serialize)]
pub struct PartialAccount {
    pub id: String,
    pub acct: String,
    pub url: String,
    pub avatar: String,
    pub avatar_static: String,
    pub locked: bool,
    pub bot: bool,
}

/// The body of `/api/v2/notifications`: groups with the accounts and statuses they cite.
#[derive(Debug, Clone, Serialize)]
pub struct GroupedNotifications {
    pub accounts: Vec<Account>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial_accounts: Option<Vec<PartialAccount>>,
    pub statuses: Vec<Status>,
    pub notification_groups: Vec<NotificationGroup>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicySummary {
    pub pending_requests_count: i64,
    pub pending_notifications_count: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct NotificationPolicy {
    pub for_not_following: String,
    pub for_not_followers: String,
    pub for_new_accounts: String,
    pub for_private_mentions: String,
    pub for_limited_accounts: String,
    pub summary: PolicySummary,
}

#[derive(Debug, Clone, Serialize)]
pub struct NotificationRequest {
    pub id: String,
    pub created_at: String,
    pub updated_at: String,
    pub account: Account,
    /// A string, as Mastodon sends it.
    pub notifications_count: String,
    pub last_status: Option<Status>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Conversation {
    pub id: String,
    pub unread: bool,
    pub accounts: Vec<Account>,
    pub last_status: Option<Status>,
}

/// A hashtag as `/api/v1/tags` shows it, with a week of daily use.
#[derive(Debug, Clone, Serialize)]
pub struct Hashtag {
    pub id: String,
    pub name: String,
    pub url: String,
    pub history: Vec<TagHistory>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub following: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub featuring: Option<bool>,
}

/// A trending link (`/api/v1/trends/links`): Mastodon's `PreviewCard` with a history.
#[derive(Debug, Clone, Serialize)]
pub struct TrendsLink {
    pub url: String,
    pub title: String,
    pub description: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub author_name: String,
    pub author_url: String,
    pub authors: Vec<Value>,
    pub provider_name: String,
    pub provider_url: String,
    pub html: String,
    pub width: i64,
    pub height: i64,
    pub image: Option<String>,
    pub embed_url: String,
    pub blurhash: Option<String>,
    pub history: Vec<TagHistory>,
}

/// One day of a hashtag's use; every value is a string, as in Mastodon.
#[derive(Debug, Clone, Serialize)]
pub struct TagHistory {
    pub day: String,
    pub uses: String,
    pub accounts: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub id: String,
    pub action_taken: bool,
    pub action_taken_at: Option<String>,
    pub category: String,
    pub comment: String,
    pub forwarded: bool,
    pub created_at: String,
    pub status_ids: Vec<String>,
    pub rule_ids: Vec<String>,
    pub target_account: Account,
}

/// What `/api/v2/search` returns: matches of each kind, empty for the kinds not asked.
#[derive(Debug, Clone, Serialize)]
pub struct Search {
    pub accounts: Vec<Account>,
    pub statuses: Vec<Status>,
    pub hashtags: Vec<Hashtag>,
}

/// `Suggestion` (v2): an account to follow, why in Mastodon's words (`sources`), and
/// why in Cascade's (`cascade`).
#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    /// Mastodon's deprecated single reason.
    pub source: &'static str,
    pub sources: Vec<&'static str>,
    pub account: Account,
    pub cascade: SuggestionExtension,
}

/// `Suggestion.cascade`: the candidate's sources (`follows_you`, `friends_of_friends`,
/// `popular_in_your_interests`), the interest overlap that explains it, and the rank.
#[derive(Debug, Clone, Serialize)]
pub struct SuggestionExtension {
    pub reasons: Vec<&'static str>,
    pub score: f64,
    /// The cosine of the two accounts' interests, 0 to 1.
    pub overlap: f64,
    /// Shared hashtags (with `#`) and words, the heaviest first.
    pub shared_interests: Vec<String>,
    /// Accounts the user follows that follow this one.
    pub mutuals: i64,
}

/// The follow-back rule (`/api/v1/cascade/follow_back`).
#[derive(Debug, Clone, Serialize)]
pub struct FollowBackRule {
    pub enabled: bool,
    pub min_overlap: f64,
}

/// A brand watch (`/api/v1/cascade/watches`, a Cascade extension): terms as normalized.
#[derive(Debug, Clone, Serialize)]
pub struct Watch {
    pub id: String,
    pub name: String,
    pub keywords: Vec<String>,
    pub hashtags: Vec<String>,
    /// Whether statuses mentioning the owner match.
    pub mentions: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// An item of the unanswered queue: a status the owner has neither replied to nor
/// dismissed, how long it has waited, and why it is there.
#[derive(Debug, Clone, Serialize)]
pub struct UnansweredItem {
    /// The status's id (the paging key, and the id to dismiss).
    pub id: String,
    pub age_seconds: i64,
    /// Whether the status mentions the owner.
    pub mention: bool,
    /// The owner's watches it matched.
    pub watch_ids: Vec<String>,
    pub status: Status,
}

/// Response times over a window; the percentiles are `null` when nothing was answered.
#[derive(Debug, Clone, Serialize)]
pub struct ResponseStats {
    pub items: usize,
    pub answered: usize,
    pub unanswered: usize,
    pub median_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WatchResponseStats {
    pub watch_id: String,
    pub name: String,
    #[serde(flatten)]
    pub stats: ResponseStats,
}

/// `/api/v1/cascade/watches/stats`: overall (all watches and mentions) and per watch.
#[derive(Debug, Clone, Serialize)]
pub struct WatchStats {
    pub since: String,
    pub until: String,
    pub overall: ResponseStats,
    pub watches: Vec<WatchResponseStats>,
}

/// A filter (`/api/v2/filters`). Inside a `FilterResult` it carries no `keywords` or
/// `statuses`, as in Mastodon.
#[derive(Debug, Clone, Serialize)]
pub struct Filter {
    pub id: String,
    pub title: String,
    pub context: Vec<String>,
    pub expires_at: Option<String>,
    pub filter_action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keywords: Option<Vec<FilterKeyword>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statuses: Option<Vec<FilterStatus>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FilterKeyword {
    pub id: String,
    pub keyword: String,
    pub whole_word: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct FilterStatus {
    pub id: String,
    pub status_id: String,
}

/// A filter that matched a status (`Status.filtered`).
#[derive(Debug, Clone, Serialize)]
pub struct FilterResult {
    pub filter: Filter,
    pub keyword_matches: Option<Vec<String>>,
    pub status_matches: Option<Vec<String>>,
}
