//! Benchmarks behind the scale claims in `docs/PERFORMANCE.md`: reading a 20-item home
//! timeline on a warm server (pushed entries only, and with celebrity posts merged in),
//! accepting a post whatever the size of the author's audience, and how fast fan-out
//! fills cached home timelines.
//!
//! One world is generated per run into a SQLite store in a temporary folder: accounts
//! with a heavy-tailed follow graph (targets drawn by Zipf over popularity rank), posts
//! and reblogs, all from one seeded generator, so every run measures the same world.
//! `CASCADE_BENCH_ACCOUNTS` sets its size: 100,000 by default when benchmarking, 2,000
//! under `--test` (criterion's run-each-once mode), so a smoke run takes seconds.
//!
//! Criterion measures wall time of the in-process use-case calls. The paired runs at the
//! end compare the two sides of each claim in interleaved blocks, reading the process's
//! CPU time as well, because the speed of a shared machine drifts from one benchmark to
//! the next and a ratio taken within one run is what survives that. Nothing here asserts
//! on a timing: the figures are read by a person and written down in the docs.

use std::collections::HashSet;
use std::future::Future;
use std::hint::black_box;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use cascade_core::timeline::{merge_desc, Page};
use cascade_core::{time, Id, Visibility};
use cascade_server::app::records::RecordCacheConfig;
use cascade_server::app::statuses::{self, StatusInput};
use cascade_server::app::{ranked, render, timelines, Viewer};
use cascade_server::{worker, AppState, Config};
use cascade_store::range;
use cascade_store::{NewAccount, StatusRecord, Store};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput};
use rand::distributions::{Distribution, WeightedIndex};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::runtime::Runtime;

const SEED: u64 = 0xCA5C_ADE0_BE4C;
const DEFAULT_ACCOUNTS: usize = 100_000;
const SMOKE_ACCOUNTS: usize = 2_000;

/// Probability of following the account of popularity rank `r` is proportional to
/// `1 / (r + 1)^ZIPF_EXPONENT`.
const ZIPF_EXPONENT: f64 = 1.0;
/// How many accounts each account follows: Pareto with this shape, from `MIN_FOLLOWING`,
/// cut at `MAX_FOLLOWING` (about 20 on average).
const FOLLOWING_SHAPE: f64 = 1.2;
const MIN_FOLLOWING: usize = 5;
const MAX_FOLLOWING: usize = 500;
/// How many accounts the two measured readers follow.
const READER_FOLLOWING: usize = 200;
/// The most followed accounts post more than the rest.
const PROLIFIC: usize = 100;
const PROLIFIC_POSTS: usize = 50;
/// The share of the other accounts' posts that reblog a prolific account's post.
const REBLOG_SHARE: f64 = 0.1;
/// Followers of the fan-out author: pushed, so at most the celebrity threshold.
const FANOUT_FOLLOWERS: usize = 10_000;
/// The follower count given to the big author for the acceptance claim.
const PRETEND_FOLLOWERS: i64 = 10_000_000;
const QUIET_FOLLOWERS: usize = 10;

/// Accounts that act in the mixed load of the worker-latency measurement.
const MIXED_ACTORS: usize = 2_000;
/// Local users who post in the mixed load.
const MIXED_AUTHORS: usize = 100;
/// Clients of the mixed load, and the operations per second they start together.
const MIXED_CLIENTS: usize = 16;
const MIXED_RATE: f64 = 300.0;
const MINUTE: i64 = 60_000;
const DAY: i64 = 24 * 60 * MINUTE;

const TEXTS: &[&str] = &[
    "Spent the afternoon arguing with the borrow checker. It was right, again, and the code is better for it.",
    "The swifts are back and the evening sky is loud again. Sat on the steps until it got dark.",
    "Planted garlic today. See you in July, little cloves. The soil finally dried out enough to work.",
    "Forty kilometres along the river before the rain caught me. Worth it for the herons alone.",
    "Finished a novel at 1am and now I need to talk to someone about it. No spoilers, but that ending!",
    "Golden hour at the harbour, shot on a thirty-year-old lens. Some things do not need updating.",
    "Dialled in the new beans: fruity, bright, a little wild. Third coffee of the day, this is fine.",
    "Clear skies tonight! Saturn's rings through a small telescope never get old, and never will.",
];
const POST_TEXT: &str =
    "Accepting this post should cost the same whoever follows me. Benchmarks say so, or not.";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let measuring =
        args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test" || a == "--list");
    let accounts = std::env::var("CASCADE_BENCH_ACCOUNTS")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(if measuring {
            DEFAULT_ACCOUNTS
        } else {
            SMOKE_ACCOUNTS
        });
    assert!(
        accounts >= 1_000,
        "CASCADE_BENCH_ACCOUNTS must be at least 1000"
    );

    let mut criterion = Criterion::default()
        .without_plots()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .nresamples(10_000)
        .configure_from_args();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let bench = rt.block_on(Bench::setup(accounts));

    bench_reads(&mut criterion, &rt, &bench);
    bench_http(&mut criterion, &rt, &bench);
    bench_accept(&mut criterion, &rt, &bench);
    bench_fanout(&mut criterion, &rt, &bench);
    criterion.final_summary();

    let (rounds, block) = if measuring { (8, 1_000) } else { (1, 2) };
    rt.block_on(paired_reads(&bench, rounds, block));
    rt.block_on(paired_record_cache(&bench, rounds, block));
    rt.block_on(paired_ranked(&bench, rounds, block));
    rt.block_on(paired_views(&bench, rounds, block));
    rt.block_on(paired_rate_limit(&bench, rounds, block));
    rt.block_on(paired_attachments(&bench, rounds, block));
    let (rounds, block) = if measuring { (8, 500) } else { (1, 2) };
    rt.block_on(paired_accepts(&bench, rounds, block));
    let seconds = if measuring { 20 } else { 1 };
    rt.block_on(worker_latency(&bench, Duration::from_secs(seconds)));
    rt.block_on(bench.state.store.close());
}

