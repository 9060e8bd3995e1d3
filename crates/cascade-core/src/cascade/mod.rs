//! Cascades: how a status spread through reblogs and quotes, and how to measure it.
//!
//! A cascade is a tree. Its root is the original status; every reblog and quote hangs under
//! its parent, the status through which the resharer saw it (the root, or a reshare or
//! quote of it). Quotes start subtrees of their own inside the root's cascade, and a
//! reshare of a quote hangs under the quote.
//!
//! - [`attribution`]: choosing a reshare's parent when the server has no better hint
//!   ([`infer_parent`]), and counting the new accounts each reshare exposed ([`Exposure`]).
//! - [`tree`]: [`Tree`], a validated cascade in breadth-first order.
//! - [`stats`]: [`Stats`], what `GET /api/v1/statuses/:id/cascade` reports: size, depth,
//!   breadth, structural virality, reach, top amplifiers and activity over time.
//!
//! Everything here is pure and runs in O(n log n) or better without recursion, so a
//! cascade of a million reshares (or a chain a million deep) is measured in well under a
//! second. Nothing here reads the database: the server loads the nodes and passes them in.

pub mod attribution;
pub mod stats;
pub mod tree;

pub use attribution::{expose_estimated, fill_exposure, infer_parent, Exposure, Reshare};
pub use stats::{Amplifier, Buckets, Stats, StatsOptions};
pub use tree::{adopt_orphans, Tree, TreeError};

use crate::id::Id;

/// What a node of a cascade is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The original status; the only node without a parent.
    Root,
    /// A reblog (boost): the resharer passed the status on unchanged.
    Reblog,
    /// A quote: the resharer passed it on with a status of their own, which others can
    /// reshare in turn.
    Quote,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Root => "root",
            Kind::Reblog => "reblog",
            Kind::Quote => "quote",
        }
    }
}

/// One status of a cascade as the server loads it: the root or a reshare.
///
/// `followers` is the resharer's follower count when it reshared (the author's for the
/// root). `exposed` is the number of accounts this node exposed the cascade to that no
/// earlier node had: the server fills it in the background (see [`Exposure`] and
/// [`expose_estimated`]), so it is `None` until then, and [`Stats`] reports how many
/// nodes are still pending rather than guessing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    pub id: Id,
    /// The status through which the resharer saw it; `None` exactly for the root.
    pub parent: Option<Id>,
    pub account: Id,
    pub kind: Kind,
    /// Creation time in milliseconds since the Unix epoch.
    pub time_ms: i64,
    pub followers: i64,
    pub exposed: Option<i64>,
}

impl Node {
    /// The root of a cascade, with no followers or exposure recorded yet.
    pub fn root(id: Id, account: Id, time_ms: i64) -> Node {
        Node {
            id,
            parent: None,
            account,
            kind: Kind::Root,
            time_ms,
            followers: 0,
            exposed: None,
        }
    }

    /// A reblog of `parent`.
    pub fn reblog(id: Id, parent: Id, account: Id, time_ms: i64) -> Node {
        Node {
            parent: Some(parent),
            kind: Kind::Reblog,
            ..Node::root(id, account, time_ms)
        }
    }

    /// A quote of `parent`.
    pub fn quote(id: Id, parent: Id, account: Id, time_ms: i64) -> Node {
        Node {
            parent: Some(parent),
            kind: Kind::Quote,
            ..Node::root(id, account, time_ms)
        }
    }

    pub fn with_followers(self, followers: i64) -> Node {
        Node { followers, ..self }
    }

    pub fn with_exposed(self, exposed: i64) -> Node {
        Node {
            exposed: Some(exposed),
            ..self
        }
    }
}
