//! Who may see a status. The one rule every endpoint asks, so that a private or direct
//! post cannot leak through a surface that forgot to check.

use std::fmt;
use std::str::FromStr;

/// Mastodon's four visibilities, ordered from widest to narrowest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Visibility {
    Public,
    Unlisted,
    Private,
    Direct,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Unlisted => "unlisted",
            Visibility::Private => "private",
            Visibility::Direct => "direct",
        }
    }

    /// Stored as a small integer: cheap to compare in SQL (`visibility <= 1` is "listed or
    /// unlisted public").
    pub fn code(self) -> i64 {
        self as i64
    }

    pub fn from_code(code: i64) -> Visibility {
        match code {
            0 => Visibility::Public,
            1 => Visibility::Unlisted,
            2 => Visibility::Private,
            _ => Visibility::Direct,
        }
    }

    /// Public and unlisted posts may be reblogged and quoted; private and direct ones not.
    pub fn is_shareable(self) -> bool {
        self <= Visibility::Unlisted
    }
}

impl fmt::Display for Visibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Visibility is not one of public, unlisted, private or direct")]
pub struct UnknownVisibility;

impl FromStr for Visibility {
    type Err = UnknownVisibility;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "public" => Ok(Visibility::Public),
            "unlisted" => Ok(Visibility::Unlisted),
            "private" => Ok(Visibility::Private),
            "direct" => Ok(Visibility::Direct),
            _ => Err(UnknownVisibility),
        }
    }
}

/// What the server knows about the viewer's relation to one status. Gathered by the store
/// in one query; judged here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Audience {
    /// The viewer wrote the status.
    pub is_author: bool,
    /// The viewer follows the author (an accepted follow, not a request).
    pub follows_author: bool,
    /// The status mentions the viewer.
    pub is_mentioned: bool,
    /// The author blocks the viewer, or the viewer blocks the author.
    pub blocked: bool,
}

/// Whether a viewer may see a status of the given visibility. Anonymous viewers have a
/// default `Audience`. A block hides everything but one's own posts, in both directions.
pub fn can_view(visibility: Visibility, audience: Audience) -> bool {
    if audience.is_author {
        return true;
    }
    if audience.blocked {
        return false;
    }
    match visibility {
        Visibility::Public | Visibility::Unlisted => true,
        Visibility::Private => audience.follows_author || audience.is_mentioned,
        Visibility::Direct => audience.is_mentioned,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn visibility() -> impl Strategy<Value = Visibility> {
        (0i64..4).prop_map(Visibility::from_code)
    }

    proptest! {
        #[test]
        fn authors_always_see_their_own_posts(v in visibility(), f: bool, m: bool, b: bool) {
            let a = Audience { is_author: true, follows_author: f, is_mentioned: m, blocked: b };
            prop_assert!(can_view(v, a));
        }

        #[test]
        fn strangers_see_only_public_and_unlisted(v in visibility()) {
            prop_assert_eq!(can_view(v, Audience::default()), v.is_shareable());
        }

        #[test]
        fn blocks_hide_everything_from_others(v in visibility(), f: bool, m: bool) {
            let a = Audience { is_author: false, follows_author: f, is_mentioned: m, blocked: true };
            prop_assert!(!can_view(v, a));
        }

        #[test]
        fn direct_posts_reach_only_mentioned_accounts(f: bool, m: bool) {
            let a = Audience { is_author: false, follows_author: f, is_mentioned: m, blocked: false };
            prop_assert_eq!(can_view(Visibility::Direct, a), m);
        }

        #[test]
        fn widening_the_audience_never_hides_a_post(v in visibility(), f: bool, m: bool) {
            let narrow = Audience { is_author: false, follows_author: f, is_mentioned: m, blocked: false };
            let wide = Audience { follows_author: true, is_mentioned: true, ..narrow };
            prop_assert!(!can_view(v, narrow) || can_view(v, wide));
        }
    }

    #[test]
    fn parses_the_four_visibilities_and_rejects_others() {
        for v in ["public", "unlisted", "private", "direct"] {
            assert_eq!(v.parse::<Visibility>().map(|x| x.as_str()), Ok(v));
        }
        assert!("limited".parse::<Visibility>().is_err());
    }
}