// ---------------------------------------------------------------------------------------
// The world.

/// A post of the generated world; `reblog_of` indexes `World::posts`.
struct Post {
    author: usize,
    at: i64,
    reblog_of: Option<usize>,
    text: usize,
}

/// The generated world, in account indexes: account 0 is the most popular, and the last
/// two are the measured readers.
struct World {
    follows: Vec<(usize, usize)>,
    posts: Vec<Post>,
    /// Followers of each account in the generated graph.
    followers: Vec<usize>,
    merge_reader: usize,
    pushed_reader: usize,
}

impl World {
    fn generate(n: usize, threshold: i64, now: i64) -> World {
        let mut rng = StdRng::seed_from_u64(SEED);
        let weights = (0..n).map(|r| 1.0 / ((r + 1) as f64).powf(ZIPF_EXPONENT));
        let zipf = WeightedIndex::new(weights).expect("positive weights");
        let (merge_reader, pushed_reader) = (n - 2, n - 1);
        let cap = MAX_FOLLOWING.min(n / 10);
        let mut follows = Vec::new();
        let mut followers = vec![0usize; n];
        for from in 0..merge_reader {
            let u: f64 = rng.gen_range(f64::EPSILON..1.0);
            let k = (MIN_FOLLOWING as f64 / u.powf(1.0 / FOLLOWING_SHAPE)) as usize;
            for to in pick(&mut rng, &zipf, from, k.clamp(MIN_FOLLOWING, cap), |_| true) {
                follows.push((from, to));
                followers[to] += 1;
            }
        }
        let celebrity = |followers: &[usize], i: usize| followers[i] as i64 > threshold;

        // The merge reader follows like everyone else, by popularity, so it follows some
        // celebrities; the pushed-only reader stays well below the threshold.
        let mut merged = pick(&mut rng, &zipf, merge_reader, READER_FOLLOWING, |to| {
            to != pushed_reader
        });
        if !merged.iter().any(|&to| celebrity(&followers, to)) {
            merged[0] = 0;
        }
        let pushed = pick(&mut rng, &zipf, pushed_reader, READER_FOLLOWING, |to| {
            to != merge_reader && (followers[to] as i64) * 2 <= threshold
        });
        for (from, targets) in [(merge_reader, merged), (pushed_reader, pushed)] {
            for to in targets {
                follows.push((from, to));
                followers[to] += 1;
            }
        }

        let mut times: Vec<(i64, usize)> = Vec::new();
        for author in 0..n {
            let count = if author < PROLIFIC {
                PROLIFIC_POSTS
            } else {
                rng.gen_range(2..=4)
            };
            for _ in 0..count {
                times.push((now - rng.gen_range(MINUTE..3 * DAY), author));
            }
        }
        times.sort_unstable();
        let mut posts = Vec::with_capacity(times.len());
        let mut prolific_so_far: Vec<usize> = Vec::new();
        let mut reblogged: HashSet<(usize, usize)> = HashSet::new();
        for (i, (at, author)) in times.into_iter().enumerate() {
            let mut reblog_of = None;
            if author >= PROLIFIC && !prolific_so_far.is_empty() && rng.gen_bool(REBLOG_SHARE) {
                let original = prolific_so_far[rng.gen_range(0..prolific_so_far.len())];
                if reblogged.insert((author, original)) {
                    reblog_of = Some(original);
                }
            }
            if author < PROLIFIC {
                prolific_so_far.push(i);
            }
            posts.push(Post {
                author,
                at,
                reblog_of,
                text: rng.gen_range(0..TEXTS.len()),
            });
        }
        World {
            follows,
            posts,
            followers,
            merge_reader,
            pushed_reader,
        }
    }
}

/// `k` distinct accounts other than `from` that `accept` lets through, drawn by popularity.
fn pick(
    rng: &mut StdRng,
    zipf: &WeightedIndex<f64>,
    from: usize,
    k: usize,
    accept: impl Fn(usize) -> bool,
) -> Vec<usize> {
    let mut chosen = Vec::with_capacity(k);
    let mut seen = HashSet::with_capacity(k);
    while chosen.len() < k {
        let to = zipf.sample(rng);
        if to != from && accept(to) && seen.insert(to) {
            chosen.push(to);
        }
    }
    chosen
}

// ---------------------------------------------------------------------------------------
// The server under measurement.

struct Bench {
    state: AppState,
    database_url: String,
    addr: SocketAddr,
    /// The merge reader: follows celebrities, whose posts are merged in at read time.
    merge_reader: Id,
    /// The pushed-only reader: follows no celebrity.
    pushed_reader: Id,
    /// Bearer tokens of the two readers, for the HTTP benchmark.
    merge_token: String,
    pushed_token: String,
    /// An author with 10 followers.
    quiet: Id,
    /// An author followed by every generated account.
    star: Id,
    /// An author with `fanout_followers` followers, all pushed to.
    hub: Id,
    hub_followers: Vec<Id>,
    /// Generated accounts (id, username) that act in the mixed load.
    actors: Vec<(Id, String)>,
    /// A second server on the same store with the record cache off: what a read costs
    /// when every record comes from the store (its home timelines are cached as usual).
    uncached: AppState,
    /// Statuses to fill the fan-out followers' cached timelines with, newest first.
    filler: Vec<Id>,
    _dir: tempfile::TempDir,
}

