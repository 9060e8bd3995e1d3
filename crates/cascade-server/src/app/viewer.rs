//! The viewer of a request and its place in the graph: whom it follows, blocks or is
//! blocked by, and mutes. Every visibility decision of a request is made against this one
//! snapshot, so a timeline, a thread and a single status agree.

use std::collections::{HashMap, HashSet};

use cascade_core::visibility::{can_view, Audience};
use cascade_core::{Id, Visibility};
use cascade_store::StatusRecord;

use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Debug, Clone, Default)]
pub struct Viewer {
    pub id: Option<Id>,
    /// Followed accounts, with whether their reblogs are shown.
    pub following: HashMap<Id, bool>,
    /// Accounts blocked by or blocking the viewer.
    pub blocked: HashSet<Id>,
    /// Accounts the viewer muted (timelines leave them out; direct links still work).
    pub muted: HashSet<Id>,
}

impl Viewer {
    pub fn anonymous() -> Viewer {
        Viewer::default()
    }

    pub async fn load(state: &AppState, id: Option<Id>) -> ApiResult<Viewer> {
        let Some(me) = id else {
            return Ok(Viewer::anonymous());
        };
        let now = cascade_core::time::now_millis();
        Ok(Viewer {
            id,
            following: state.store.following_ids(me).await?.into_iter().collect(),
            blocked: state.store.blocked_ids(me).await?.into_iter().collect(),
            muted: state.store.muted_ids(me, now).await?.into_iter().collect(),
        })
    }

    pub fn is(&self, account: Id) -> bool {
        self.id == Some(account)
    }

    pub fn follows(&self, account: Id) -> bool {
        self.following.contains_key(&account)
    }

    /// Whether the viewer may see a status whose mentioned accounts are `mentions`.
    pub fn can_see(&self, status: &StatusRecord, mentions: &[Id]) -> bool {
        let audience = Audience {
            is_author: self.is(status.account_id),
            follows_author: self.follows(status.account_id),
            is_mentioned: self.id.is_some_and(|me| mentions.contains(&me)),
            blocked: self.blocked.contains(&status.account_id),
        };
        can_view(Visibility::from_code(status.visibility), audience)
    }

    /// Whether a timeline should leave this author out (blocked either way, or muted).
    pub fn hides(&self, account: Id) -> bool {
        self.blocked.contains(&account) || self.muted.contains(&account)
    }
}
