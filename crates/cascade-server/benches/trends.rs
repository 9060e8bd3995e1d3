//! The trends benchmark behind `docs/PERFORMANCE.md`: what one recomputation costs after a
//! day of 1,000,000 statuses with their engagement.
//!
//! The world, bulk-inserted into a fresh store (SQLite in a temporary folder, or the
//! PostgreSQL database named by `CASCADE_BENCH_DATABASE_URL`): 100,000 accounts 90 days
//! old, 300,000 follows aimed at a few popular accounts, and over the last 24 hours
//! `CASCADE_BENCH_STATUSES` statuses (1,000,000 by default): 70% originals, 15% replies,
//! 10% reblogs, 5% quotes, a fifth tagged with one of 5,000 tags, a tenth carrying one of
//! 20,000 links; and as many favourites as statuses, from random accounts on statuses
//! chosen with a skew (a few posts get most of them). Then it times each query the
//! recomputation makes, and two whole recomputations (`app::trends::refresh`).
//!
//! `cargo bench -p cascade-server --bench trends`; `-- --test` is a smoke run with 10,000
//! statuses. Nothing asserts on a timing; a person reads the output.

use std::time::Instant;

use cascade_core::id::floor_for_millis;
use cascade_core::time::now_millis;
use cascade_core::IdGenerator;
use cascade_server::app::trends;
use cascade_server::{AppState, Config};
use cascade_store::StatusRecord;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;

/// A small deterministic generator (xorshift64*), so every run builds the same world.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Skewed towards 0: the square of a uniform number in [0, 1), scaled.
    fn skewed(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((u * u * u) * n as f64) as usize
    }
}

fn main() {
    let smoke = std::env::args().any(|a| a == "--test");
    let statuses = if smoke {
        10_000
    } else {
        std::env::var("CASCADE_BENCH_STATUSES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1_000_000)
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(run(statuses, smoke));
}

fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("VmHWM:")?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse::<f64>()
                .ok()
        })
        .unwrap_or(0.0)
        / 1024.0
}