impl Bench {
    async fn setup(n: usize) -> Bench {
        let started = Instant::now();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let addr = listener.local_addr().expect("an address");
        let database_url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let mut config = Config::new(
            addr,
            dir.path().to_path_buf(),
            None,
            Some(database_url.clone()),
        );
        // The default threshold (10,000 followers) at 100,000 accounts; a tenth of the
        // accounts in a smaller world, so that a smoke run still has celebrities.
        config.fanout.celebrity_threshold = config.fanout.celebrity_threshold.min(n as i64 / 10);
        config.rate_limit = None;
        let threshold = config.fanout.celebrity_threshold;
        let store = Store::connect(&database_url).await.expect("a SQLite store");
        let state = AppState::new(config, store);
        let store = &state.store;

        let now = time::now_millis();
        let world = World::generate(n, threshold, now);
        eprintln!(
            "world: {n} accounts, {} follows, {} posts ({} reblogs), drawn in {:.1?}",
            world.follows.len(),
            world.posts.len(),
            world.posts.iter().filter(|p| p.reblog_of.is_some()).count(),
            started.elapsed()
        );

        let phase = Instant::now();
        let account_ids: Vec<Id> = (0..n)
            .map(|i| state.ids.next_at(now - 30 * DAY + i as i64))
            .collect();
        let rows: Vec<(Id, String, String, i64)> = account_ids
            .iter()
            .enumerate()
            .map(|(i, &id)| (id, format!("user{i}"), format!("User {i}"), now - 30 * DAY))
            .collect();
        for chunk in rows.chunks(10_000) {
            store.insert_accounts_bulk(chunk).await.expect("accounts");
        }
        // Everyone but the two measured readers may act in the mixed load.
        let actors: Vec<(Id, String)> = rows[..n - 2]
            .iter()
            .step_by((n / MIXED_ACTORS).max(1))
            .map(|(id, name, _, _)| (*id, name.clone()))
            .collect();
        let mut special = Vec::new();
        for name in ["quiet", "star", "hub"] {
            let account = store
                .create_account(&NewAccount {
                    id: state.ids.next_at(now - 30 * DAY),
                    username: name.into(),
                    email: format!("{name}@bench.test"),
                    password_hash: "not a hash: nobody logs in".into(),
                    display_name: name.into(),
                    note: String::new(),
                    note_html: String::new(),
                    bot: false,
                    locked: false,
                    created_at: now - 30 * DAY,
                    pending: None,
                })
                .await
                .expect("an author");
            special.push(account.id);
        }
        let (quiet, star, hub) = (special[0], special[1], special[2]);
        eprintln!("accounts written in {:.1?}", phase.elapsed());

        // The three authors' audiences are drawn from everyone but the two readers, so
        // the readers' timelines do not move while they are measured.
        let phase = Instant::now();
        let mut rng = StdRng::seed_from_u64(SEED + 1);
        let audience = n - 2;
        let fanout_followers = FANOUT_FOLLOWERS.min(threshold as usize).min(audience);
        let hub_followers: Vec<Id> = rand::seq::index::sample(&mut rng, audience, fanout_followers)
            .into_iter()
            .map(|i| account_ids[i])
            .collect();
        let quiet_followers = rand::seq::index::sample(&mut rng, audience, QUIET_FOLLOWERS)
            .into_iter()
            .map(|i| account_ids[i]);
        let follow_at = now - 10 * DAY;
        let mut edges: Vec<(Id, Id, Id, i64)> = world
            .follows
            .iter()
            .map(|&(from, to)| {
                let id = state.ids.next_at(follow_at);
                (id, account_ids[from], account_ids[to], follow_at)
            })
            .collect();
        let extra = account_ids[..audience]
            .iter()
            .map(|&a| (a, star))
            .chain(hub_followers.iter().map(|&a| (a, hub)))
            .chain(quiet_followers.map(|a| (a, quiet)));
        for (from, to) in extra {
            edges.push((state.ids.next_at(follow_at), from, to, follow_at));
        }
        for chunk in edges.chunks(50_000) {
            store.insert_follows_bulk(chunk).await.expect("follows");
        }
        eprintln!("{} follows written in {:.1?}", edges.len(), phase.elapsed());

        let phase = Instant::now();
        let post_ids: Vec<Id> = world
            .posts
            .iter()
            .map(|p| state.ids.next_at(p.at))
            .collect();
        let records: Vec<StatusRecord> = world
            .posts
            .iter()
            .zip(&post_ids)
            .map(|(p, &id)| {
                let text = match p.reblog_of {
                    Some(_) => "",
                    None => TEXTS[p.text],
                };
                StatusRecord {
                    id,
                    account_id: account_ids[p.author],
                    text: text.to_string(),
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
                    reblog_of_id: p.reblog_of.map(|o| post_ids[o]),
                    quote_of_id: None,
                    quote_state: None,
                    quote_policy: "public".into(),
                    app_id: None,
                    replies_count: 0,
                    reblogs_count: 0,
                    favourites_count: 0,
                    quotes_count: 0,
                    edited_at: None,
                    created_at: p.at,
                }
            })
            .collect();
        for chunk in records.chunks(10_000) {
            store.insert_statuses_bulk(chunk).await.expect("statuses");
        }
        eprintln!(
            "{} statuses written in {:.1?}",
            records.len(),
            phase.elapsed()
        );

        let phase = Instant::now();
        store.recount_follows().await.expect("follow counts");
        store.recount_statuses().await.expect("status counts");
        eprintln!("counters recomputed in {:.1?}", phase.elapsed());

        let mut most: Vec<usize> = world.followers.clone();
        most.sort_unstable_by(|a, b| b.cmp(a));
        let celebrities = most.iter().filter(|&&f| f as i64 > threshold).count();
        eprintln!(
            "celebrity threshold {threshold}: {celebrities} generated celebrities (+ star); \
             most followed: {:?}",
            &most[..5]
        );

        let merge_reader = account_ids[world.merge_reader];
        let pushed_reader = account_ids[world.pushed_reader];
        let mut tokens = Vec::new();
        for reader in [merge_reader, pushed_reader] {
            // Warm the server: the first read loads the viewer and rebuilds the cached
            // home timeline from the store.
            let first = Instant::now();
            let viewer = Viewer::load(&state, Some(reader)).await.expect("a viewer");
            let (page, _) = timelines::home(&state, &viewer, Page::default())
                .await
                .expect("a home page");
            eprintln!(
                "reader {reader}: follows {}, of them {} celebrities; cached timeline {} \
                 entries; first (cold) read {:.1?}, {} statuses",
                viewer.following.len(),
                viewer.celebrities.len(),
                state.feeds.read(reader).map_or(0, |ids| ids.len()),
                first.elapsed(),
                page.len()
            );
            let token = cascade_server::app::accounts::issue_token(
                &state,
                Some(reader),
                None,
                "read write",
            )
            .await
            .expect("a token")
            .access_token;
            tokens.push(token);
        }
        let mut uncached_config = state.config.clone();
        uncached_config.record_cache =
            RecordCacheConfig::with_capacity(0, uncached_config.record_cache.ttl);
        let uncached = AppState::new(uncached_config, state.store.clone());
        for reader in [merge_reader, pushed_reader] {
            black_box(read_home(&uncached, reader).await);
        }
        let pushed_token = tokens.pop().expect("two tokens");
        let merge_token = tokens.pop().expect("two tokens");

        let app = cascade_server::api::router(state.clone());
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .expect("the server runs");
        });

        let mut filler: Vec<Id> = rand::seq::index::sample(&mut rng, post_ids.len(), 800)
            .into_iter()
            .map(|i| post_ids[i])
            .collect();
        filler.sort_unstable_by(|a, b| b.cmp(a));
        eprintln!("setup done in {:.1?}", started.elapsed());
        Bench {
            state,
            database_url,
            addr,
            merge_reader,
            pushed_reader,
            merge_token,
            pushed_token,
            quiet,
            star,
            hub,
            hub_followers,
            actors,
            uncached,
            filler,
            _dir: dir,
        }
    }

    fn readers(&self) -> [(&'static str, Id, &str); 2] {
        [
            ("pushed only", self.pushed_reader, &self.pushed_token),
            ("with celebrity merge", self.merge_reader, &self.merge_token),
        ]
    }
}

