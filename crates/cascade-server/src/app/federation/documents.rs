//! The ActivityPub documents Cascade serves and sends: actors (`Person`, the instance's
//! `Application`), notes, the activities that carry them, and the collections with their
//! counts. Everything is rendered from records. What an anonymous visitor may not see
//! (private and direct statuses) is rendered only to be delivered to its audience
//! (`federation::status_created`), never to be served.

use cascade_core::activitypub::{self, PUBLIC};
use cascade_core::{time, Id, Visibility};
use cascade_store::{Account, StatusRecord};
use serde_json::{json, Value};

use super::{account_uri, instance_actor, keys, local_actor};
use crate::app::render;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The context of actors: ActivityStreams, the keys' security terms, and the terms
/// Mastodon adds, which a JSON-LD reader (Fedify) drops unless they are defined here.
fn actor_context() -> Value {
    json!([
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1",
        {
            "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
            "toot": "http://joinmastodon.org/ns#",
            "featured": { "@id": "toot:featured", "@type": "@id" },
            "discoverable": "toot:discoverable",
            "indexable": "toot:indexable",
            "alsoKnownAs": { "@id": "as:alsoKnownAs", "@type": "@id" },
        }
    ])
}

/// The context of activities and notes: ActivityStreams with Mastodon's `sensitive` and
/// its attachments' `blurhash` and `focalPoint`.
fn note_context() -> Value {
    json!([
        "https://www.w3.org/ns/activitystreams",
        {
            "sensitive": "as:sensitive",
            "Hashtag": "as:Hashtag",
            "toot": "http://joinmastodon.org/ns#",
            "blurhash": "toot:blurhash",
            "focalPoint": { "@container": "@list", "@id": "toot:focalPoint" },
        }
    ])
}

/// A local status's attachments as Mastodon sends them: a `Document` each, with its
/// media type, file URL, description (`name`), blurhash, size and focal point. One
/// still being processed has no file yet and is left out.
async fn attachments(state: &AppState, id: Id) -> ApiResult<Vec<Value>> {
    Ok(state
        .store
        .media_of(&[id])
        .await?
        .iter()
        .filter_map(|m| {
            let key = m.file_key.as_deref()?;
            let meta: Value = serde_json::from_str(&m.meta_json).unwrap_or_default();
            let original = &meta["original"];
            let mut doc = json!({
                "type": "Document",
                "mediaType": m.content_type,
                "url": crate::app::media::file_url(state, key),
                "name": (!m.description.is_empty()).then_some(&m.description),
                "blurhash": m.blurhash,
                "width": original.get("width"),
                "height": original.get("height"),
            });
            if let (Some(x), Some(y)) = (m.focus_x, m.focus_y) {
                doc["focalPoint"] = json!([x, y]);
            }
            if let Some(fields) = doc.as_object_mut() {
                fields.retain(|_, v| !v.is_null());
            }
            Some(doc)
        })
        .collect())
}

/// The local account `a` as a `Person`, with its public key (made on first need).
pub async fn person(state: &AppState, a: &Account) -> ApiResult<Value> {
    if a.domain.is_some() || a.suspended_at.is_some() {
        return Err(ApiError::NotFound);
    }
    let (public_pem, _) = keys(state, Some(a.id)).await?;
    let shown = render::account(state, a);
    let uri = local_actor(state, &a.username);
    // The accounts elsewhere this one says it also is: a Move from one of them to this
    // account is believed by its peers only when it is named here.
    let aliases = state.store.account_aliases(a.id).await?;
    let mut person = json!({
        "@context": actor_context(),
        "id": uri,
        "type": if a.bot { "Service" } else { "Person" },
        "preferredUsername": a.username,
        "name": a.display_name,
        "summary": a.note_html,
        "url": state.url(&format!("/@{}", a.username)),
        "inbox": format!("{uri}/inbox"),
        "outbox": format!("{uri}/outbox"),
        "followers": format!("{uri}/followers"),
        "following": format!("{uri}/following"),
        "featured": format!("{uri}/collections/featured"),
        "endpoints": { "sharedInbox": state.url("/inbox") },
        "manuallyApprovesFollowers": a.locked,
        "discoverable": a.discoverable,
        "indexable": a.discoverable,
        "published": format!("{}T00:00:00Z", time::date(a.created_at)),
        "publicKey": {
            "id": format!("{uri}#main-key"),
            "owner": uri,
            "publicKeyPem": public_pem,
        },
        "icon": { "type": "Image", "url": shown.avatar },
        "image": { "type": "Image", "url": shown.header },
    });
    if !aliases.is_empty() {
        person["alsoKnownAs"] = json!(aliases);
    }
    Ok(person)
}

