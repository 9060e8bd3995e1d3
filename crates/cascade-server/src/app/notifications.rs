//! Telling users what happened to them. Each use case that causes a notification calls
//! `notify` (or `withdraw` when the action is undone); blocks and mutes are honoured here,
//! so no caller can forget them.

use cascade_core::{time, Id};
use cascade_store::{NotificationFilter, NotificationRecord};

use crate::api::model;
use crate::app::{render, Viewer};
use crate::error::ApiResult;
use crate::state::AppState;

/// Mastodon's notification types that Cascade produces, listed by default.
pub const KINDS: &[&str] = &[
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "update",
    "quote",
    "quoted_update",
];

/// Cascade's own type, delivered only to clients that ask for it by name (`types[]`), so
/// clients that do not know it never see it.
pub const GOING_VIRAL: &str = "going_viral";

/// Notifies `recipient` that `from` did `kind` (on `status`), unless it is about oneself or
/// the recipient blocks, is blocked by or has muted `from`.
pub async fn notify(
    state: &AppState,
    recipient: Id,
    from: Id,
    kind: &str,
    status: Option<Id>,
) -> ApiResult<()> {
    if recipient == from && kind != GOING_VIRAL {
        return Ok(());
    }
    let viewer = Viewer::load(state, Some(recipient)).await?;
    if viewer.blocked.contains(&from) || viewer.muted.contains(&from) {
        return Ok(());
    }
    let record = NotificationRecord {
        id: state.ids.next(),
        account_id: recipient,
        from_account_id: from,
        kind: kind.to_string(),
        status_id: status,
        created_at: time::now_millis(),
    };
    if state.store.add_notification(&record).await? {
        crate::app::push::on_notification(state, &record).await?;
        crate::app::away::on_notification(state, &record).await;
    }
    Ok(())
}

/// Withdraws a notification whose cause was undone (an unfavourite, an unreblog).
pub async fn withdraw(
    state: &AppState,
    recipient: Id,
    from: Id,
    kind: &str,
    status: Option<Id>,
) -> ApiResult<()> {
    Ok(state
        .store
        .remove_notification(recipient, kind, from, status)
        .await?)
}

/// Renders notifications for their recipient, leaving out those whose status it can no
/// longer see.
pub async fn render_all(
    state: &AppState,
    viewer: &Viewer,
    records: &[NotificationRecord],
) -> ApiResult<Vec<model::Notification>> {
    let status_ids: Vec<Id> = records.iter().filter_map(|n| n.status_id).collect();
    let statuses: std::collections::HashMap<String, model::Status> =
        render::statuses(state, viewer, &status_ids)
            .await?
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect();
    let account_ids: Vec<Id> = records.iter().map(|n| n.from_account_id).collect();
    let accounts: std::collections::HashMap<String, model::Account> =
        render::accounts(state, &account_ids)
            .await?
            .into_iter()
            .map(|a| (a.id.clone(), a))
            .collect();
    Ok(records
        .iter()
        .filter_map(|n| {
            let status = match n.status_id {
                Some(id) => Some(statuses.get(&id.to_string())?.clone()),
                None => None,
            };
            Some(model::Notification {
                id: n.id.to_string(),
                kind: n.kind.clone(),
                group_key: group_key(n),
                created_at: time::rfc3339(n.created_at),
                account: accounts.get(&n.from_account_id.to_string())?.clone(),
                status,
            })
        })
        .collect())
}

/// Mastodon 4.3's grouping keys: favourites and reblogs of one status group together,
/// follows group by day; everything else stands alone.
fn group_key(n: &NotificationRecord) -> String {
    match (n.kind.as_str(), n.status_id) {
        ("favourite" | "reblog", Some(s)) => format!("{}-{s}", n.kind),
        ("follow", _) => format!("follow-{}", n.created_at / 86_400_000),
        _ => format!("ungrouped-{}", n.id),
    }
}

/// The page of notifications a client asked for.
pub async fn list(
    state: &AppState,
    viewer: &Viewer,
    filter: NotificationFilter,
    max_id: Option<Id>,
    min_id: Option<Id>,
    limit: usize,
) -> ApiResult<Vec<model::Notification>> {
    let me = viewer.id.ok_or(crate::error::ApiError::Unauthorized)?;
    let mut filter = filter;
    if filter.kinds.is_empty() {
        filter.kinds = KINDS.iter().map(|k| k.to_string()).collect();
    }
    let records = state
        .store
        .notifications(me, &filter, max_id, min_id, limit)
        .await?;
    render_all(state, viewer, &records).await
}