/// What a home timeline request does in-process: load the viewer (cached after the first
/// request) and run the use case.
async fn read_home(state: &AppState, reader: Id) -> timelines::TimelinePage {
    let viewer = Viewer::load(state, Some(reader)).await.expect("a viewer");
    timelines::home(state, &viewer, Page::default())
        .await
        .expect("a home page")
}

/// What a ranked home request does in-process for its first page: rank the newest
/// candidates afresh, keep the snapshot, render 20.
async fn read_ranked(state: &AppState, reader: Id) -> usize {
    let viewer = Viewer::load(state, Some(reader)).await.expect("a viewer");
    let (page, _) = ranked::home(state, &viewer, None, 20)
        .await
        .expect("a ranked page");
    page.len()
}

/// What posting does in-process: load the viewer and run the use case.
async fn accept_post(state: &AppState, author: Id) {
    let viewer = Viewer::load(state, Some(author)).await.expect("a viewer");
    let input = StatusInput {
        text: POST_TEXT.into(),
        ..StatusInput::default()
    };
    black_box(
        statuses::create(state, &viewer, input)
            .await
            .expect("an accepted post"),
    );
}

/// Runs `op` once per iteration inside one `block_on`, timing the whole loop.
fn bench_async<F, Fut>(group: &mut BenchmarkGroup<'_, WallTime>, rt: &Runtime, id: &str, mut op: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    group.bench_function(id, |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    op().await;
                }
                start.elapsed()
            })
        })
    });
}

// ---------------------------------------------------------------------------------------
// Reading the home timeline.

fn bench_reads(c: &mut Criterion, rt: &Runtime, bench: &Bench) {
    let state = &bench.state;
    for (name, reader, _) in bench.readers() {
        let mut group = c.benchmark_group(format!("home20/{name}"));
        bench_async(&mut group, rt, "Viewer::load + home", move || async move {
            black_box(read_home(state, reader).await);
        });

        // The same, taken apart.
        let viewer = rt
            .block_on(Viewer::load(state, Some(reader)))
            .expect("a viewer");
        let viewer = &*viewer;
        bench_async(
            &mut group,
            rt,
            "Viewer::load (cached)",
            move || async move {
                black_box(Viewer::load(state, Some(reader)).await.expect("a viewer"));
            },
        );
        bench_async(&mut group, rt, "Viewer::load (miss)", move || async move {
            state.viewers.forget(&[reader]);
            black_box(Viewer::load(state, Some(reader)).await.expect("a viewer"));
        });
        bench_async(&mut group, rt, "home", move || async move {
            black_box(
                timelines::home(state, viewer, Page::default())
                    .await
                    .expect("a home page"),
            );
        });
        // The candidates `home` hands to rendering, as it computes them.
        let page = Page::default();
        let want = Page {
            limit: page.limit * 2 + 10,
            ..page
        };
        let pushed = want.cut(&state.feeds.read(reader).expect("a cached timeline"));
        let pulled = rt
            .block_on(
                state
                    .store
                    .recent_by_authors(&viewer.celebrities, &[], range(&want)),
            )
            .expect("celebrity posts");
        let candidates = want.cut(&merge_desc(&[&pushed, &pulled], usize::MAX));
        let candidates = &candidates;
        bench_async(
            &mut group,
            rt,
            "feeds.read (cache copy)",
            move || async move {
                black_box(state.feeds.read(reader));
            },
        );
        if !viewer.celebrities.is_empty() {
            bench_async(
                &mut group,
                rt,
                "pull celebrities (store)",
                move || async move {
                    black_box(
                        state
                            .store
                            .recent_by_authors(&viewer.celebrities, &[], range(&want))
                            .await
                            .expect("celebrity posts"),
                    );
                },
            );
        }
        bench_async(&mut group, rt, "render::page", move || async move {
            black_box(
                render::page(state, viewer, candidates, &page, |_, _| true)
                    .await
                    .expect("a rendered page"),
            );
        });
        let (statuses, _) = rt.block_on(read_home(state, reader));
        let statuses = &statuses;
        bench_async(&mut group, rt, "JSON body", move || async move {
            black_box(serde_json::to_vec(statuses).expect("JSON"));
        });
        bench_async(
            &mut group,
            rt,
            "request path (no HTTP)",
            move || async move {
                let viewer = Viewer::load(state, Some(reader)).await.expect("a viewer");
                let (statuses, _) = timelines::home(state, &viewer, Page::default())
                    .await
                    .expect("a home page");
                state.seen(viewer.id, &statuses);
                black_box(serde_json::to_vec(&statuses).expect("JSON"));
            },
        );
        group.finish();
        if !viewer.celebrities.is_empty() {
            bench_render_parts(c, rt, bench, viewer, candidates);
        }
    }
}