/// The instance actor: an `Application` that signs the fetches made for no one account.
pub async fn application(state: &AppState) -> ApiResult<Value> {
    let (public_pem, _) = keys(state, None).await?;
    let uri = instance_actor(state);
    Ok(json!({
        "@context": actor_context(),
        "id": uri,
        "type": "Application",
        "preferredUsername": state.config.domain,
        "name": state.config.title,
        "url": state.url("/about"),
        "inbox": format!("{uri}/inbox"),
        "outbox": format!("{uri}/outbox"),
        "endpoints": { "sharedInbox": state.url("/inbox") },
        "manuallyApprovesFollowers": true,
        "publicKey": {
            "id": format!("{uri}#main-key"),
            "owner": uri,
            "publicKeyPem": public_pem,
        },
    }))
}

/// A local status's ActivityPub id.
pub fn status_uri(state: &AppState, author: &Account, id: Id) -> String {
    format!("{}/statuses/{id}", local_actor(state, &author.username))
}

/// Any status's ActivityPub id: a remote one's stored id, a local one's derived one.
pub async fn any_status_uri(state: &AppState, id: Id) -> ApiResult<Option<String>> {
    if let Some((uri, _)) = state.store.remote_status(id).await? {
        return Ok(Some(uri));
    }
    let Ok(s) = state.store.status(id).await else {
        return Ok(None);
    };
    let author = state.store.account(s.account_id).await?;
    Ok(Some(status_uri(state, &author, id)))
}

/// A local status as a `Note`. Callers decide who may see it.
pub async fn note(state: &AppState, s: &StatusRecord, author: &Account) -> ApiResult<Value> {
    let uri = status_uri(state, author, s.id);
    let actor = local_actor(state, &author.username);
    let mentioned_ids: Vec<Id> = state
        .store
        .mentions_of(&[s.id])
        .await?
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    let mentioned = state.store.accounts(&mentioned_ids).await?;
    let mention_uris: Vec<String> = mentioned.iter().map(|a| account_uri(state, a)).collect();
    let visibility = Visibility::from_code(s.visibility);
    let (to, cc) =
        activitypub::addressing(visibility, &format!("{actor}/followers"), &mention_uris);
    let mut tags: Vec<Value> = mentioned
        .iter()
        .map(|a| {
            let acct = match &a.domain {
                Some(d) => format!("@{}@{d}", a.username),
                None => format!("@{}@{}", a.username, state.config.domain),
            };
            json!({ "type": "Mention", "href": account_uri(state, a), "name": acct })
        })
        .collect();
    for (_, tag) in state.store.tags_of(&[s.id]).await? {
        tags.push(json!({
            "type": "Hashtag",
            "href": state.url(&format!("/tags/{tag}")),
            "name": format!("#{tag}"),
        }));
    }
    let in_reply_to = match s.in_reply_to_id {
        Some(parent) => any_status_uri(state, parent).await?,
        None => None,
    };
    let mut note = json!({
        "@context": note_context(),
        "id": uri,
        "type": "Note",
        "attributedTo": actor,
        "content": s.content_html,
        "summary": (!s.spoiler_text.is_empty()).then_some(&s.spoiler_text),
        "sensitive": s.sensitive,
        "inReplyTo": in_reply_to,
        "published": time::rfc3339(s.created_at),
        "updated": s.edited_at.map(time::rfc3339),
        "url": state.url(&format!("/@{}/{}", author.username, s.id)),
        "to": to,
        "cc": cc,
        "tag": tags,
        "attachment": attachments(state, s.id).await?,
        "contentMap": s.language.as_ref().map(|l| {
            let mut map = serde_json::Map::new();
            map.insert(l.clone(), json!(s.content_html));
            Value::Object(map)
        }),
    });
    // Absent rather than null: some peers read a null `summary` or `updated` as a value.
    if let Some(fields) = note.as_object_mut() {
        fields.retain(|_, v| !v.is_null());
    }
    Ok(note)
}

