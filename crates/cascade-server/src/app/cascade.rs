//! How a status spread: its cascade (the tree of reblogs and quotes rooted at the original
//! post), measured by `cascade_core::cascade`. The same visibility rules as the status
//! hold: the endpoint answers only to those who may see the status, and leaves out the
//! reshares they may not see (private quotes of strangers, accounts blocked either way).

use std::collections::{HashMap, HashSet};

use cascade_core::cascade::{adopt_orphans, Kind, Node, Stats, StatsOptions, Tree};
use cascade_core::seismic::{self, Estimate, Observation};
use cascade_core::{time, Id, Visibility};
use cascade_store::CascadeNodeRecord;

use crate::app::entity;
use crate::app::{render, statuses, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

const HOUR_MS: i64 = 3_600_000;

/// A measured cascade, ready to render as JSON or as a page.
pub struct Measured {
    pub root: entity::Status,
    pub tree: Tree,
    pub stats: Stats,
    /// Accounts of the nodes, by id.
    pub accounts: HashMap<Id, entity::Account>,
    /// View counts of the root, when the viewer may see them.
    pub views: Option<entity::StatusStats>,
    /// SEISMIC's estimate now.
    pub prediction: Estimate,
    /// When the estimate was made, in ms.
    pub predicted_at: i64,
}

/// Loads and measures the cascade a status belongs to (the cascade of its original, for a
/// reblog; the cascade a quote belongs to, for a quote).
pub async fn measure(state: &AppState, viewer: &Viewer, id: Id) -> ApiResult<Measured> {
    let status = statuses::visible(state, viewer, id).await?;
    let start = status.reblog_of_id.unwrap_or(status.id);
    let root_id = state.store.cascade_root_of(start).await?;
    let root = render::status(state, viewer, root_id).await?;
    let records = state.store.cascade_nodes(root_id).await?;
    let mut nodes: Vec<Node> = records
        .iter()
        .filter(|r| r.id == root_id || shows(viewer, r))
        .map(|r| node(r, root_id))
        .collect();
    // Reshares whose parent was deleted (or is hidden from this viewer) hang under the root.
    adopt_orphans(&mut nodes);
    let tree = Tree::build(nodes)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("cascade {root_id}: {e}")))?;
    // Views are shown under the same rule as the status's own counts.
    let views = root.cascade.as_ref().and_then(|c| c.stats.clone());
    let hours = if views.is_some() {
        let quotes: Vec<Id> = tree
            .nodes()
            .iter()
            .filter(|n| n.kind != Kind::Reblog)
            .map(|n| n.id)
            .collect();
        state.store.view_hours(&quotes).await?
    } else {
        Vec::new()
    };
    let stats = tree.stats(&StatsOptions {
        top: 10,
        min_bucket_ms: HOUR_MS.min(60_000 * 10),
        until_ms: Some(time::now_millis()),
        views: &hours,
        ..StatsOptions::default()
    });
    let ids: HashSet<Id> = tree.nodes().iter().map(|n| n.account).collect();
    let ids: Vec<Id> = ids.into_iter().collect();
    let accounts = render::accounts(state, &ids)
        .await?
        .into_iter()
        .filter_map(|a| Some((a.id.parse().ok()?, a)))
        .collect();
    let predicted_at = time::now_millis();
    let prediction = predict(&tree, predicted_at);
    Ok(Measured {
        root,
        tree,
        stats,
        accounts,
        views,
        prediction,
        predicted_at,
    })
}

/// SEISMIC's estimate of a cascade at `at_ms`: every node is a post seen by its author's
/// followers (the resharer's follower count when it reshared).
pub fn predict(tree: &Tree, at_ms: i64) -> Estimate {
    estimate(tree.nodes().iter().map(|n| (n.time_ms, n.followers)), at_ms)
}

/// SEISMIC's estimate at `at_ms` (or at the last post, if later) from posts given as
/// `(time in ms, the poster's follower count)`, the original among them as the earliest.
pub fn estimate(posts: impl IntoIterator<Item = (i64, i64)>, at_ms: i64) -> Estimate {
    let posts: Vec<(i64, i64)> = posts.into_iter().collect();
    let start = posts.iter().map(|p| p.0).min().unwrap_or(at_ms);
    let shares: Vec<Observation> = posts
        .iter()
        .map(|&(t, followers)| Observation {
            time: (t - start).max(0) as f64 / 1000.0,
            followers: followers.max(0) as f64,
        })
        .collect();
    let last = shares.iter().map(|o| o.time).fold(0.0, f64::max);
    let at = ((at_ms - start).max(0) as f64 / 1000.0).max(last);
    let estimates = seismic::predict(&shares, &[at], &seismic::Params::default());
    estimates.into_iter().next().unwrap_or(Estimate {
        time: at,
        observed: 0,
        infectiousness: 0.0,
        lower: 0.0,
        upper: 0.0,
        numerator: 0.0,
        prediction: 0.0,
        prediction_lower: 0.0,
        prediction_upper: 0.0,
    })
}

/// A finite number, or `None` for SEISMIC's "infinite" (supercritical) answers.
fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// The estimate as JSON.
pub fn prediction_json(e: &Estimate, at_ms: i64) -> entity::CascadePrediction {
    entity::CascadePrediction {
        at: time::rfc3339(at_ms),
        infectiousness: e.infectiousness,
        infectiousness_lower: e.lower,
        infectiousness_upper: e.upper,
        final_reshares: finite(e.prediction),
        final_reshares_lower: finite(e.prediction_lower),
        final_reshares_upper: finite(e.prediction_upper),
    }
}