/// The queries `render::page` makes for a page's candidates, one by one, and what a
/// single-row query costs on its own: where the time of a read goes.
fn bench_render_parts(
    c: &mut Criterion,
    rt: &Runtime,
    bench: &Bench,
    viewer: &Viewer,
    candidates: &[Id],
) {
    let state = &bench.state;
    let store = &state.store;
    let me = viewer.id.expect("a signed-in viewer");
    let found = rt.block_on(store.statuses(candidates)).expect("statuses");
    let originals: Vec<Id> = found.iter().filter_map(|s| s.reblog_of_id).collect();
    let mut all: Vec<Id> = candidates.to_vec();
    all.extend(&originals);
    let mut authors: Vec<Id> = found.iter().map(|s| s.account_id).collect();
    authors.extend(
        rt.block_on(store.statuses(&originals))
            .expect("statuses")
            .iter()
            .map(|s| s.account_id),
    );
    authors.sort_unstable();
    authors.dedup();
    let (all, authors) = (&all, &authors);
    let mut group = c.benchmark_group("render parts (celebrity merge reader)");
    bench_async(
        &mut group,
        rt,
        "store: one account by id",
        move || async move {
            black_box(store.account(me).await.expect("an account"));
        },
    );
    let name = format!("store: statuses ({} ids)", candidates.len());
    bench_async(&mut group, rt, &name, move || async move {
        black_box(store.statuses(candidates).await.expect("statuses"));
    });
    let name = format!("store: mentions_of ({} ids)", all.len());
    bench_async(&mut group, rt, &name, move || async move {
        black_box(store.mentions_of(all).await.expect("mentions"));
    });
    let name = format!("store: tags_of ({} ids)", all.len());
    bench_async(&mut group, rt, &name, move || async move {
        black_box(store.tags_of(all).await.expect("tags"));
    });
    let name = format!("store: accounts ({} ids)", authors.len());
    bench_async(&mut group, rt, &name, move || async move {
        black_box(store.accounts(authors).await.expect("accounts"));
    });
    let name = format!("store: viewer_state ({} ids)", all.len());
    bench_async(&mut group, rt, &name, move || async move {
        black_box(store.viewer_state(me, all).await.expect("marks"));
    });
    let twenty = &candidates[..candidates.len().min(20)];
    let page = Page::default();
    bench_async(
        &mut group,
        rt,
        "render::page (20 candidates)",
        move || async move {
            black_box(
                render::page(state, viewer, twenty, &page, |_, _| true)
                    .await
                    .expect("a rendered page"),
            );
        },
    );
    group.finish();
}

fn bench_http(c: &mut Criterion, rt: &Runtime, bench: &Bench) {
    let client = &reqwest::Client::new();
    let url = &format!("http://{}/api/v1/timelines/home", bench.addr);
    let mut group = c.benchmark_group("home20 over HTTP (loopback, client in process)");
    for (name, _, token) in bench.readers() {
        let response = rt
            .block_on(client.get(url).bearer_auth(token).send())
            .expect("a response");
        assert!(response.status().is_success(), "home answers");
        bench_async(&mut group, rt, name, move || async move {
            let response = client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("a response");
            black_box(response.bytes().await.expect("a body"));
        });
    }
    group.finish();
}

/// The HTTP home read through a server that counts every request against the caller's
/// rate limit (keyed by the verified account) and one that does not, both otherwise the
/// same, on one store. The limit is set too high to refuse anything: what is measured is
/// the cost of counting. Both sides bound parameters, check scopes and cap requests in
/// flight, which cannot be turned off.
async fn paired_rate_limit(bench: &Bench, rounds: usize, block: u64) {
    let mut config = bench.state.config.clone();
    config.rate_limit = Some(cascade_server::throttle::RateLimit {
        requests: u32::MAX,
        window: Duration::from_secs(300),
    });
    config.worker = false;
    let limited = AppState::new(config, bench.state.store.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let limited_addr = listener.local_addr().expect("an address");
    let app = cascade_server::api::router(limited);
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("the server runs");
    });
    let client = &reqwest::Client::new();
    let urls = [bench.addr, limited_addr].map(|a| format!("http://{a}/api/v1/timelines/home"));
    let urls = &urls;
    let token = &bench.pushed_token;
    let read = |side: usize| async move {
        let response = client
            .get(&urls[side])
            .bearer_auth(token)
            .send()
            .await
            .expect("a response");
        assert!(response.status().is_success(), "home answers");
        black_box(response.bytes().await.expect("a body"));
    };
    for side in [0, 1, 0, 1] {
        read(side).await; // Both servers' caches warm before measuring.
    }
    paired(
        "home timeline over HTTP, 20 items, pushed only",
        ["without the rate limit", "with the rate limit"],
        rounds,
        block,
        read,
    )
    .await;

    // Posting as the 10-follower author, through both servers.
    let token = &cascade_server::app::accounts::issue_token(
        &bench.state,
        Some(bench.quiet),
        None,
        "read write",
    )
    .await
    .expect("a token")
    .access_token;
    let posts = [bench.addr, limited_addr].map(|a| format!("http://{a}/api/v1/statuses"));
    let posts = &posts;
    let post = |side: usize| async move {
        let response = client
            .post(&posts[side])
            .bearer_auth(token)
            .json(&serde_json::json!({ "status": POST_TEXT }))
            .send()
            .await
            .expect("a response");
        let status = response.status();
        let body = response.bytes().await.expect("a body");
        assert!(
            status.is_success(),
            "the post is accepted: {status} {body:?}"
        );
        black_box(body);
    };
    let block = (block / 2).max(1);
    paired(
        "accepting a post over HTTP, 10 followers",
        ["without the rate limit", "with the rate limit"],
        rounds,
        block,
        post,
    )
    .await;
}