/// The `Create` of a note by `author`, addressed as the note is.
pub fn create(state: &AppState, author: &Account, note: Value) -> Value {
    let actor = local_actor(state, &author.username);
    json!({
        "@context": note_context(),
        "id": format!("{}/activity", note["id"].as_str().unwrap_or_default()),
        "type": "Create",
        "actor": actor,
        "published": note["published"].clone(),
        "to": note["to"].clone(),
        "cc": note["cc"].clone(),
        "object": note,
    })
}

/// The `Delete` of `author`'s status `id`, with a `Tombstone`.
pub fn delete(state: &AppState, author: &Account, id: Id) -> Value {
    let actor = local_actor(state, &author.username);
    let uri = status_uri(state, author, id);
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{uri}#delete"),
        "type": "Delete",
        "actor": actor,
        "to": [PUBLIC],
        "object": { "id": uri, "type": "Tombstone" },
    })
}

/// `follower`'s Follow of `target`. Its id names both and the moment, so an Accept that
/// only names the id still tells who followed whom.
pub fn follow(state: &AppState, follower: &Account, target: &Account, now: i64) -> Value {
    let actor = account_uri(state, follower);
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{actor}/follows/{}/{now}", target.id),
        "type": "Follow",
        "actor": actor,
        "object": account_uri(state, target),
    })
}

/// An `OrderedCollection` with its count and no pages: who and what it holds is not
/// listed yet, which Mastodon allows (it shows the count).
pub fn collection(id: String, total: i64) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": id,
        "type": "OrderedCollection",
        "totalItems": total.max(0),
    })
}

/// The id of the `Announce` that carries `reblogger`'s (local) reblog `id`: Mastodon's
/// shape, the reblog's own id followed by `/activity`.
pub fn announce_id(state: &AppState, reblogger: &Account, id: Id) -> String {
    format!("{}/activity", status_uri(state, reblogger, id))
}

/// `reblogger`'s `Announce` of the status `object` (by `original_author`), addressed as
/// Mastodon addresses a boost: as the reblog's visibility says, to the reblogger's
/// followers, with the original author in `cc`.
pub fn announce(
    state: &AppState,
    reblogger: &Account,
    reblog: &StatusRecord,
    object: &str,
    original_author: &str,
) -> Value {
    let actor = local_actor(state, &reblogger.username);
    let (to, cc) = activitypub::addressing(
        Visibility::from_code(reblog.visibility),
        &format!("{actor}/followers"),
        &[original_author.to_string()],
    );
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": announce_id(state, reblogger, reblog.id),
        "type": "Announce",
        "actor": actor,
        "published": time::rfc3339(reblog.created_at),
        "to": to,
        "cc": cc,
        "object": object,
    })
}

/// The id of `account`'s `Like` of the status `object`: one per account and status, so
/// that its `Undo` can name it again without a stored copy.
pub fn like_id(state: &AppState, account: &Account, status: Id) -> String {
    format!("{}#likes/{status}", account_uri(state, account))
}