/// Whether a reshare appears in this viewer's picture of the cascade.
fn shows(viewer: &Viewer, r: &CascadeNodeRecord) -> bool {
    if viewer.blocked.contains(&r.account_id) {
        return false;
    }
    match Visibility::from_code(r.visibility) {
        Visibility::Public | Visibility::Unlisted => true,
        Visibility::Private => viewer.is(r.account_id) || viewer.follows(r.account_id),
        Visibility::Direct => viewer.is(r.account_id),
    }
}

fn node(r: &CascadeNodeRecord, root_id: Id) -> Node {
    let base = if r.id == root_id {
        Node::root(r.id, r.account_id, r.created_at)
    } else {
        // Older reshares may lack a recorded parent: what they reshare is the best guess.
        let parent = r
            .parent_id
            .or(r.reblog_of_id)
            .or(r.quote_of_id)
            .unwrap_or(root_id);
        if r.quote_of_id.is_some() {
            Node::quote(r.id, parent, r.account_id, r.created_at)
        } else {
            Node::reblog(r.id, parent, r.account_id, r.created_at)
        }
    };
    let base = base.with_followers(r.followers);
    match r.exposed {
        Some(e) => base.with_exposed(e),
        None => base,
    }
}

/// Nodes one response carries at most: a viral post's tree has tens of thousands, so the
/// JSON pages through them (`min_id`), while its statistics always cover the whole tree.
pub const MAX_NODES_PER_PAGE: usize = 1_000;

/// Which nodes a response carries: those with an id above `after`, at most `limit` of
/// them, the oldest first.
#[derive(Debug, Clone, Copy)]
pub struct NodePage {
    pub after: Option<Id>,
    pub limit: usize,
}

impl NodePage {
    pub fn first(limit: usize) -> NodePage {
        NodePage { after: None, limit }
    }
}

/// The cascade as Cascade's JSON extension entity, with one page of its nodes (still
/// parents before children within the page), and the id to page on from when more nodes
/// follow.
pub fn to_json(state: &AppState, m: &Measured, page: NodePage) -> (entity::Cascade, Option<Id>) {
    let depths = m.tree.depths();
    let mut chosen: Vec<(Id, usize)> = m
        .tree
        .nodes()
        .iter()
        .enumerate()
        .filter(|(_, n)| page.after.is_none_or(|after| n.id > after))
        .map(|(at, n)| (n.id, at))
        .collect();
    chosen.sort_unstable();
    let next = (chosen.len() > page.limit).then(|| chosen[page.limit.max(1) - 1].0);
    chosen.truncate(page.limit);
    let mut positions: Vec<usize> = chosen.into_iter().map(|(_, at)| at).collect();
    positions.sort_unstable();
    let nodes = positions
        .into_iter()
        .map(|at| (&m.tree.nodes()[at], depths[at]))
        .map(|(n, depth)| entity::CascadeNode {
            id: n.id.to_string(),
            parent_id: n.parent.map(|p| p.to_string()),
            kind: n.kind.as_str().to_string(),
            account_id: n.account.to_string(),
            acct: m
                .accounts
                .get(&n.account)
                .map(|a| a.acct.clone())
                .unwrap_or_default(),
            created_at: time::rfc3339(n.time_ms),
            depth,
            followers_count: n.followers,
            exposed: n.exposed,
        })
        .collect();
    let s = &m.stats;
    let cascade = entity::Cascade {
        root: m.root.clone(),
        url: state.url(&format!("/@{}/{}/cascade", m.root.account.acct, m.root.id)),
        nodes,
        stats: entity::CascadeStats {
            size: s.size,
            reblogs: s.reblogs,
            quotes: s.quotes,
            depth: s.depth,
            max_breadth: s.max_breadth,
            breadth: s.breadth.clone(),
            structural_virality: s.structural_virality,
            reach: s.reach,
            reach_pending: s.reach_pending,
            views: m.views.clone(),
            amplifiers: s
                .amplifiers
                .iter()
                .map(|a| entity::CascadeAmplifier {
                    account_id: a.account.to_string(),
                    acct: m
                        .accounts
                        .get(&a.account)
                        .map(|x| x.acct.clone())
                        .unwrap_or_default(),
                    avatar: m
                        .accounts
                        .get(&a.account)
                        .map(|x| x.avatar.clone())
                        .unwrap_or_default(),
                    reshares: a.reshares,
                    reshare_share: a.reshare_share,
                    reach: a.reach,
                    reach_share: a.reach_share,
                    subtree_reshares: a.downstream_reshares,
                    subtree_reach: a.downstream_reach,
                })
                .collect(),
            over_time: entity::CascadeSeries {
                start: time::rfc3339(s.buckets.start_ms),
                bucket_seconds: s.buckets.width_ms / 1000,
                reshares: s.reshares_over_time.clone(),
                views: m.views.as_ref().map(|_| s.views_over_time.clone()),
            },
        },
        prediction: Some(prediction_json(&m.prediction, m.predicted_at)),
    };
    (cascade, next)
}