// ---------------------------------------------------------------------------------------
// Accepting a post.

/// Gives an account a follower count without the follow rows behind it. Only for the
/// big author: ten million follows would need ten million accounts, and accepting a post
/// reads the count (through the author's account) but never the follow rows.
async fn pretend_followers(database_url: &str, account: Id, count: i64) {
    let db = sqlx::SqlitePool::connect(database_url)
        .await
        .expect("a second connection");
    sqlx::query("UPDATE accounts SET followers_count = $1 WHERE id = $2")
        .bind(count)
        .bind(account)
        .execute(&db)
        .await
        .expect("the count is set");
    db.close().await;
}

fn bench_accept(c: &mut Criterion, rt: &Runtime, bench: &Bench) {
    let state = &bench.state;
    let star_followers = rt
        .block_on(state.store.account(bench.star))
        .expect("the star")
        .followers_count;
    let mut group = c.benchmark_group("accept post");
    let (quiet, star) = (bench.quiet, bench.star);
    bench_async(&mut group, rt, "10 followers", move || async move {
        accept_post(state, quiet).await;
    });
    bench_async(
        &mut group,
        rt,
        &format!("{star_followers} followers (real rows)"),
        move || async move { accept_post(state, star).await },
    );
    rt.block_on(pretend_followers(
        &bench.database_url,
        star,
        PRETEND_FOLLOWERS,
    ));
    bench_async(
        &mut group,
        rt,
        &format!("{PRETEND_FOLLOWERS} followers (count; {star_followers} rows)"),
        move || async move { accept_post(state, star).await },
    );
    group.finish();
    // The posts above left fan-out jobs; run them now, so the fan-out benchmark times
    // only its own.
    let started = Instant::now();
    let jobs = rt.block_on(state.store.count_jobs()).expect("a job count");
    rt.block_on(worker::drain(state)).expect("fan-out drains");
    eprintln!(
        "drained {jobs} fan-out jobs left by the posts in {:.1?}",
        started.elapsed()
    );
}

// ---------------------------------------------------------------------------------------
// Fan-out.

fn bench_fanout(c: &mut Criterion, rt: &Runtime, bench: &Bench) {
    let state = &bench.state;
    let followers = bench.hub_followers.len();
    let started = Instant::now();
    for &f in &bench.hub_followers {
        state.feeds.install(f, bench.filler.clone());
    }
    eprintln!(
        "installed {followers} cached timelines of {} entries in {:.1?}",
        bench.filler.len(),
        started.elapsed()
    );
    let mut group = c.benchmark_group("fan-out");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(followers as u64));
    let hub = bench.hub;
    let drain_one_post = |iters: u64| {
        rt.block_on(async {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                accept_post(state, hub).await;
                let start = Instant::now();
                worker::drain(state).await.expect("fan-out drains");
                spent += start.elapsed();
            }
            spent
        })
    };
    group.bench_function(format!("1 post to {followers} cached timelines"), |b| {
        b.iter_custom(drain_one_post)
    });
    for &f in &bench.hub_followers {
        state.feeds.invalidate(f);
    }
    group.bench_function(
        format!("1 post to {followers} followers, none cached"),
        |b| b.iter_custom(drain_one_post),
    );
    group.finish();
}

// ---------------------------------------------------------------------------------------
// Paired runs: the two sides of a claim in alternating blocks, wall and CPU time.

/// CPU time of the whole process so far (all threads, user and system), from
/// `/proc/self/stat` in clock ticks, taken to be Linux's usual 100 per second.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

#[derive(Default, Clone, Copy)]
struct Tally {
    ops: u64,
    wall: Duration,
    cpu: Duration,
}

impl Tally {
    fn per_op(d: Duration, ops: u64) -> f64 {
        d.as_secs_f64() * 1e6 / ops.max(1) as f64
    }

    fn wall_us(&self) -> f64 {
        Tally::per_op(self.wall, self.ops)
    }

    fn cpu_us(&self) -> f64 {
        Tally::per_op(self.cpu, self.ops)
    }
}

