//! Direct conversations: every direct status updates the conversation of each participant
//! (its author and the accounts it mentions), which their `direct` stream announces.

use cascade_core::timeline::Page;
use cascade_core::Id;
use cascade_store::{ConversationRecord, StatusRecord};

use crate::app::entity;
use crate::app::{render, stream, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use cascade_store::range;

/// Files a new direct status into its local participants' conversations (a remote one
/// is a participant but keeps its conversations on its own server). A participant that
/// blocks or muted the author gets nothing, as it gets no notification.
pub async fn record(state: &AppState, s: &StatusRecord, mentions: &[Id]) -> ApiResult<()> {
    let mut everyone: Vec<Id> = mentions.to_vec();
    everyone.push(s.account_id);
    everyone.sort_unstable();
    everyone.dedup();
    for p in crate::app::delivery::local_among(state, &everyone).await? {
        let viewer = Viewer::load(state, Some(p)).await?;
        if p != s.account_id && viewer.hides(s.account_id) {
            continue;
        }
        let others: Vec<String> = everyone
            .iter()
            .filter(|&&o| o != p)
            .map(|o| o.to_string())
            .collect();
        let conversation = state
            .store
            .touch_conversation(
                state.ids.next(),
                p,
                &others.join(","),
                s.id,
                p != s.account_id,
            )
            .await?;
        if state.clustered() || state.streams.has(&stream::Channel::Direct(p)) {
            if let Some(rendered) = render_all(state, &viewer, &[conversation]).await?.pop() {
                stream::conversation(state, p, &rendered);
            }
        }
    }
    Ok(())
}

fn participants(c: &ConversationRecord) -> Vec<Id> {
    c.participants
        .split(',')
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Renders conversations for their owner. A last status the owner can no longer see
/// (deleted, say) shows as none.
pub async fn render_all(
    state: &AppState,
    viewer: &Viewer,
    records: &[ConversationRecord],
) -> ApiResult<Vec<entity::Conversation>> {
    let mut account_ids: Vec<Id> = records.iter().flat_map(participants).collect();
    account_ids.sort_unstable();
    account_ids.dedup();
    let accounts = render::accounts(state, &account_ids).await?;
    let status_ids: Vec<Id> = records.iter().filter_map(|c| c.last_status_id).collect();
    let statuses = render::statuses(state, viewer, &status_ids).await?;
    Ok(records
        .iter()
        .map(|c| {
            let ids: Vec<String> = participants(c).iter().map(|p| p.to_string()).collect();
            entity::Conversation {
                id: c.id.to_string(),
                unread: c.unread,
                accounts: accounts
                    .iter()
                    .filter(|a| ids.contains(&a.id))
                    .cloned()
                    .collect(),
                last_status: c
                    .last_status_id
                    .and_then(|s| statuses.iter().find(|r| r.id == s.to_string()).cloned()),
            }
        })
        .collect())
}

/// A page of the viewer's conversations and their paging keys (their latest statuses).
pub async fn list(
    state: &AppState,
    viewer: &Viewer,
    page: Page,
) -> ApiResult<(Vec<entity::Conversation>, Vec<Id>)> {
    let me = viewer.id.ok_or(ApiError::Unauthorized)?;
    let records = state.store.conversations(me, range(&page)).await?;
    let keys = records.iter().filter_map(|c| c.last_status_id).collect();
    Ok((render_all(state, viewer, &records).await?, keys))
}

/// Marks a conversation read and returns it.
pub async fn read(state: &AppState, viewer: &Viewer, id: Id) -> ApiResult<entity::Conversation> {
    let me = viewer.id.ok_or(ApiError::Unauthorized)?;
    if !state.store.read_conversation(me, id).await? {
        return Err(ApiError::NotFound);
    }
    let record = state.store.conversation(me, id).await?;
    render_all(state, viewer, &[record])
        .await?
        .pop()
        .ok_or(ApiError::NotFound)
}
