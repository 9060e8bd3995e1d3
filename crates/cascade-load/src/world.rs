//! The generated world, written straight into the store (as a migration would, far faster
//! than through the API): accounts, a Zipf follow graph with a few huge accounts, posts
//! and reshares, and a bearer token for each account that acts.
//!
//! Account 0 is the celebrity, followed by everyone; accounts 1..=4 are the next most
//! followed; the rest follow by popularity (probability ∝ 1/rank), 5 to 200 each (or up
//! to `--follows-max`).

use std::collections::HashSet;

use cascade_core::{time, Id, Visibility};
use cascade_server::{AppState, Config};
use cascade_store::{NewAccount, StatusRecord, Store};
use rand::distributions::{Distribution, WeightedIndex};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

const SEED: u64 = 0xCA5C_ADE0_10AD;
const MINUTE: i64 = 60_000;
const DAY: i64 = 24 * 60 * MINUTE;
const TEXTS: &[&str] = &[
    "Spent the afternoon arguing with the borrow checker. It was right, again.",
    "The swifts are back and the evening sky is loud again.",
    "Planted garlic today. See you in July, little cloves.",
    "Forty kilometres along the river before the rain caught me. Worth it for the herons.",
    "Finished a novel at 1am and now I need to talk to someone about it.",
    "Golden hour at the harbour, shot on a thirty-year-old lens.",
];

/// What the scenarios need to know of the world.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct World {
    pub accounts: usize,
    pub follows: usize,
    pub posts: usize,
    /// Accounts that act, with their tokens: index 0 is the celebrity.
    pub actors: Vec<Actor>,
    /// Public statuses that may be favourited in the mixed load.
    pub targets: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Actor {
    pub id: String,
    pub username: String,
    pub token: String,
}

/// How big a world to draw.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub accounts: usize,
    pub posts_per_account: usize,
    /// Accounts that get a token and act (the burst's crowd); the rest only exist.
    pub actors: usize,
    /// Most accounts each follows, besides the celebrity.
    pub follows_max: usize,
}