async fn run(n: usize, smoke: bool) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let config = Config::new(
        "127.0.0.1:0".parse().expect("an address"),
        dir.path().to_path_buf(),
        None,
        std::env::var("CASCADE_BENCH_DATABASE_URL").ok(),
    );
    let state = cascade_server::open(config).await.expect("a store");
    let store = &state.store;
    let ids = IdGenerator::new();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let now = now_millis();
    let n_accounts = if smoke { 2_000 } else { 100_000 };
    let n_tags = if smoke { 100 } else { 5_000 };
    let n_links = if smoke { 400 } else { 20_000 };
    let started = Instant::now();

    let created = now - 90 * DAY;
    let accounts: Vec<(i64, String, String, i64)> = (0..n_accounts)
        .map(|i| {
            (
                ids.next_at(created),
                format!("user{i}"),
                String::new(),
                created,
            )
        })
        .collect();
    store
        .insert_accounts_bulk(&accounts)
        .await
        .expect("accounts");
    let follows: Vec<(i64, i64, i64, i64)> = (0..n_accounts * 3)
        .map(|_| {
            let from = accounts[rng.below(n_accounts)].0;
            let to = accounts[rng.skewed(n_accounts)].0;
            (ids.next_at(created), from, to, created)
        })
        .filter(|(_, from, to, _)| from != to)
        .collect();
    store.insert_follows_bulk(&follows).await.expect("follows");
    store.recount_follows().await.expect("follow counts");

    let mut tag_ids = Vec::with_capacity(n_tags);
    for t in 0..n_tags {
        let tag = store
            .ensure_tag(ids.next(), &format!("topic{t}"), now)
            .await
            .expect("a tag");
        tag_ids.push(tag.id);
    }
    // Statuses in time order over the last day.
    let mut rows: Vec<StatusRecord> = Vec::with_capacity(n);
    let mut tagged = Vec::new();
    for i in 0..n {
        let at = now - DAY + (i as i64 * (DAY - HOUR / 60)) / n as i64;
        let id = ids.next_at(at);
        let account = accounts[rng.below(n_accounts)].0;
        let kind = rng.below(100);
        let earlier = |rng: &mut Rng| (i > 0).then(|| rows[i - 1 - rng.skewed(i)].id);
        let (reply, reblog, quote) = match kind {
            0..=69 => (None, None, None),
            70..=84 => (earlier(&mut rng), None, None),
            85..=94 => (None, earlier(&mut rng), None),
            _ => (None, None, earlier(&mut rng)),
        };
        let mut text = format!("post {i}");
        if rng.below(10) == 0 {
            text.push_str(&format!(
                " https://site{}.example/page",
                rng.skewed(n_links)
            ));
        }
        if rng.below(5) == 0 && reblog.is_none() {
            tagged.push((id, tag_ids[rng.skewed(n_tags)]));
        }
        rows.push(StatusRecord {
            id,
            account_id: account,
            content_html: format!("<p>{text}</p>"),
            text,
            spoiler_text: String::new(),
            visibility: if rng.below(10) == 0 { 1 } else { 0 },
            sensitive: false,
            language: None,
            in_reply_to_id: reply,
            in_reply_to_account_id: None,
            reblog_of_id: reblog,
            quote_of_id: quote,
            quote_state: quote.map(|_| "accepted".into()),
            quote_policy: "public".into(),
            app_id: None,
            replies_count: 0,
            reblogs_count: 0,
            favourites_count: 0,
            quotes_count: 0,
            edited_at: None,
            created_at: at,
        });
    }
    store.insert_statuses_bulk(&rows).await.expect("statuses");
    store.insert_status_tags_bulk(&tagged).await.expect("tags");
    let mut favourites = Vec::with_capacity(n);
    let mut pairs = std::collections::HashSet::new();
    while favourites.len() < n {
        // Favourites come after their status, until now.
        let status = &rows[n - 1 - rng.skewed(n)];
        let account = accounts[rng.below(n_accounts)].0;
        if !pairs.insert((account, status.id)) {
            continue;
        }
        let at = status.created_at + rng.below((now - status.created_at).max(1) as usize) as i64;
        favourites.push((ids.next_at(at), account, status.id, at));
    }
    store
        .insert_favourites_bulk(&favourites)
        .await
        .expect("favourites");
    drop(rows);
    println!(
        "world: {n_accounts} accounts, {} follows, {n} statuses, {} tagged, {} favourites, built in {:.1} s ({})",
        follows.len(),
        tagged.len(),
        favourites.len(),
        started.elapsed().as_secs_f64(),
        store.backend(),
    );

    let timed = Instant::now();
    let events = store
        .engagements_since(floor_for_millis(now - trends::ENGAGEMENT_WINDOW))
        .await
        .expect("events");
    println!(
        "engagements_since: {} rows in {:.2} s",
        events.len(),
        timed.elapsed().as_secs_f64()
    );
    let mut engaged: Vec<i64> = events.iter().map(|e| e.status_id).collect();
    engaged.sort_unstable();
    engaged.dedup();
    let timed = Instant::now();
    let candidates = store
        .trend_candidates(&engaged, floor_for_millis(now - trends::STATUS_MAX_AGE))
        .await
        .expect("candidates");
    println!(
        "trend_candidates: {} of {} engaged statuses in {:.2} s",
        candidates.len(),
        engaged.len(),
        timed.elapsed().as_secs_f64()
    );
    let since = floor_for_millis((now / DAY - trends::HISTORY_DAYS + 1) * DAY);
    let timed = Instant::now();
    let uses = store.tag_uses_since(since).await.expect("tag uses");
    println!(
        "tag_uses_since: {} rows in {:.2} s",
        uses.len(),
        timed.elapsed().as_secs_f64()
    );
    let timed = Instant::now();
    let links = store.link_posts_since(since).await.expect("link posts");
    println!(
        "link_posts_since: {} rows in {:.2} s",
        links.len(),
        timed.elapsed().as_secs_f64()
    );
    drop((events, candidates, uses, links));

    for round in ["first", "second"] {
        let timed = Instant::now();
        let result = refresh(&state).await;
        println!(
            "{round} recomputation: {:.2} s; {} statuses, {} tags, {} links trending",
            timed.elapsed().as_secs_f64(),
            result.statuses.len(),
            result.tags.len(),
            result.links.len(),
        );
    }
    println!("peak memory: {:.0} MiB", peak_mib());
}

async fn refresh(state: &AppState) -> std::sync::Arc<trends::Trends> {
    trends::refresh(state).await.expect("a recomputation")
}
