//! The demo world that `cascade serve --demo` builds into an empty store: about two thousand
//! accounts with a heavy-tailed follow graph, three days of posts, replies, reblogs and
//! favourites, one small account's post that went viral through reblogs and a quote, and
//! the `demo` login whose home timeline is full from the first request.
//!
//! Everything is drawn from one seeded generator, so every build is the same world; only
//! ids and times move with the clock. This module must never write into a store that
//! already has accounts (it refuses), and it must not leave fan-out jobs behind: home
//! timelines of a fresh server are rebuilt from the store when first read.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::future::Future;

use anyhow::{anyhow, bail, Context};
use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
use cascade_core::hll::HyperLogLog;
use cascade_core::text::{self, MentionLink};
use cascade_core::{time, Id, IdGenerator, Visibility};
use cascade_store::{
    AccountUpdate, CascadeLink, Mark, NewAccount, NewStatusRecord, StatusRecord, Store, StoreError,
};
use indicatif::{ProgressBar, ProgressStyle};
use rand::distributions::{Distribution, WeightedIndex};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// What was built, for the message the server prints before it starts listening.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    pub accounts: usize,
    pub statuses: usize,
    pub viral_status_id: i64,
    pub viral_author: String,
    pub login_username: String,
    pub login_password: &'static str,
    /// `(status, author)` of the posts that `illustrate` gives a picture: the viral post
    /// first, then every 40th public original post.
    pub pictured: Vec<(Id, Id)>,
}

/// Posts given a picture, the viral one included.
const PICTURES: usize = 40;

const SEED: u64 = 0xCA5C_ADE0_2026;
/// Generated accounts, not counting the `demo` login.
const ACCOUNTS: usize = 2_000;
const POSTS: usize = 3_000;
const BACKGROUND_REBLOGS: usize = 450;
const BACKGROUND_FAVOURITES: usize = 2_600;

const LOGIN_USERNAME: &str = "demo";
const LOGIN_PASSWORD: &str = "demo-password-123";

/// What `serve --demo` prints once the server is about to listen: where the web app is
/// and whom to sign in as, whether the world was just built or built by an earlier run.
pub fn welcome(base_url: &str) -> String {
    format!(
        "Open the web app at {base_url}/ and sign in as {LOGIN_USERNAME} with password {LOGIN_PASSWORD}"
    )
}

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// Concurrent writers on PostgreSQL, where each transaction waits for its own commit.
/// SQLite has one writer connection, so more tasks would only queue for it.
const POSTGRES_WRITERS: usize = 8;