/// `account`'s `Like` of the status whose id is `object`.
pub fn like(state: &AppState, account: &Account, status: Id, object: &str) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": like_id(state, account, status),
        "type": "Like",
        "actor": account_uri(state, account),
        "object": object,
    })
}

/// `account`'s `Block` of `target`; its id names the target, so that the `Undo` names it
/// again.
pub fn block(state: &AppState, account: &Account, target: &Account) -> Value {
    let actor = account_uri(state, account);
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{actor}#blocks/{}", target.id),
        "type": "Block",
        "actor": actor,
        "object": account_uri(state, target),
    })
}

/// The `Flag` forwarding a local report (`report`, its id) to the reported account's
/// server: from the instance actor, as Mastodon forwards reports, so the reporter stays
/// anonymous there; its object is the account's actor id and the reported statuses' ids.
pub fn flag(
    state: &AppState,
    report: Id,
    target: &str,
    statuses: &[String],
    comment: &str,
) -> Value {
    let actor = instance_actor(state);
    let mut object = vec![target.to_string()];
    object.extend(statuses.iter().cloned());
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{actor}#reports/{report}"),
        "type": "Flag",
        "actor": actor,
        "content": comment,
        "object": object,
    })
}

/// The `Undo` of `activity` (an Announce, Like, Block or Follow sent before) by its actor.
pub fn undo(activity: Value) -> Value {
    let actor = activity["actor"].clone();
    let mut object = activity;
    if let Some(fields) = object.as_object_mut() {
        fields.remove("@context");
    }
    let mut undo = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}#undo", object["id"].as_str().unwrap_or_default()),
        "type": "Undo",
        "actor": actor,
        "to": object.get("to").cloned().unwrap_or(Value::Null),
        "object": object,
    });
    if let Some(fields) = undo.as_object_mut() {
        fields.retain(|_, v| !v.is_null());
    }
    undo
}

/// The `Update` of `object` (an edited note, or an actor whose profile changed) by
/// `actor`, addressed as the object is (a person: to everyone). `at` (the edit's time)
/// makes each update's id its own.
pub fn update(actor: &str, object: Value, at: i64) -> Value {
    let to = object.get("to").cloned().unwrap_or_else(|| json!([PUBLIC]));
    let cc = object.get("cc").cloned().unwrap_or_else(|| json!([]));
    json!({
        "@context": note_context(),
        "id": format!("{}#updates/{at}", object["id"].as_str().unwrap_or_default()),
        "type": "Update",
        "actor": actor,
        "published": time::rfc3339(at),
        "to": to,
        "cc": cc,
        "object": object,
    })
}

/// A local actor's collection that lists its items, page by page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listed {
    /// The `Create` activities of its public and unlisted notes.
    Outbox,
    /// The actor ids of its followers.
    Followers,
    /// The actor ids of those it follows.
    Following,
}

impl Listed {
    fn path(self) -> &'static str {
        match self {
            Listed::Outbox => "outbox",
            Listed::Followers => "followers",
            Listed::Following => "following",
        }
    }
}

/// Items on one page of a listed collection.
pub const PAGE_ITEMS: usize = 20;

/// Where a collection page starts: below `max_id` (older), above `min_id` (newer), or
/// with neither the newest items.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cursor {
    pub max_id: Option<Id>,
    pub min_id: Option<Id>,
}