/// Draws the world and writes it into the store behind `database_url` (which must be
/// empty of generated accounts: the usernames are `load0`, `load1`, ...).
pub async fn generate(
    database_url: &str,
    data_dir: &std::path::Path,
    size: Size,
    progress: impl Fn(&str),
) -> anyhow::Result<World> {
    let n = size.accounts.max(10);
    let listen = "127.0.0.1:0".parse().expect("an address");
    let config = Config::new(
        listen,
        data_dir.to_path_buf(),
        None,
        Some(database_url.into()),
    );
    if database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(data_dir)?;
    }
    let store = Store::connect(database_url).await?;
    let state = AppState::new(config, store);
    let store = &state.store;
    let now = time::now_millis();
    let mut rng = StdRng::seed_from_u64(SEED);

    progress(&format!("{n} accounts"));
    let ids: Vec<Id> = (0..n)
        .map(|i| state.ids.next_at(now - 30 * DAY + i as i64))
        .collect();
    // Those who act are users (they post and sign in); the rest are only accounts.
    let actors = size.actors.clamp(2, n);
    for (i, &id) in ids.iter().enumerate().take(actors) {
        store
            .create_account(&NewAccount {
                id,
                username: format!("load{i}"),
                email: format!("load{i}@load.test"),
                password_hash: "not a hash: nobody signs in".into(),
                display_name: format!("Load {i}"),
                note: String::new(),
                note_html: String::new(),
                bot: false,
                locked: false,
                created_at: now - 30 * DAY,
                pending: None,
            })
            .await?;
    }
    let rows: Vec<(Id, String, String, i64)> = ids
        .iter()
        .enumerate()
        .skip(actors)
        .map(|(i, &id)| (id, format!("load{i}"), format!("Load {i}"), now - 30 * DAY))
        .collect();
    for chunk in rows.chunks(10_000) {
        store.insert_accounts_bulk(chunk).await?;
    }

    progress("follow graph");
    let weights = (0..n).map(|r| 1.0 / ((r + 1) as f64));
    let zipf = WeightedIndex::new(weights)?;
    let follow_at = now - 10 * DAY;
    let mut edges: Vec<(Id, Id, Id, i64)> = Vec::new();
    let mut follows = 0usize;
    for from in 1..n {
        let mut seen = HashSet::new();
        // Everyone follows the celebrity.
        seen.insert(0usize);
        edges.push((state.ids.next_at(follow_at), ids[from], ids[0], follow_at));
        let most = size.follows_max.max(1);
        let want = rng.gen_range(most.min(5)..=most).min(n - 2);
        let mut tries = 0;
        while seen.len() <= want && tries < want * 20 {
            tries += 1;
            let to = zipf.sample(&mut rng);
            if to != from && seen.insert(to) {
                edges.push((state.ids.next_at(follow_at), ids[from], ids[to], follow_at));
            }
        }
        if edges.len() >= 50_000 {
            follows += edges.len();
            store.insert_follows_bulk(&edges).await?;
            edges.clear();
        }
    }
    follows += edges.len();
    store.insert_follows_bulk(&edges).await?;

    progress("posts");
    let per = size.posts_per_account.max(1);
    let mut records = Vec::new();
    let mut originals: Vec<Id> = Vec::new();
    let mut posts = 0usize;
    let mut reblogged = HashSet::new();
    for (author, &account_id) in ids.iter().enumerate() {
        for _ in 0..per {
            let at = now - rng.gen_range(MINUTE..3 * DAY);
            let id = state.ids.next_at(at);
            let reblog_of = (!originals.is_empty() && rng.gen_bool(0.1))
                .then(|| originals[rng.gen_range(0..originals.len())])
                .filter(|&o| reblogged.insert((author, o)));
            let text = if reblog_of.is_some() {
                ""
            } else {
                TEXTS[rng.gen_range(0..TEXTS.len())]
            };
            if reblog_of.is_none() && author < 100 {
                originals.push(id);
            }
            records.push(StatusRecord {
                id,
                account_id,
                text: text.into(),
                content_html: if text.is_empty() {
                    String::new()
                } else {
                    format!("<p>{text}</p>")
                },
                spoiler_text: String::new(),
                visibility: Visibility::Public.code(),
                sensitive: false,
                language: Some("en".into()),
                in_reply_to_id: None,
                in_reply_to_account_id: None,
                reblog_of_id: reblog_of,
                quote_of_id: None,
                quote_state: None,
                quote_policy: "public".into(),
                app_id: None,
                replies_count: 0,
                reblogs_count: 0,
                favourites_count: 0,
                quotes_count: 0,
                edited_at: None,
                created_at: at,
            });
            if records.len() >= 10_000 {
                posts += records.len();
                store.insert_statuses_bulk(&records).await?;
                records.clear();
            }
        }
    }
    posts += records.len();
    store.insert_statuses_bulk(&records).await?;
    store.recount_follows().await?;
    store.recount_statuses().await?;
    // As a server that grew to this size would have: its planner's statistics.
    store.analyze().await?;

    progress(&format!("{actors} tokens"));
    let mut out = Vec::with_capacity(actors);
    for (i, &id) in ids.iter().enumerate().take(actors) {
        let token = cascade_server::app::accounts::issue_token(
            &state,
            Some(id),
            None,
            "read write follow push",
        )
        .await
        .map_err(|e| anyhow::anyhow!("issuing a token: {e}"))?
        .access_token;
        out.push(Actor {
            id: id.to_string(),
            username: format!("load{i}"),
            token,
        });
    }
    originals.truncate(2_000);
    Ok(World {
        accounts: n,
        follows,
        posts,
        actors: out,
        targets: originals.iter().map(|id| id.to_string()).collect(),
    })
}