/// Builds the demo world into `store`, which must hold no accounts yet. `base_url` is
/// where the instance is reached (links in posts point there); `domain` names it in the
/// demo login's email address.
pub async fn build(
    store: &Store,
    ids: &IdGenerator,
    domain: &str,
    base_url: &str,
) -> anyhow::Result<DemoSummary> {
    if store.count_users().await? > 0 || store.first_account().await?.is_some() {
        bail!("the store is not empty");
    }
    // Hashing is slow on purpose, so it runs while the world is drawn and written.
    let hashing = tokio::task::spawn_blocking(|| {
        argon2::Argon2::default()
            .hash_password(LOGIN_PASSWORD.as_bytes(), &SaltString::generate(&mut OsRng))
            .map(|hash| hash.to_string())
            .map_err(|e| anyhow!("hashing the demo password: {e}"))
    });

    let now = time::now_millis();
    let world = World::generate(now)?;
    let assigned = world.assign_ids(ids);
    let links = Links::new(base_url, &world.people);

    let demo = world.people.len() - 1;
    let posts_with_text = world.posts.iter().filter(|p| p.reblog_of.is_none()).count();
    let bar = ProgressBar::new(
        (2 * world.people.len()
            + world.follows.len()
            + world.posts.len()
            + world.favourites.len()
            + 1) as u64,
    );
    bar.set_style(
        ProgressStyle::with_template("{msg:>11} [{bar:32}] {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );

    bar.set_message("accounts");
    let accounts: Vec<(Id, String, String, i64)> = world.people[..demo]
        .iter()
        .zip(&assigned.accounts)
        .map(|(p, &id)| (id, p.username.clone(), p.display_name.clone(), p.created_at))
        .collect();
    for chunk in accounts.chunks(500) {
        store.insert_accounts_bulk(chunk).await?;
        bar.inc(chunk.len() as u64);
    }
    let login = &world.people[demo];
    let password_hash = hashing.await.context("hashing the demo password")??;
    store
        .create_account(&NewAccount {
            id: assigned.accounts[demo],
            username: login.username.clone(),
            email: format!("{LOGIN_USERNAME}@{domain}"),
            password_hash,
            display_name: login.display_name.clone(),
            note: login.note.clone(),
            note_html: links.render(&login.note),
            bot: false,
            locked: false,
            created_at: login.created_at,
            pending: None,
        })
        .await?;
    bar.inc(1);

    bar.set_message("follows");
    let follows: Vec<(Id, Id, Id, i64)> = world
        .follows
        .iter()
        .zip(&assigned.follows)
        .map(|(f, &id)| (id, assigned.accounts[f.from], assigned.accounts[f.to], f.at))
        .collect();
    for chunk in follows.chunks(1_000) {
        store.insert_follows_bulk(chunk).await?;
        bar.inc(chunk.len() as u64);
    }

    bar.set_message("profiles");
    let bios: Vec<(Id, AccountUpdate)> = world.people[..demo]
        .iter()
        .zip(&assigned.accounts)
        .map(|(p, &id)| {
            let update = AccountUpdate {
                note: Some((p.note.clone(), links.render(&p.note))),
                ..AccountUpdate::default()
            };
            (id, update)
        })
        .collect();
    in_parallel(store, bios, &bar, |store, (id, update)| async move {
        store.update_account(id, &update, &[]).await.map(|_| ())
    })
    .await?;

    // Posts with text go through `create_status`, the only write that also records
    // mentions, hashtags and the replied-to account; reblogs have none of those, so they
    // take the bulk path.
    bar.set_message("posts");
    let mut tag_ids: HashMap<String, Id> = HashMap::new();
    let mut with_text = Vec::with_capacity(posts_with_text);
    let mut reblogs = Vec::with_capacity(world.posts.len() - posts_with_text);
    for (i, post) in world.posts.iter().enumerate() {
        let mut record = StatusRecord {
            id: assigned.posts[i],
            account_id: assigned.accounts[post.author],
            text: String::new(),
            content_html: String::new(),
            spoiler_text: String::new(),
            visibility: post.visibility.code(),
            sensitive: false,
            language: None,
            in_reply_to_id: post.reply_to.map(|p| assigned.posts[p]),
            in_reply_to_account_id: post
                .reply_to
                .map(|p| assigned.accounts[world.posts[p].author]),
            reblog_of_id: post.reblog_of.map(|p| assigned.posts[p]),
            quote_of_id: post.quote_of.map(|p| assigned.posts[p]),
            quote_state: post.quote_of.map(|_| "accepted".to_string()),
            quote_policy: "public".to_string(),
            app_id: None,
            replies_count: 0,
            reblogs_count: 0,
            favourites_count: 0,
            quotes_count: 0,
            edited_at: None,
            created_at: post.at,
        };
        if post.reblog_of.is_some() {
            reblogs.push(record);
            continue;
        }
        record.text = post.text.clone();
        record.content_html = links.render(&post.text);
        record.language = Some("en".to_string());
        let mentions = links
            .mentioned(&post.text)
            .into_iter()
            .filter(|&m| m != post.author)
            .map(|m| assigned.accounts[m])
            .collect();
        let mut names = text::hashtags(&post.text);
        // One order for every status, so concurrent writers take tag locks in the same
        // order and cannot deadlock on PostgreSQL.
        names.sort();
        let tags = names
            .into_iter()
            .map(|name| {
                (
                    *tag_ids.entry(name.clone()).or_insert_with(|| ids.next()),
                    name,
                )
            })
            .collect();
        with_text.push(NewStatusRecord {
            status: record,
            mentions,
            tags,
            idempotency_key: None,
            // The world is already complete, so there is nothing to deliver.
            jobs: Vec::new(),
            cascade: None,
            poll: None,
            media: Vec::new(),
            remote_media: Vec::new(),
            remote: None,
        });
    }
    in_parallel(store, with_text, &bar, |store, record| async move {
        store.create_status(&record).await.map(|_| ())
    })
    .await?;
    for chunk in reblogs.chunks(500) {
        store.insert_statuses_bulk(chunk).await?;
        bar.inc(chunk.len() as u64);
    }

    // Every reshare's place in its cascade, inferred as the server infers it when no
    // better hint exists: the latest earlier reshare by an account the resharer follows.
    let (links, sketches) = cascade_links(&world, &assigned);
    store.set_cascade_links(&links).await?;
    for (root, sketch) in sketches {
        store.save_exposure_sketch(root, &sketch.to_bytes()).await?;
    }

    bar.set_message("favourites");
    let favourites: Vec<(Id, Id, Id, i64)> = world
        .favourites
        .iter()
        .zip(&assigned.favourites)
        .map(|(f, &id)| {
            (
                id,
                assigned.accounts[f.account],
                assigned.posts[f.post],
                f.at,
            )
        })
        .collect();
    in_parallel(
        store,
        favourites,
        &bar,
        |store, (id, account, status, at)| async move {
            store
                .add_mark(Mark::Favourite, id, account, status, at, &[])
                .await
                .map(|_| ())
        },
    )
    .await?;

    bar.set_message("counters");
    store.recount_follows().await?;
    store.recount_statuses().await?;
    bar.inc(1);
    bar.finish_and_clear();

    Ok(DemoSummary {
        accounts: world.people.len(),
        statuses: world.posts.len(),
        viral_status_id: assigned.posts[world.viral],
        viral_author: world.people[world.posts[world.viral].author]
            .username
            .clone(),
        login_username: LOGIN_USERNAME.to_string(),
        login_password: LOGIN_PASSWORD,
        pictured: std::iter::once(world.viral)
            .chain(
                world
                    .posts
                    .iter()
                    .enumerate()
                    .filter(|(i, p)| {
                        *i != world.viral
                            && p.reblog_of.is_none()
                            && p.reply_to.is_none()
                            && p.visibility == Visibility::Public
                    })
                    .map(|(i, _)| i)
                    .step_by(40),
            )
            .take(PICTURES)
            .map(|i| (assigned.posts[i], assigned.accounts[world.posts[i].author]))
            .collect(),
    })
}

/// Gives the posts `summary.pictured` names a picture each, drawn here from a seed (a
/// landscape: a sky, a sun, hills), stored as an upload is and attached to the post.
/// Accounts need nothing: each has its generated avatar already.
pub async fn illustrate(state: &crate::AppState, summary: &DemoSummary) -> anyhow::Result<usize> {
    let mut rng = StdRng::seed_from_u64(SEED ^ 0x1A4D);
    let mut done = 0;
    for &(status, author) in &summary.pictured {
        let (picture, description) = landscape(&mut rng);
        crate::app::media::attach_picture(state, author, status, picture, description)
            .await
            .map_err(|e| anyhow!("a demo picture: {e}"))?;
        done += 1;
    }
    Ok(done)
}

/// Gives the demo login the notifications a lively account would have: its newest
/// followers, and the favourites and reblogs of its own posts, each through
/// `notifications::notify` as the worker would write them (once per event, so a
/// second run adds nothing). The world is written in bulk, without the jobs that
/// notify, so without this the login's notifications would be empty. Returns how many
/// events it notified.
pub async fn greet(state: &crate::AppState) -> anyhow::Result<usize> {
    use crate::app::notifications::notify;
    use cascade_core::notification::NotificationKind;
    let fail = |e: crate::error::ApiError| anyhow!("a demo notification: {e}");
    let login = state.store.account_by_username(LOGIN_USERNAME).await?;
    let mut done = 0;
    let followers = state
        .store
        .edges(cascade_store::EdgeKind::Followers, login.id, None, None, 12)
        .await?;
    for edge in followers.iter().rev() {
        notify(
            state,
            login.id,
            edge.account_id,
            NotificationKind::Follow,
            None,
        )
        .await
        .map_err(fail)?;
        done += 1;
    }
    let page = cascade_core::timeline::Page {
        limit: 5,
        ..Default::default()
    };
    let filter = cascade_store::AccountStatusesFilter {
        exclude_replies: true,
        exclude_reblogs: true,
        ..Default::default()
    };
    let posts = state
        .store
        .account_statuses(
            login.id,
            Some(login.id),
            Visibility::Private.code(),
            &filter,
            cascade_store::range(&page),
        )
        .await?;
    for post in posts {
        for (_, from) in state.store.favourited_by(post, None, None, 30).await? {
            notify(
                state,
                login.id,
                from,
                NotificationKind::Favourite,
                Some(post),
            )
            .await
            .map_err(fail)?;
            done += 1;
        }
        let reblogs = state
            .store
            .reshares_of(cascade_store::Reshare::Reblog, post, None, None, 30)
            .await?;
        for (_, from) in reblogs {
            notify(state, login.id, from, NotificationKind::Reblog, Some(post))
                .await
                .map_err(fail)?;
            done += 1;
        }
    }
    Ok(done)
}

/// A generated landscape, 640×400, and its description.
fn landscape(rng: &mut StdRng) -> (image::RgbaImage, String) {
    const W: u32 = 640;
    const H: u32 = 400;
    let skies: [(&str, [f32; 3], [f32; 3]); 4] = [
        ("a dawn sky", [250.0, 200.0, 150.0], [120.0, 140.0, 200.0]),
        ("a blue sky", [120.0, 180.0, 240.0], [220.0, 235.0, 250.0]),
        ("a sunset", [240.0, 120.0, 80.0], [80.0, 50.0, 120.0]),
        ("a night sky", [20.0, 30.0, 70.0], [60.0, 70.0, 120.0]),
    ];
    let (sky_name, top, bottom) = skies[rng.gen_range(0..skies.len())];
    let hills: usize = rng.gen_range(2..=4);
    let hill_colour = [
        rng.gen_range(30.0..90.0f32),
        rng.gen_range(90.0..160.0f32),
        rng.gen_range(40.0..90.0f32),
    ];
    let ridges: Vec<(f32, f32, f32)> = (0..hills)
        .map(|i| {
            (
                rng.gen_range(0.004..0.02f32),
                rng.gen_range(0.0..std::f32::consts::TAU),
                H as f32 * (0.55 + 0.1 * i as f32),
            )
        })
        .collect();
    let sun = (
        rng.gen_range(80.0..560.0f32),
        rng.gen_range(60.0..180.0f32),
        rng.gen_range(25.0..50.0f32),
    );
    let img = image::RgbaImage::from_fn(W, H, |x, y| {
        let (fx, fy) = (x as f32, y as f32);
        let t = fy / H as f32;
        let mut c = [0f32; 3];
        for k in 0..3 {
            c[k] = top[k] * (1.0 - t) + bottom[k] * t;
        }
        if (fx - sun.0).hypot(fy - sun.1) < sun.2 {
            c = [255.0, 225.0, 120.0];
        }
        for (i, (freq, phase, base)) in ridges.iter().enumerate() {
            let ridge = base + 30.0 * (fx * freq + phase).sin();
            if fy > ridge {
                let shade = 1.0 - 0.18 * i as f32;
                c = [
                    hill_colour[0] * shade,
                    hill_colour[1] * shade,
                    hill_colour[2] * shade,
                ];
            }
        }
        image::Rgba([c[0] as u8, c[1] as u8, c[2] as u8, 255])
    });
    let description = format!("A drawn landscape: {hills} green hills under {sky_name} with a sun");
    (img, description)
}

/// What the demo sets on each cascade node: its link (for reshares) and what it exposed.
type NodeFacts = (Id, Option<CascadeLink>, Option<i64>);

/// The cascade link of every reblog and quote of the world: its root (quotes belong to
/// the cascade of what they quote), its parent (the latest earlier reshare of the same
/// status by an account the resharer follows, else that status) and the resharer's
/// follower count; and, for every node of a cascade that was reshared, the accounts it
/// newly exposed, with each cascade's sketch of reached accounts, as the fan-out worker
/// would have counted them.
fn cascade_links(world: &World, assigned: &Assigned) -> (Vec<NodeFacts>, Vec<(Id, HyperLogLog)>) {
    let follows: HashSet<(usize, usize)> = world.follows.iter().map(|f| (f.from, f.to)).collect();
    let mut followers: Vec<Vec<usize>> = vec![Vec::new(); world.people.len()];
    for f in &world.follows {
        followers[f.to].push(f.from);
    }
    let root = |mut i: usize| {
        while let Some(q) = world.posts[i].quote_of {
            i = q;
        }
        i
    };
    let mut order: Vec<usize> = (0..world.posts.len()).collect();
    order.sort_by_key(|&i| world.posts[i].at);
    // Reshares of each status so far, in time order; accounts reached per cascade root.
    let mut reshares: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut reached: HashMap<usize, HashSet<usize>> = HashMap::new();
    let mut links = Vec::new();
    for i in order {
        let post = &world.posts[i];
        let Some(original) = post.reblog_of.or(post.quote_of) else {
            continue;
        };
        let earlier = reshares.entry(original).or_default();
        let parent = earlier
            .iter()
            .rev()
            .find(|&&r| follows.contains(&(post.author, world.posts[r].author)))
            .copied()
            .unwrap_or(original);
        earlier.push(i);
        let root = root(original);
        let seen = reached.entry(root).or_insert_with(|| {
            let seeded: HashSet<usize> = followers[world.posts[root].author]
                .iter()
                .copied()
                .collect();
            links.push((assigned.posts[root], None, Some(seeded.len() as i64)));
            seeded
        });
        let exposed = followers[post.author]
            .iter()
            .filter(|&&f| seen.insert(f))
            .count();
        links.push((
            assigned.posts[i],
            Some(CascadeLink {
                root_id: assigned.posts[root],
                parent_id: assigned.posts[parent],
                followers: followers[post.author].len() as i64,
            }),
            Some(exposed as i64),
        ));
    }
    let sketches = reached
        .into_iter()
        .map(|(root, accounts)| {
            let mut sketch = HyperLogLog::new();
            accounts
                .iter()
                .for_each(|&a| sketch.add(assigned.accounts[a] as u64));
            (assigned.posts[root], sketch)
        })
        .collect();
    (links, sketches)
}

/// Runs `work` on every item, on one writer for SQLite and several for PostgreSQL.
async fn in_parallel<T, F, Fut>(
    store: &Store,
    items: Vec<T>,
    bar: &ProgressBar,
    work: F,
) -> anyhow::Result<()>
where
    T: Send + 'static,
    F: Fn(Store, T) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), StoreError>> + Send + 'static,
{
    let writers = if store.backend() == "postgres" {
        POSTGRES_WRITERS
    } else {
        1
    };
    let mut lanes: Vec<Vec<T>> = (0..writers).map(|_| Vec::new()).collect();
    for (i, item) in items.into_iter().enumerate() {
        lanes[i % writers].push(item);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for lane in lanes {
        let (store, bar, work) = (store.clone(), bar.clone(), work.clone());
        tasks.spawn(async move {
            for item in lane {
                work(store.clone(), item).await?;
                bar.inc(1);
            }
            Ok::<(), StoreError>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.context("a demo writer stopped")??;
    }
    Ok(())
}

/// Turns usernames and hashtags in demo text into links, the way posting does.
struct Links<'a> {
    base_url: String,
    by_name: HashMap<String, (usize, &'a str)>,
}

impl<'a> Links<'a> {
    fn new(base_url: &str, people: &'a [Person]) -> Links<'a> {
        let by_name = people
            .iter()
            .enumerate()
            .map(|(i, p)| (p.username.to_lowercase(), (i, p.username.as_str())))
            .collect();
        Links {
            base_url: base_url.trim_end_matches('/').to_string(),
            by_name,
        }
    }

    fn render(&self, text: &str) -> String {
        text::render_html(
            text,
            |username, domain| {
                if domain.is_some() {
                    return None;
                }
                self.by_name
                    .get(&username.to_lowercase())
                    .map(|&(_, name)| MentionLink {
                        url: format!("{}/@{name}", self.base_url),
                        username: name.to_string(),
                    })
            },
            |tag| format!("{}/tags/{}", self.base_url, tag.to_lowercase()),
        )
    }

    /// The people a text mentions.
    fn mentioned(&self, text: &str) -> Vec<usize> {
        text::mentions(text)
            .into_iter()
            .filter(|(_, domain)| domain.is_none())
            .filter_map(|(username, _)| self.by_name.get(&username.to_lowercase()).map(|&(i, _)| i))
            .collect()
    }
}

/// One account of the world. People are numbered by popularity rank: person 0 is the
/// most followed, and the last person is the `demo` login.
struct Person {
    username: String,
    display_name: String,
    note: String,
    topics: [usize; 2],
    created_at: i64,
}

struct Follow {
    at: i64,
    from: usize,
    to: usize,
}

/// A status of the world; references to other statuses are indexes into `World::posts`.
struct Post {
    at: i64,
    author: usize,
    text: String,
    visibility: Visibility,
    reply_to: Option<usize>,
    quote_of: Option<usize>,
    reblog_of: Option<usize>,
}

struct Favourite {
    at: i64,
    account: usize,
    post: usize,
}

/// The world before it has ids. Ids carry their creation time and the generator only
/// hands them out in increasing order, so every record is drawn first, with its time, and
/// ids are given out afterwards in time order (`assign_ids`).
struct World {
    people: Vec<Person>,
    follows: Vec<Follow>,
    posts: Vec<Post>,
    favourites: Vec<Favourite>,
    viral: usize,
}

/// The ids of a world's records, index for index.
struct Assigned {
    accounts: Vec<Id>,
    follows: Vec<Id>,
    posts: Vec<Id>,
    favourites: Vec<Id>,
}

/// Who follows whom, with both directions at hand.
struct Graph {
    followers: Vec<Vec<usize>>,
    following: Vec<Vec<usize>>,
    edges: HashSet<(usize, usize)>,
}

impl Graph {
    fn new(people: usize) -> Graph {
        Graph {
            followers: vec![Vec::new(); people],
            following: vec![Vec::new(); people],
            edges: HashSet::new(),
        }
    }

    /// Adds `from → to`; false when it was there already or would be a self-follow.
    fn add(&mut self, from: usize, to: usize) -> bool {
        if from == to || !self.edges.insert((from, to)) {
            return false;
        }
        self.followers[to].push(from);
        self.following[from].push(to);
        true
    }
}

impl World {
    fn generate(now: i64) -> anyhow::Result<World> {
        let mut rng = StdRng::seed_from_u64(SEED);
        let people = people(&mut rng, now);
        let demo = people.len() - 1;
        let mut graph = follow_graph(&mut rng, &people);
        let mut world = World {
            people,
            follows: Vec::new(),
            posts: Vec::new(),
            favourites: Vec::new(),
            viral: 0,
        };
        let cast = world.cast_viral(&mut rng, &mut graph)?;
        let latest = now - 3 * DAY - HOUR;
        for (from, targets) in graph.following.iter().enumerate() {
            for &to in targets {
                let earliest = world.people[from]
                    .created_at
                    .max(world.people[to].created_at)
                    + HOUR;
                world.follows.push(Follow {
                    at: rng.gen_range(earliest..latest),
                    from,
                    to,
                });
            }
        }
        let mut done = Done::default();
        world.background_posts(&mut rng, &graph, now, demo);
        world.viral_cascade(&mut rng, &graph, &cast, &mut done, now, demo);
        world.demo_activity(&mut rng, &graph, &mut done, now, demo);
        world.background_reblogs(&mut rng, &graph, &mut done, now, demo);
        world.background_favourites(&mut rng, &graph, &mut done, now, demo);
        Ok(world)
    }

    /// Hands out ids in the order the records were created.
    fn assign_ids(&self, ids: &IdGenerator) -> Assigned {
        let mut order: Vec<(i64, u8, usize)> = Vec::new();
        order.extend(
            self.people
                .iter()
                .enumerate()
                .map(|(i, p)| (p.created_at, 0, i)),
        );
        order.extend(self.follows.iter().enumerate().map(|(i, f)| (f.at, 1, i)));
        order.extend(self.posts.iter().enumerate().map(|(i, p)| (p.at, 2, i)));
        order.extend(
            self.favourites
                .iter()
                .enumerate()
                .map(|(i, f)| (f.at, 3, i)),
        );
        order.sort_unstable();
        let mut out = Assigned {
            accounts: vec![0; self.people.len()],
            follows: vec![0; self.follows.len()],
            posts: vec![0; self.posts.len()],
            favourites: vec![0; self.favourites.len()],
        };
        for (at, kind, i) in order {
            let id = ids.next_at(at);
            match kind {
                0 => out.accounts[i] = id,
                1 => out.follows[i] = id,
                2 => out.posts[i] = id,
                _ => out.favourites[i] = id,
            }
        }
        out
    }

    fn post(&mut self, post: Post) -> usize {
        self.posts.push(post);
        self.posts.len() - 1
    }

    fn reblog(&mut self, done: &mut Done, account: usize, of: usize, at: i64) -> usize {
        done.reblogged.insert((account, of));
        let visibility = self.posts[of].visibility;
        self.post(Post {
            at,
            author: account,
            text: String::new(),
            visibility,
            reply_to: None,
            quote_of: None,
            reblog_of: Some(of),
        })
    }

    fn reply(&mut self, author: usize, to: usize, line: &str, at: i64) -> usize {
        let parent = &self.posts[to];
        let text = if parent.author == author {
            line.to_string()
        } else {
            format!("@{} {line}", self.people[parent.author].username)
        };
        let visibility = parent.visibility;
        self.post(Post {
            at,
            author,
            text,
            visibility,
            reply_to: Some(to),
            quote_of: None,
            reblog_of: None,
        })
    }

    fn favourite(&mut self, done: &mut Done, account: usize, post: usize, at: i64) {
        if done.favourited.insert((account, post)) {
            self.favourites.push(Favourite { at, account, post });
        }
    }

    /// Chooses the accounts of the viral story and adds the follows it travels along:
    /// the mid-sized account follows the first resharer, the biggest account follows the
    /// mid-sized one.
    fn cast_viral(&self, rng: &mut StdRng, graph: &mut Graph) -> anyhow::Result<Cast> {
        let demo = self.people.len() - 1;
        let big = 0;
        let mid = rng.gen_range(30..60);
        let bread = TOPICS
            .iter()
            .position(|t| t.tag == "sourdough")
            .unwrap_or(0);
        let fits = |v: usize, topic: bool| {
            let others = graph.followers[v]
                .iter()
                .filter(|&&f| f != big && f != mid && f != demo)
                .count();
            (2..=8).contains(&graph.followers[v].len())
                && others >= 2
                && (!topic || self.people[v].topics.contains(&bread))
        };
        let mut candidates: Vec<usize> = (ACCOUNTS / 2..ACCOUNTS)
            .filter(|&v| fits(v, true))
            .collect();
        if candidates.is_empty() {
            candidates = (ACCOUNTS / 2..ACCOUNTS)
                .filter(|&v| fits(v, false))
                .collect();
        }
        let author = *pick(rng, &candidates).context("no account fits the viral story")?;
        let sharers: Vec<usize> = graph.followers[author]
            .iter()
            .copied()
            .filter(|&f| f != big && f != mid && f != demo)
            .collect();
        let first = *pick(rng, &sharers).context("the viral author has no follower to reshare")?;
        graph.add(mid, first);
        graph.add(big, mid);
        Ok(Cast {
            author,
            first,
            mid,
            big,
        })
    }

    /// Three days of ordinary posts and conversations.
    fn background_posts(&mut self, rng: &mut StdRng, graph: &Graph, now: i64, demo: usize) {
        // People post more in the afternoon and evening than at night.
        let busy: Vec<f64> = (0..24)
            .map(|h| {
                0.55 + 0.45 * ((f64::from(h) + 0.5 - 17.0) / 24.0 * std::f64::consts::TAU).cos()
            })
            .collect();
        let hours = WeightedIndex::new(&busy).expect("hourly weights are positive");
        let mut times: Vec<i64> = (0..POSTS)
            .map(|_| time_of_day(rng, &hours, now - 5 * MINUTE, 3))
            .collect();
        times.sort_unstable();
        // How much each account posts: heavy-tailed, a little higher for popular accounts.
        let activity: Vec<f64> = (0..ACCOUNTS)
            .map(|r| pareto(rng, 1.0, 1.6).min(40.0) / ((r + 1) as f64).powf(0.25))
            .collect();
        let activity = WeightedIndex::new(&activity).expect("activity weights are positive");
        let mut open: Vec<usize> = Vec::new();
        for at in times {
            if !open.is_empty() && rng.gen_bool(0.2) {
                // Replies go to something posted recently, usually by someone followed.
                let parent = open[rng.gen_range(open.len().saturating_sub(150)..open.len())];
                let parent_author = self.posts[parent].author;
                let grandparent = self.posts[parent].reply_to.map(|g| self.posts[g].author);
                let followers: Vec<usize> = graph.followers[parent_author]
                    .iter()
                    .copied()
                    .filter(|&f| f != demo)
                    .collect();
                let author = match grandparent {
                    Some(g) if g != parent_author && g != demo && rng.gen_bool(0.45) => g,
                    _ if rng.gen_bool(0.06) => parent_author,
                    _ => match pick(rng, &followers) {
                        Some(&f) if rng.gen_bool(0.85) => f,
                        _ => activity.sample(rng),
                    },
                };
                let line = if author == parent_author {
                    format!(
                        "Update: {}",
                        pick_str(rng, TOPICS[self.people[author].topics[0]].lines)
                    )
                } else {
                    pick_str(rng, REPLIES).to_string()
                };
                let reply = self.reply(author, parent, &line, at);
                open.push(reply);
            } else {
                let author = activity.sample(rng);
                let text = original_text(rng, &self.people, graph, author);
                let visibility = match rng.gen_range(0..100) {
                    0..=84 => Visibility::Public,
                    85..=94 => Visibility::Unlisted,
                    _ => Visibility::Private,
                };
                let post = self.post(Post {
                    at,
                    author,
                    text,
                    visibility,
                    reply_to: None,
                    quote_of: None,
                    reblog_of: None,
                });
                if visibility.is_shareable() {
                    open.push(post);
                }
            }
        }
    }

    /// The viral post and its reshare cascade, simulated over the follow graph: each
    /// reshare shows the post to the resharer's followers a little later, and each of
    /// them may reshare it in turn, less likely as the post ages and as they keep
    /// seeing it.
    fn viral_cascade(
        &mut self,
        rng: &mut StdRng,
        graph: &Graph,
        cast: &Cast,
        done: &mut Done,
        now: i64,
        demo: usize,
    ) {
        let start = now - 16 * HOUR;
        let viral = self.post(Post {
            at: start,
            author: cast.author,
            text: VIRAL.to_string(),
            visibility: Visibility::Public,
            reply_to: None,
            quote_of: None,
            reblog_of: None,
        });
        self.viral = viral;
        let quote_text = format!(
            "This is the best thing on my timeline today. Protect grandma's starter at all costs. (via @{}) #sourdough",
            self.people[cast.author].username
        );
        let quote_at = start + 52 * MINUTE;
        let quote = self.post(Post {
            at: quote_at,
            author: cast.mid,
            text: quote_text,
            visibility: Visibility::Public,
            reply_to: None,
            quote_of: Some(viral),
            reblog_of: None,
        });
        // Nobody reshares their own post.
        done.reblogged.insert((cast.author, viral));
        done.reblogged.insert((cast.mid, quote));

        let mut seen: BinaryHeap<Reverse<(i64, usize, usize)>> = BinaryHeap::new();
        let show = |seen: &mut BinaryHeap<Reverse<(i64, usize, usize)>>,
                    rng: &mut StdRng,
                    from: usize,
                    post: usize,
                    at: i64| {
            for &f in &graph.followers[from] {
                seen.push(Reverse((
                    at + exponential(rng, 70.0 * MINUTE as f64) + MINUTE,
                    f,
                    post,
                )));
            }
        };
        show(&mut seen, rng, cast.author, viral, start);
        show(&mut seen, rng, cast.mid, quote, quote_at);
        for (account, at) in [
            (cast.first, start + 18 * MINUTE),
            (cast.mid, start + 47 * MINUTE),
            (cast.big, start + 130 * MINUTE),
        ] {
            self.reblog(done, account, viral, at);
            show(&mut seen, rng, account, viral, at);
        }

        let mut exposures: HashMap<(usize, usize), u32> = HashMap::new();
        let mut replied: HashSet<(usize, usize)> = HashSet::new();
        while let Some(Reverse((at, account, post))) = seen.pop() {
            if at > now - 2 * MINUTE {
                break;
            }
            if account == demo || done.reblogged.contains(&(account, post)) {
                continue;
            }
            let times_seen = exposures.entry((account, post)).or_insert(0);
            *times_seen += 1;
            let age = (at - self.posts[post].at) as f64 / HOUR as f64;
            let appeal = if post == viral { 0.16 } else { 0.1 };
            let p = appeal * (-age / 14.0).exp() / f64::from(*times_seen);
            if rng.gen_bool(p) {
                self.reblog(done, account, post, at);
                show(&mut seen, rng, account, post, at);
            } else if rng.gen_bool(0.1) {
                self.favourite(done, account, post, at);
            } else if rng.gen_bool(0.003) && replied.insert((account, post)) {
                let lines = if post == viral {
                    VIRAL_REPLIES
                } else {
                    QUOTE_REPLIES
                };
                self.reply(account, post, pick_str(rng, lines), at);
            }
        }
        // The author answers everyone, hours later, in a thread under the post.
        self.reply(
            cast.author,
            viral,
            VIRAL_UPDATE,
            start + 5 * HOUR + 12 * MINUTE,
        );
    }

    /// The login's own corner: a few posts, a reply, favourites, and welcomes.
    fn demo_activity(
        &mut self,
        rng: &mut StdRng,
        graph: &Graph,
        done: &mut Done,
        now: i64,
        demo: usize,
    ) {
        let hello = self.post(Post {
            at: now - 38 * HOUR,
            author: demo,
            text: DEMO_HELLO.to_string(),
            visibility: Visibility::Public,
            reply_to: None,
            quote_of: None,
            reblog_of: None,
        });
        for (i, &f) in graph.followers[demo].iter().take(4).enumerate() {
            let at = now - 37 * HOUR + (i as i64) * 23 * MINUTE;
            self.reply(f, hello, pick_str(rng, WELCOMES), at);
        }
        // The hello spread a little, so the login has favourites, reblogs and a cascade of
        // its own to look at: followers favourite it, some reblog it, and some of their
        // followers reblog it again from them.
        let mut rebloggers = Vec::new();
        for (i, &f) in graph.followers[demo].iter().skip(4).take(30).enumerate() {
            let at = now - 36 * HOUR + (i as i64) * 11 * MINUTE;
            self.favourite(done, f, hello, at);
            if i % 4 == 0 {
                self.reblog(done, f, hello, at + 2 * MINUTE);
                rebloggers.push((f, at + 2 * MINUTE));
            }
        }
        for (f, at) in rebloggers {
            for (j, &g) in graph.followers[f].iter().take(3).enumerate() {
                if g == demo || done.reblogged.contains(&(g, hello)) || !rng.gen_bool(0.5) {
                    continue;
                }
                let later = at + exponential(rng, HOUR as f64) + (j as i64) * MINUTE;
                self.reblog(done, g, hello, later.min(now - MINUTE));
            }
        }
        self.post(Post {
            at: now - 9 * HOUR,
            author: demo,
            text: DEMO_SECOND.to_string(),
            visibility: Visibility::Public,
            reply_to: None,
            quote_of: None,
            reblog_of: None,
        });
        let followed = &graph.following[demo];
        let recent: Vec<usize> = (0..self.posts.len())
            .filter(|&i| {
                let p = &self.posts[i];
                followed.contains(&p.author)
                    && p.reblog_of.is_none()
                    && p.at < now - 6 * HOUR
                    && p.at > now - 40 * HOUR
            })
            .collect();
        if let Some(&to) = recent
            .iter()
            .rev()
            .find(|&&i| self.posts[i].visibility.is_shareable() && self.posts[i].reply_to.is_none())
        {
            self.reply(
                demo,
                to,
                "This is lovely, thank you for posting it!",
                self.posts[to].at + 2 * HOUR,
            );
        }
        for _ in 0..12 {
            if let Some(&post) = pick(rng, &recent) {
                let at = self.posts[post].at + exponential(rng, HOUR as f64) + MINUTE;
                self.favourite(done, demo, post, at.min(now - MINUTE));
            }
        }
    }

    /// Reblogs of ordinary posts by the authors' followers, more for popular authors.
    fn background_reblogs(
        &mut self,
        rng: &mut StdRng,
        graph: &Graph,
        done: &mut Done,
        now: i64,
        demo: usize,
    ) {
        let candidates: Vec<usize> = (0..self.posts.len())
            .filter(|&i| {
                let p = &self.posts[i];
                p.reblog_of.is_none()
                    && p.reply_to.is_none()
                    && p.quote_of.is_none()
                    && p.visibility.is_shareable()
                    && i != self.viral
                    && p.author != demo
            })
            .collect();
        let weights: Vec<f64> = candidates
            .iter()
            .map(|&i| (graph.followers[self.posts[i].author].len() as f64 + 1.0).powf(0.8))
            .collect();
        let Ok(choice) = WeightedIndex::new(&weights) else {
            return;
        };
        let mut made = 0;
        for _ in 0..BACKGROUND_REBLOGS * 4 {
            if made == BACKGROUND_REBLOGS {
                break;
            }
            let post = candidates[choice.sample(rng)];
            let Some(&account) = pick(rng, &graph.followers[self.posts[post].author]) else {
                continue;
            };
            let at = self.posts[post].at + exponential(rng, 2.0 * HOUR as f64) + MINUTE;
            if account == demo || at > now - MINUTE || done.reblogged.contains(&(account, post)) {
                continue;
            }
            self.reblog(done, account, post, at);
            made += 1;
        }
    }

    /// Favourites of ordinary posts, mostly by the authors' followers.
    fn background_favourites(
        &mut self,
        rng: &mut StdRng,
        graph: &Graph,
        done: &mut Done,
        now: i64,
        demo: usize,
    ) {
        let candidates: Vec<usize> = (0..self.posts.len())
            .filter(|&i| self.posts[i].reblog_of.is_none() && self.posts[i].author != demo)
            .collect();
        let weights: Vec<f64> = candidates
            .iter()
            .map(|&i| (graph.followers[self.posts[i].author].len() as f64 + 1.0).powf(0.8))
            .collect();
        let Ok(choice) = WeightedIndex::new(&weights) else {
            return;
        };
        let start = self.favourites.len();
        for _ in 0..BACKGROUND_FAVOURITES * 4 {
            if self.favourites.len() - start == BACKGROUND_FAVOURITES {
                break;
            }
            let post = candidates[choice.sample(rng)];
            let p = &self.posts[post];
            // Private posts are seen by followers only; others also by passers-by.
            let account = if rng.gen_bool(0.85) || !p.visibility.is_shareable() {
                match pick(rng, &graph.followers[p.author]) {
                    Some(&f) => f,
                    None => continue,
                }
            } else {
                rng.gen_range(0..ACCOUNTS)
            };
            let at = p.at + exponential(rng, 3.0 * HOUR as f64) + MINUTE;
            if account == demo || account == p.author || at > now - MINUTE {
                continue;
            }
            self.favourite(done, account, post, at);
        }
    }
}

/// The accounts of the viral story.
struct Cast {
    /// A small account, followed by a handful.
    author: usize,
    /// One of the author's followers, who reshares first.
    first: usize,
    /// A mid-sized account that reblogs and quotes the post.
    mid: usize,
    /// The most followed account.
    big: usize,
}

/// Reblogs and favourites already made, as `(account, post)`, so none is made twice.
#[derive(Default)]
struct Done {
    reblogged: HashSet<(usize, usize)>,
    favourited: HashSet<(usize, usize)>,
}

/// `ACCOUNTS` people by popularity rank, then the `demo` login. Older accounts rank
/// higher, as early members of a server tend to.
fn people(rng: &mut StdRng, now: i64) -> Vec<Person> {
    let mut created: Vec<i64> = (0..ACCOUNTS)
        .map(|_| rng.gen_range(now - 730 * DAY..now - 40 * DAY))
        .collect();
    created.sort_unstable();
    let mut taken: HashSet<String> = [LOGIN_USERNAME, "admin", "root"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut people = Vec::with_capacity(ACCOUNTS + 1);
    for created_at in created {
        let first = rng.gen_range(0..TOPICS.len());
        let second = (first + rng.gen_range(1..TOPICS.len())) % TOPICS.len();
        let (mut username, mut display_name) = name(rng);
        if taken.contains(&username) {
            let base = username.clone();
            let mut n = 2;
            while taken.contains(&username) {
                username = format!("{base}{n}");
                n += 1;
            }
        }
        taken.insert(username.clone());
        if rng.gen_bool(0.12) {
            display_name = format!("{display_name} {}", TOPICS[first].emoji);
        }
        let note = bio(rng, [first, second]);
        people.push(Person {
            username,
            display_name,
            note,
            topics: [first, second],
            created_at,
        });
    }
    people.push(Person {
        username: LOGIN_USERNAME.to_string(),
        display_name: "Demo Visitor".to_string(),
        note: "Trying out Cascade. Log in with this account and look around. #fediverse"
            .to_string(),
        topics: [0, 1],
        created_at: now - 39 * DAY,
    });
    people
}

/// Everyone follows a heavy-tailed number of accounts, drawn by Zipf's law over the
/// popularity rank, so a few accounts are followed by most and most by a few. The login
/// follows the biggest accounts and some others, and has some followers of its own.
fn follow_graph(rng: &mut StdRng, people: &[Person]) -> Graph {
    let demo = people.len() - 1;
    let mut graph = Graph::new(people.len());
    let zipf: Vec<f64> = (0..ACCOUNTS)
        .map(|r| 1.0 / ((r + 1) as f64).powf(1.05))
        .collect();
    let zipf = WeightedIndex::new(&zipf).expect("Zipf weights are positive");
    for from in 0..ACCOUNTS {
        let k = pareto(rng, 7.0, 1.3).min(ACCOUNTS as f64 / 5.0) as usize;
        let mut added = 0;
        for _ in 0..k * 20 {
            if added == k {
                break;
            }
            if graph.add(from, zipf.sample(rng)) {
                added += 1;
            }
        }
    }
    for to in 0..10 {
        graph.add(demo, to);
    }
    while graph.following[demo].len() < 36 {
        graph.add(demo, rng.gen_range(10..300));
    }
    while graph.followers[demo].len() < 40 {
        graph.add(rng.gen_range(50..ACCOUNTS), demo);
    }
    graph
}

/// A username and display name in one of the styles people pick.
fn name(rng: &mut StdRng) -> (String, String) {
    let first = pick_str(rng, FIRST_NAMES);
    let last = pick_str(rng, LAST_NAMES);
    match rng.gen_range(0..100) {
        0..=29 => (
            format!("{}_{}", first.to_lowercase(), last.to_lowercase()),
            format!("{first} {last}"),
        ),
        30..=49 => {
            let initial = &last[..1];
            (
                format!("{}{}", first.to_lowercase(), initial.to_lowercase()),
                format!("{first} {initial}."),
            )
        }
        50..=62 => (
            format!("{}{}", first.to_lowercase(), rng.gen_range(10..99)),
            first.to_string(),
        ),
        63..=84 => {
            let (adjective, noun) = (pick_str(rng, ADJECTIVES), pick_str(rng, NOUNS));
            let joiner = if rng.gen_bool(0.4) { "_" } else { "" };
            (
                format!("{adjective}{joiner}{noun}"),
                format!("{} {}", capitalized(adjective), capitalized(noun)),
            )
        }
        _ => {
            let word: String = (0..rng.gen_range(2..=3))
                .map(|_| pick_str(rng, SYLLABLES))
                .collect();
            (word.clone(), capitalized(&word))
        }
    }
}

fn bio(rng: &mut StdRng, topics: [usize; 2]) -> String {
    let (a, b) = (TOPICS[topics[0]].interest, TOPICS[topics[1]].interest);
    let interests = match rng.gen_range(0..4) {
        0 => format!("Posts about {a} and {b}."),
        1 => format!("Mostly {a}, sometimes {b}."),
        2 => format!("Here for {a}, {b} and good conversations."),
        _ => format!("Into {a}. Also {b}."),
    };
    format!(
        "{}{}. {interests}{}",
        pick_str(rng, ROLES),
        pick_str(rng, PLACES),
        pick_str(rng, PRONOUNS)
    )
}

/// An ordinary post on one of the author's topics, often with its hashtag, sometimes
/// crediting someone the author follows or linking somewhere.
fn original_text(rng: &mut StdRng, people: &[Person], graph: &Graph, author: usize) -> String {
    let topic = &TOPICS[people[author].topics[usize::from(rng.gen_bool(0.35))]];
    let mut text = pick_str(rng, topic.lines).to_string();
    if rng.gen_bool(0.12) {
        text = format!("{text} {}", pick_str(rng, ASIDES));
    }
    if rng.gen_bool(0.05) {
        text = format!(
            "{text} More here: https://example.org/{}/{}",
            topic.tag,
            rng.gen_range(100..999)
        );
    }
    if rng.gen_bool(0.08) {
        if let Some(&friend) = pick(rng, &graph.following[author]) {
            text = format!("{text} (h/t @{})", people[friend].username);
        }
    }
    if rng.gen_bool(0.65) {
        text = format!("{text} #{}", topic.tag);
    }
    text
}

/// A time in the `days` days before `end`, at an hour of the day (UTC) drawn from `hours`.
/// It takes the same random draws whatever the clock says, so the world stays the same.
fn time_of_day(rng: &mut StdRng, hours: &WeightedIndex<f64>, end: i64, days: i64) -> i64 {
    let start = end - days * DAY;
    let of_day = hours.sample(rng) as i64 * HOUR + rng.gen_range(0..HOUR);
    let first = start + (of_day - start).rem_euclid(DAY);
    first + rng.gen_range(0..days) * DAY
}

/// Pareto-distributed: at least `scale`, with a tail that thins as `shape` grows.
fn pareto(rng: &mut StdRng, scale: f64, shape: f64) -> f64 {
    scale / (1.0 - rng.gen::<f64>()).powf(1.0 / shape)
}

/// Exponentially distributed milliseconds with the given mean.
fn exponential(rng: &mut StdRng, mean: f64) -> i64 {
    (-mean * (1.0 - rng.gen::<f64>()).ln()) as i64
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> Option<&'a T> {
    (!items.is_empty()).then(|| &items[rng.gen_range(0..items.len())])
}

fn pick_str(rng: &mut StdRng, items: &[&'static str]) -> &'static str {
    pick(rng, items).copied().unwrap_or_default()
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Something people post about: its hashtag, how a bio names it, and things to say.
struct Topic {
    tag: &'static str,
    interest: &'static str,
    emoji: &'static str,
    lines: &'static [&'static str],
}

const TOPICS: &[Topic] = &[
    Topic {
        tag: "sourdough",
        interest: "bread and #sourdough",
        emoji: "🍞",
        lines: &[
            "Day three of the new starter. It smells like green apples and ambition.",
            "Tried a 20% rye loaf today and the crumb came out lovely.",
            "Nobody warns you how much of baking is just waiting around.",
            "Overproofed again. Still tastes great toasted.",
            "Fed the starter at 6am like a responsible parent.",
            "Focaccia with rosemary from the balcony pots tonight.",
        ],
    },
    Topic {
        tag: "birdwatching",
        interest: "birds (#birdwatching)",
        emoji: "🐦",
        lines: &[
            "A pair of goldfinches on the feeder this morning!",
            "Heard a tawny owl at 2am. Worth being awake for.",
            "Finally saw the kingfisher everyone talks about. Two seconds of blue.",
            "The swifts are back and the evening sky is loud again.",
            "Spent an hour watching a heron do absolutely nothing. Ten out of ten.",
            "Bird count before breakfast: fourteen species.",
        ],
    },
    Topic {
        tag: "rustlang",
        interest: "#rustlang",
        emoji: "🦀",
        lines: &[
            "Spent the afternoon arguing with the borrow checker. It was right, again.",
            "Clippy found three bugs I would have shipped. Grateful.",
            "Rewrote a hot loop with iterators and it got faster, not slower.",
            "Async functions in traits make me unreasonably happy.",
            "Today I learned about Cow<str> and now I have opinions.",
            "Compile times are fine if you make tea during them.",
        ],
    },
    Topic {
        tag: "gardening",
        interest: "#gardening",
        emoji: "🌱",
        lines: &[
            "The tomatoes have decided it is finally summer.",
            "Planted garlic today. See you in July, little cloves.",
            "Slugs ate every single lettuce. Every one.",
            "Compost is just patience you can smell.",
            "First courgette of the season, and it is already enormous.",
            "Seed catalogues are my favourite fiction genre.",
        ],
    },
    Topic {
        tag: "cycling",
        interest: "bikes (#cycling)",
        emoji: "🚲",
        lines: &[
            "Forty kilometres along the river before the rain caught me.",
            "Trued a wheel by myself for the first time. Slightly wobbly. Proud.",
            "The hill on my commute has not become any smaller.",
            "Cargo bike grocery run: two bags, one watermelon, zero regrets.",
            "Headwind both ways. I don't know how, but it happens.",
            "New chain, new me.",
        ],
    },
    Topic {
        tag: "photography",
        interest: "#photography",
        emoji: "📷",
        lines: &[
            "Golden hour at the harbour, shot on a thirty-year-old lens.",
            "Developed my first roll of black and white film at home.",
            "Fog this morning made everything look like a painting.",
            "Reminder: the best camera is the one you actually carry.",
            "One photo a day this month. Day twelve: a puddle.",
            "Found an old slide projector at a flea market. It works!",
        ],
    },
    Topic {
        tag: "bookstodon",
        interest: "books (#bookstodon)",
        emoji: "📚",
        lines: &[
            "Finished a novel at 1am and now I need to talk to someone about it.",
            "My to-read pile has become structural.",
            "Re-reading Earthsea and it is even better than I remembered.",
            "Library haul: four novels and one book about moss.",
            "What is a book you recommend to everyone?",
            "Reading in the park until the light goes.",
        ],
    },
    Topic {
        tag: "caturday",
        interest: "cats",
        emoji: "🐈",
        lines: &[
            "The cat has claimed the warm laptop. Work is cancelled.",
            "She knocked a glass off the table while keeping eye contact.",
            "Cat update: asleep in a box that is too small for her.",
            "Adopted a senior cat today. He is perfect and slightly grumpy.",
            "Three in the morning is zoomies o'clock, apparently.",
        ],
    },
    Topic {
        tag: "astronomy",
        interest: "the night sky (#astronomy)",
        emoji: "🔭",
        lines: &[
            "Clear skies tonight! Saturn's rings through a small telescope never get old.",
            "Caught the ISS passing over just after sunset.",
            "The light pollution map says two hours' drive to dark skies. Tempting.",
            "The moon was so bright tonight you could read by it.",
            "Meteor shower peaks this weekend. Fingers crossed for clear skies.",
        ],
    },
    Topic {
        tag: "hiking",
        interest: "#hiking",
        emoji: "🏔️",
        lines: &[
            "Summit at sunrise, worth the 4am alarm.",
            "The trail was pure mud today. My boots may never recover.",
            "Found a waterfall that is not on any map I own.",
            "Lesson learned: always bring the second pair of socks.",
            "Ridge walk in the wind. Felt like flying.",
        ],
    },
    Topic {
        tag: "music",
        interest: "music",
        emoji: "🎶",
        lines: &[
            "Learning a new piece on the piano and my left hand refuses to cooperate.",
            "Found a box of my dad's old jazz records.",
            "Band practice went late and it was great.",
            "Put on an album I loved at nineteen and it still holds up.",
            "Restrung the old guitar. It sounds like a new instrument.",
        ],
    },
    Topic {
        tag: "coffee",
        interest: "#coffee",
        emoji: "☕",
        lines: &[
            "Dialled in the new beans: fruity, bright, a little wild.",
            "Hand grinder arm day.",
            "Third coffee. This is fine.",
            "Cold brew season has officially started in this house.",
            "The cafe around the corner roasts on Tuesdays and the whole street smells amazing.",
        ],
    },
    Topic {
        tag: "linux",
        interest: "#linux",
        emoji: "🐧",
        lines: &[
            "Put a lightweight distro on my old laptop and it feels new again.",
            "Wrote a shell script to save two minutes. Took an hour. Will pay off. Probably.",
            "Dotfiles in git, finally.",
            "Kernel update went smoothly. Suspicious.",
            "Spent the evening reading man pages for fun. No regrets.",
        ],
    },
    Topic {
        tag: "knitting",
        interest: "#knitting",
        emoji: "🧶",
        lines: &[
            "Cast on a new sweater. This is the one I'll actually finish.",
            "Second sock syndrome is real.",
            "Found the perfect moss green wool at the market.",
            "Knitting on the train gets me a surprising number of compliments.",
            "Unravelled three evenings of work. Starting over, wiser.",
        ],
    },
    Topic {
        tag: "fediverse",
        interest: "the #fediverse",
        emoji: "🌐",
        lines: &[
            "Small servers are the best part of the fediverse.",
            "Remember to write alt text for your images, friends.",
            "Quiet timeline tonight, so hi to everyone reading this.",
            "Looking for more people who post about science. Recommendations?",
            "I love that a chronological timeline just lets you reach the end.",
        ],
    },
    Topic {
        tag: "running",
        interest: "#running",
        emoji: "🏃",
        lines: &[
            "Personal best at parkrun this morning!",
            "Ran in the rain and loved every soggy minute.",
            "Training plan says rest day. Legs agree.",
            "First ten kilometres without stopping. Huge for me.",
            "Early morning run, the city still asleep.",
        ],
    },
];

const VIRAL: &str = "Power cut last night, so I wrapped my grandmother's sourdough starter in a towel and \
    kept it in a thermos until morning. It is 41 years old and it survived. So did I, barely. #sourdough";
const VIRAL_UPDATE: &str =
    "Update: the starter is fine, bubbling away, and apparently famous now. Her name is \
    Dolores. Thank you all for the kind replies! #sourdough";
const VIRAL_REPLIES: &[&str] = &[
    "41 years! This is wonderful.",
    "A thermos! Genius.",
    "Long live the starter.",
    "Please tell me it has a name.",
    "I'm emotional about bread now.",
    "This is the content I'm here for.",
    "Your grandmother would be proud.",
    "I need a thermos now. For reasons.",
    "Sending this to everyone I know who bakes.",
    "The real hero here is the towel.",
];
const QUOTE_REPLIES: &[&str] = &[
    "Thermos supremacy.",
    "Agreed, this made my morning.",
    "I came here from the quote and I'm not leaving.",
];
const DEMO_HELLO: &str = "Hello, Cascade! Just joined and looking around. Say hi? #introductions";
const DEMO_SECOND: &str =
    "Learning my way around this little server. The local timeline is lovely. #fediverse";
const WELCOMES: &[&str] = &[
    "Welcome!",
    "Hi and welcome aboard!",
    "Welcome, glad you're here.",
    "Hello! Enjoy the place.",
];

const REPLIES: &[&str] = &[
    "Ha, same here!",
    "This made my day.",
    "Oh, I love this.",
    "Congratulations!",
    "Do you have a link? I'd like to read more.",
    "Exactly what I needed to read today.",
    "Thanks for sharing!",
    "Wait, how did you do that?",
    "Seconding this.",
    "I had the same thing happen last week.",
    "Beautiful.",
    "Good luck!",
    "That's wonderful.",
    "Absolutely agree.",
    "Tell us more!",
    "Adding this to my list.",
];
const ASIDES: &[&str] = &[
    "Anyway, back to work.",
    "Thoughts?",
    "Small joys.",
    "Tell me I'm not the only one.",
    "What a week.",
];

const ROLES: &[&str] = &[
    "Librarian",
    "Nurse",
    "Software developer",
    "Retired teacher",
    "Graphic designer",
    "PhD student",
    "Barista",
    "Bike mechanic",
    "Sound engineer",
    "Translator",
    "Beekeeper",
    "Data scientist",
    "Carpenter",
    "Illustrator",
    "Science journalist",
    "Park ranger",
    "Pharmacist",
    "Chef",
    "Archivist",
    "Museum guide",
    "Sysadmin",
    "Physics teacher",
    "Urban planner",
    "Musician",
    "Freelance writer",
    "Gardener",
    "Marine biologist",
    "Student",
];
const PLACES: &[&str] = &[
    " in Lisbon",
    " in a small coastal town",
    " based in Montréal",
    " in Nairobi",
    " in the Highlands",
    " in Osaka",
    " from Lagos",
    " in Berlin",
    " somewhere in Ohio",
    " in Melbourne",
    " in Valparaíso",
    " in Helsinki",
    "",
    "",
    "",
];
const PRONOUNS: &[&str] = &[" she/her", " he/him", " they/them", "", "", ""];

const FIRST_NAMES: &[&str] = &[
    "Amara", "Jonas", "Mei", "Tomasz", "Aisha", "Lena", "Rafael", "Priya", "Kwame", "Sofia",
    "Mateo", "Yuki", "Noah", "Ingrid", "Omar", "Chloe", "Arjun", "Freya", "Diego", "Hana", "Elif",
    "Malik", "Nora", "Luca", "Zainab", "Felix", "Ines", "Kenji", "Maya", "Tobias", "Leila",
    "Samuel", "Ana", "Oskar", "Fatima", "Ravi", "Clara", "Emeka", "Julia", "Hugo", "Sara",
    "Nikolai", "Camille", "Tariq", "Ada", "Bruno", "Esme", "Idris", "Lucia", "Mika", "Rosa",
    "Viktor", "Wren", "Yara", "Elias", "Greta", "Jun", "Kofi", "Liv", "Marek", "Nadia", "Olu",
    "Pia", "Quinn", "Rina", "Sven", "Talia", "Uma", "Vera", "Xavier", "Zoe",
];
const LAST_NAMES: &[&str] = &[
    "Okafor",
    "Novak",
    "Chen",
    "Kowalski",
    "Haddad",
    "Fischer",
    "Silva",
    "Iyer",
    "Mensah",
    "Rossi",
    "Garcia",
    "Tanaka",
    "Berg",
    "Larsen",
    "Farouk",
    "Dubois",
    "Mehta",
    "Lindqvist",
    "Moreno",
    "Kim",
    "Yilmaz",
    "Adeyemi",
    "Kovacs",
    "Bianchi",
    "Nakamura",
    "Schmidt",
    "Costa",
    "Sato",
    "Ivanova",
    "Laurent",
    "Aziz",
    "Nguyen",
    "Obi",
    "Petrov",
    "Quispe",
    "Reyes",
    "Sandberg",
    "Torres",
    "Usman",
    "Varga",
    "Weber",
    "Xu",
    "Young",
    "Zamora",
    "Brennan",
    "Castillo",
    "Dahl",
    "Eriksen",
    "Fontaine",
    "Gallagher",
    "Hoffmann",
    "Ito",
    "Jensen",
    "Kaur",
    "Lopez",
    "Murphy",
    "Ndlovu",
    "Olsen",
    "Park",
    "Rahman",
];
const ADJECTIVES: &[&str] = &[
    "quiet",
    "rusty",
    "tiny",
    "wandering",
    "sleepy",
    "brave",
    "velvet",
    "salty",
    "misty",
    "copper",
    "amber",
    "lucky",
    "gentle",
    "wild",
    "paper",
    "cosmic",
    "little",
    "northern",
    "slow",
    "bright",
];
const NOUNS: &[&str] = &[
    "heron", "kettle", "fern", "otter", "lantern", "sparrow", "teapot", "comet", "moth", "pebble",
    "thistle", "badger", "harbour", "meadow", "falcon", "biscuit", "willow", "radish", "tide",
    "owl",
];
const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ren", "vo", "tal", "is", "an", "dre", "su", "ne", "ko", "ra", "fi", "el",
    "mo", "zu", "ti", "bo", "ya",
];