/// Runs `block` operations of each side in turn, `rounds` times, and prints per-operation
/// wall and CPU time and the ratios of `b` to `a`.
async fn paired<F, Fut>(title: &str, names: [&str; 2], rounds: usize, block: u64, mut op: F)
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut tallies = [Tally::default(); 2];
    let mut round_ratios = Vec::new();
    for _ in 0..rounds {
        let mut round = [0.0; 2];
        for (side, tally) in tallies.iter_mut().enumerate() {
            let cpu = process_cpu();
            let start = Instant::now();
            for _ in 0..block {
                op(side).await;
            }
            let wall = start.elapsed();
            tally.ops += block;
            tally.wall += wall;
            if let (Some(before), Some(after)) = (cpu, process_cpu()) {
                tally.cpu += after.saturating_sub(before);
            }
            round[side] = wall.as_secs_f64();
        }
        round_ratios.push(round[1] / round[0]);
    }
    round_ratios.sort_by(f64::total_cmp);
    let [a, b] = tallies;
    println!();
    println!("paired: {title} ({rounds} rounds of {block} each, alternating)");
    for (name, t) in names.iter().zip(&tallies) {
        println!(
            "  {name:<44} wall {:>9.1} µs/op   process CPU {:>9.1} µs/op",
            t.wall_us(),
            t.cpu_us()
        );
    }
    // CPU time comes in 10 ms ticks: too few ticks (a smoke run) make no ratio.
    let cpu_ratio = if a.cpu >= Duration::from_millis(500) {
        format!("{:.3}", b.cpu_us() / a.cpu_us())
    } else {
        "n/a (too short to measure)".to_string()
    };
    println!(
        "  ratio {} / {}: wall {:.3} (median of rounds {:.3}), CPU {cpu_ratio}",
        names[1],
        names[0],
        b.wall_us() / a.wall_us(),
        round_ratios[round_ratios.len() / 2],
    );
}

async fn paired_reads(bench: &Bench, rounds: usize, block: u64) {
    let state = &bench.state;
    let readers = [bench.pushed_reader, bench.merge_reader];
    paired(
        "home timeline, 20 items, Viewer::load + home",
        ["pushed only", "with celebrity merge"],
        rounds,
        block,
        |side| async move {
            black_box(read_home(state, readers[side]).await);
        },
    )
    .await;
}

/// What the record cache saves on a warm home read: the same reader on a server without
/// it (every record from the store) and with it, for each kind of reader.
async fn paired_record_cache(bench: &Bench, rounds: usize, block: u64) {
    for (name, reader, _) in bench.readers() {
        let states = [&bench.uncached, &bench.state];
        paired(
            &format!("home timeline, 20 items, {name}: without and with the record cache"),
            ["without the record cache", "with the record cache"],
            rounds,
            block,
            |side| async move {
                black_box(read_home(states[side], reader).await);
            },
        )
        .await;
    }
}

/// The ranked feed's first page (ranking up to 200 candidates each time) against the
/// chronological page, for each kind of reader.
async fn paired_ranked(bench: &Bench, rounds: usize, block: u64) {
    for (name, reader, _) in bench.readers() {
        let state = &bench.state;
        paired(
            &format!("home timeline, 20 items, {name}: chronological and ranked"),
            ["chronological", "ranked (first page)"],
            rounds,
            block,
            |side| async move {
                if side == 0 {
                    black_box(read_home(state, reader).await);
                } else {
                    black_box(read_ranked(state, reader).await);
                }
            },
        )
        .await;
    }
}

/// What counting views adds to a home read: the same read, with and without recording
/// its statuses' impressions (what the API handler does after rendering a page).
async fn paired_views(bench: &Bench, rounds: usize, block: u64) {
    let state = &bench.state;
    let reader = bench.pushed_reader;
    paired(
        "home timeline, 20 items, with and without counting views",
        ["without view counting", "with view counting"],
        rounds,
        block,
        |side| async move {
            let page = read_home(state, reader).await;
            if side == 1 {
                state.seen(Some(reader), &page.0);
            }
            black_box(page);
        },
    )
    .await;
}

async fn paired_accepts(bench: &Bench, rounds: usize, block: u64) {
    let state = &bench.state;
    let followers = state
        .store
        .account(bench.star)
        .await
        .expect("the star")
        .followers_count;
    let authors = [bench.quiet, bench.star];
    let big = format!("{followers} followers");
    paired(
        "accepting a post, Viewer::load + statuses::create",
        ["10 followers", &big],
        rounds,
        block,
        |side| accept_post(state, authors[side]),
    )
    .await;
}

// ---------------------------------------------------------------------------------------
// The worker's latency under the mixed load.