/// The local account `a`'s collection `kind`: without `page` an `OrderedCollection` with
/// its count and its `first` page, with it that `OrderedCollectionPage`, newest first, whose
/// `next` goes to older items and `prev` to newer ones. Cascade has no setting that hides
/// an account's network, so followers and following are always listed (as Mastodon does
/// by default). The outbox's count is the account's post count, private ones included,
/// as Mastodon's is; its items are only the public and unlisted posts.
pub async fn listed(
    state: &AppState,
    a: &Account,
    kind: Listed,
    page: Option<Cursor>,
) -> ApiResult<Value> {
    let id = format!("{}/{}", local_actor(state, &a.username), kind.path());
    let total = match kind {
        Listed::Outbox => a.statuses_count,
        Listed::Followers => a.followers_count,
        Listed::Following => a.following_count,
    }
    .max(0);
    let Some(cursor) = page else {
        return Ok(json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": id,
            "type": "OrderedCollection",
            "totalItems": total,
            "first": format!("{id}?page=true"),
        }));
    };
    let (keys, items) = match kind {
        Listed::Outbox => outbox_page(state, a, cursor).await?,
        Listed::Followers | Listed::Following => actors_page(state, a, kind, cursor).await?,
    };
    let here = match (cursor.max_id, cursor.min_id) {
        (Some(max), _) => format!("{id}?page=true&max_id={max}"),
        (None, Some(min)) => format!("{id}?page=true&min_id={min}"),
        (None, None) => format!("{id}?page=true"),
    };
    let mut doc = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": here,
        "type": "OrderedCollectionPage",
        "partOf": id,
        "totalItems": total,
        "orderedItems": items,
    });
    if let Some(newest) = keys.first() {
        doc["prev"] = json!(format!("{id}?page=true&min_id={newest}"));
    }
    if keys.len() == PAGE_ITEMS {
        if let Some(oldest) = keys.last() {
            doc["next"] = json!(format!("{id}?page=true&max_id={oldest}"));
        }
    }
    Ok(doc)
}

/// A page of `a`'s public and unlisted posts (not its reblogs) as `Create` activities,
/// with their ids as the page's keys.
async fn outbox_page(
    state: &AppState,
    a: &Account,
    cursor: Cursor,
) -> ApiResult<(Vec<Id>, Vec<Value>)> {
    let range = cascade_store::Range {
        below: cursor.max_id,
        above: cursor.min_id,
        limit: PAGE_ITEMS,
        oldest_first: cursor.min_id.is_some() && cursor.max_id.is_none(),
    };
    let filter = cascade_store::AccountStatusesFilter {
        exclude_reblogs: true,
        ..Default::default()
    };
    let unlisted = Visibility::Unlisted.code();
    let ids = state
        .store
        .account_statuses(a.id, None, unlisted, &filter, range)
        .await?;
    let records = state.store.statuses(&ids).await?;
    let mut keys = Vec::with_capacity(ids.len());
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(s) = records.iter().find(|s| s.id == id) else {
            continue;
        };
        // The store's bound already leaves out private and direct posts; this keeps it so.
        let shown = Visibility::from_code(s.visibility);
        if s.account_id != a.id || !matches!(shown, Visibility::Public | Visibility::Unlisted) {
            continue;
        }
        keys.push(id);
        items.push(create(state, a, note(state, s, a).await?));
    }
    Ok((keys, items))
}

/// A page of the actor ids of `a`'s followers or followings, with the follows' ids as
/// the page's keys.
async fn actors_page(
    state: &AppState,
    a: &Account,
    kind: Listed,
    cursor: Cursor,
) -> ApiResult<(Vec<Id>, Vec<Value>)> {
    let edge = if kind == Listed::Followers {
        cascade_store::EdgeKind::Followers
    } else {
        cascade_store::EdgeKind::Following
    };
    let edges = state
        .store
        .edges(edge, a.id, cursor.max_id, cursor.min_id, PAGE_ITEMS)
        .await?;
    let ids: Vec<Id> = edges.iter().map(|e| e.account_id).collect();
    let accounts = state.store.accounts(&ids).await?;
    let mut keys = Vec::with_capacity(edges.len());
    let mut items = Vec::with_capacity(edges.len());
    for e in &edges {
        if let Some(other) = accounts.iter().find(|o| o.id == e.account_id) {
            keys.push(e.id);
            items.push(json!(account_uri(state, other)));
        }
    }
    Ok((keys, items))
}