/// How long what a post owes (its mention's notification, its fan-out) waits for the
/// worker while the server takes a mixed load: half home reads, a tenth public reads, a
/// fifth posts that mention someone, a fifth favourites, started at `MIXED_RATE` per
/// second by `MIXED_CLIENTS` clients. The latency of a job runs from the commit that wrote it to the moment it was
/// done, as the worker records it; the jobs left by the earlier benchmarks are dropped
/// first, so only the mixed load's jobs are measured.
async fn worker_latency(bench: &Bench, duration: Duration) {
    use cascade_core::job::Lane;
    use cascade_store::Mark;
    let state = &bench.state;
    for lane in Lane::ALL {
        loop {
            let left = state
                .store
                .pending_jobs(lane, 0, 1_000)
                .await
                .expect("jobs");
            if left.is_empty() {
                break;
            }
            for job in left {
                state.store.finish_job(job.id).await.expect("a dropped job");
            }
        }
        state.jobs.latencies(lane, true);
    }
    // Posting needs a local user: the authors are new accounts, each followed by a
    // hundred of the generated ones, so every post has a small fan-out.
    let now = time::now_millis();
    let mut authors = Vec::new();
    let mut edges = Vec::new();
    let mut rng = StdRng::seed_from_u64(SEED + 99);
    for i in 0..MIXED_AUTHORS {
        let name = format!("author{i}");
        let account = state
            .store
            .create_account(&NewAccount {
                id: state.ids.next(),
                username: name.clone(),
                email: format!("{name}@bench.test"),
                password_hash: "not a hash: nobody logs in".into(),
                display_name: name.clone(),
                note: String::new(),
                note_html: String::new(),
                bot: false,
                locked: false,
                created_at: now,
                pending: None,
            })
            .await
            .expect("an author");
        for _ in 0..100 {
            let (follower, _) = &bench.actors[rng.gen_range(0..bench.actors.len())];
            edges.push((state.ids.next(), *follower, account.id, now));
        }
        authors.push(account.id);
    }
    state
        .store
        .insert_follows_bulk(&edges)
        .await
        .expect("follows");
    let worker = tokio::spawn(worker::run(state.clone()));
    let started = Instant::now();
    let ops = std::sync::atomic::AtomicU64::new(0);
    let recent = std::sync::Mutex::new(Vec::<Id>::new());
    let client = |seed: u64| {
        let (ops, recent, authors) = (&ops, &recent, &authors);
        async move {
            let mut rng = StdRng::seed_from_u64(SEED + 100 + seed);
            // An open load: each client starts an operation every `period`, whether the
            // last one was quick or not, as independent users would.
            let period = Duration::from_secs_f64(MIXED_CLIENTS as f64 / MIXED_RATE);
            let mut ticks = tokio::time::interval(period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while started.elapsed() < duration {
                ticks.tick().await;
                let (me, _) = &bench.actors[rng.gen_range(0..bench.actors.len())];
                let viewer = Viewer::load(state, Some(*me)).await.expect("a viewer");
                let roll = rng.gen_range(0..20);
                if roll < 10 {
                    black_box(
                        timelines::home(state, &viewer, Page::default())
                            .await
                            .expect("home"),
                    );
                } else if roll < 12 {
                    black_box(
                        timelines::public(state, &viewer, Page::default())
                            .await
                            .expect("public"),
                    );
                } else if roll < 16 {
                    let author = authors[rng.gen_range(0..authors.len())];
                    let viewer = Viewer::load(state, Some(author)).await.expect("an author");
                    let (_, other) = &bench.actors[rng.gen_range(0..bench.actors.len())];
                    let input = StatusInput {
                        text: format!("@{other} {POST_TEXT}"),
                        ..StatusInput::default()
                    };
                    let s = statuses::create(state, &viewer, input)
                        .await
                        .expect("a post");
                    let mut r = recent.lock().unwrap();
                    r.push(s.id.parse().expect("an id"));
                    let len = r.len();
                    if len > 1_000 {
                        r.drain(..len - 1_000);
                    }
                } else {
                    let target = {
                        let r = recent.lock().unwrap();
                        (!r.is_empty()).then(|| r[rng.gen_range(0..r.len())])
                    };
                    if let Some(t) = target {
                        black_box(
                            statuses::mark(state, &viewer, t, Mark::Favourite)
                                .await
                                .expect("a favourite"),
                        );
                    }
                }
                ops.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    };
    futures_util::future::join_all((0..MIXED_CLIENTS as u64).map(client)).await;
    let elapsed = started.elapsed();
    worker::drain(state).await.expect("the jobs drain");
    worker.abort();
    let ops = ops.into_inner();
    println!(
        "worker latency: mixed load of {ops} operations in {elapsed:.1?} ({:.0} ops/s, {MIXED_CLIENTS} clients)",
        ops as f64 / elapsed.as_secs_f64()
    );
    for lane in Lane::ALL {
        let mut ms = state.jobs.latencies(lane, true);
        ms.sort_unstable();
        let at = |q: f64| {
            ms.get(((ms.len() as f64 * q) as usize).min(ms.len().saturating_sub(1)))
                .copied()
        };
        println!(
            "worker latency: {lane:?} lane, {} jobs: p50 {:?} ms, p99 {:?} ms, max {:?} ms",
            ms.len(),
            at(0.5),
            at(0.99),
            ms.last()
        );
    }
}

/// A home read of 20 posts that each carry a picture against one of 20 posts without:
/// two fresh readers, each following one fresh author of 20 posts, read and serialised
/// to JSON as the API answers (the target: within 20%).
async fn paired_attachments(bench: &Bench, rounds: usize, block: u64) {
    let state = &bench.state;
    let mut readers = Vec::new();
    for (side, pictures) in [(0, false), (1, true)] {
        let named = |role: &str| format!("attach{side}{role}");
        // Usernames are letters, digits and underscores.
        let make = |name: String| async move {
            cascade_server::app::accounts::register(
                state,
                &name,
                &format!("{name}@bench.test"),
                "a bench password",
                Default::default(),
            )
            .await
            .expect("an account")
        };
        let author = make(named("author")).await;
        let reader = make(named("reader")).await;
        cascade_server::app::accounts::follow(state, reader.id, author.id, true, false)
            .await
            .expect("a follow");
        let viewer = Viewer::load(state, Some(author.id))
            .await
            .expect("a viewer");
        for i in 0..20 {
            let input = StatusInput {
                text: format!("{POST_TEXT} {i}"),
                ..StatusInput::default()
            };
            let post = statuses::create(state, &viewer, input)
                .await
                .expect("a post");
            if pictures {
                let picture =
                    image::RgbaImage::from_pixel(64, 48, image::Rgba([40, 120, 200, 255]));
                cascade_server::app::media::attach_picture(
                    state,
                    author.id,
                    post.id.parse().expect("an id"),
                    picture,
                    "A blue rectangle".into(),
                )
                .await
                .expect("a picture");
            }
        }
        readers.push(reader.id);
    }
    worker::drain(state).await.expect("fan-out drains");
    let page = read_home(state, readers[1]).await;
    let json = serde_json::to_value(&page.0).expect("JSON");
    assert_eq!(json.as_array().map(Vec::len), Some(20), "a full page");
    assert!(
        json[0]["media_attachments"][0]["url"].is_string(),
        "the pictures are on the page"
    );
    paired(
        "home timeline, 20 items serialised: without and with a picture on each",
        ["no attachments", "a picture on each"],
        rounds,
        block,
        |side| {
            let reader = readers[side];
            async move {
                let page = read_home(state, reader).await;
                black_box(serde_json::to_vec(&page.0).expect("JSON"));
            }
        },
    )
    .await;
}
