//! The benchmark behind the search figures in `docs/PERFORMANCE.md`: indexes generated
//! statuses into the on-disk full-text index (`cascade_server::search`) and times queries
//! against it as `/api/v2/search` makes them, for a viewer who follows 200 accounts and
//! hides 20.
//!
//! The text is drawn word by word from a vocabulary of 50,000 made-up words with Zipf
//! frequencies (exponent 1.0, as word use in natural language roughly follows), 4 to 40
//! words a post, from one seeded generator, so every run indexes the same corpus.
//! Visibilities are mixed (85% public, 5% unlisted, 7% private, 3% direct with a
//! mention) over 20,000 authors, spread evenly over a year (ids are made from the times,
//! as the server makes them, which the search's newest-first windows rely on). Three query kinds: a rare word (rank 30,000 to 50,000),
//! a common word (one of the ten most used), and two words of middling rank.
//!
//! `cargo bench -p cascade-server --bench search` indexes 1,000,000 statuses
//! (`CASCADE_BENCH_STATUSES` to change); without `--bench`, or with `--test` (as
//! `cargo test --benches` runs it), 20,000, so a smoke run takes seconds. Nothing asserts
//! on a timing: a person reads the output.

use std::time::{Duration, Instant};

use cascade_server::search::{Audience, IndexedStatus, SearchIndex, StatusQuery};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const VOCABULARY: usize = 50_000;
const AUTHORS: i64 = 20_000;
const QUERIES: usize = 300;
/// When the generated year of posts begins (late 2026).
const START_MS: i64 = 1_764_000_000_000;

/// Makes the words of one query of a kind.
type QueryMaker<'a> = Box<dyn Fn(&mut StdRng) -> String + 'a>;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let full = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test");
    let statuses = if full {
        std::env::var("CASCADE_BENCH_STATUSES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1_000_000)
    } else {
        20_000
    };
    let dir = tempfile::tempdir().expect("a temporary folder");
    let index = SearchIndex::open(dir.path()).expect("an index");
    let words = vocabulary();
    let zipf = Zipf::new(VOCABULARY, 1.0);
    let mut rng = StdRng::seed_from_u64(7);

    let started = Instant::now();
    let mut batch = Vec::with_capacity(10_000);
    for i in 0..statuses {
        // A year of posts, evenly spread, ids made from their times as the server does.
        let at = START_MS + i as i64 * (365 * 86_400_000) / statuses as i64;
        batch.push(status(
            at << 16 | (i as i64 & 0xffff),
            &words,
            &zipf,
            &mut rng,
        ));
        if batch.len() == 10_000 {
            index.put(&batch).expect("indexing");
            batch.clear();
        }
    }
    index.put(&batch).expect("indexing");
    index.commit().expect("a commit");
    let indexing = started.elapsed();
    let size = dir_size(dir.path());
    println!(
        "indexed {} statuses in {:.1} s ({:.0} statuses/s), {:.1} MB on disk ({:.0} bytes a status)",
        index.len(),
        indexing.as_secs_f64(),
        statuses as f64 / indexing.as_secs_f64(),
        size as f64 / 1e6,
        size as f64 / statuses.max(1) as f64
    );

    let audience = Audience {
        me: Some(1),
        following: (0..200).map(|i| 2 + i * 97 % AUTHORS).collect(),
        hidden: (0..20).map(|i| 5 + i * 991 % AUTHORS).collect(),
    };
    let kinds: [(&str, QueryMaker); 3] = [
        (
            "rare word",
            Box::new(|r: &mut StdRng| words[r.gen_range(30_000..VOCABULARY)].clone()),
        ),
        (
            "common word",
            Box::new(|r: &mut StdRng| words[r.gen_range(0..10)].clone()),
        ),
        (
            "two words",
            Box::new(|r: &mut StdRng| {
                format!(
                    "{} {}",
                    words[r.gen_range(20..200)],
                    words[r.gen_range(200..2_000)]
                )
            }),
        ),
    ];
    for (name, make) in &kinds {
        let mut times = Vec::with_capacity(QUERIES);
        let mut hits = 0;
        for _ in 0..QUERIES {
            let q = StatusQuery {
                words: make(&mut rng),
                audience: audience.clone(),
                limit: 20,
                ..Default::default()
            };
            let t = Instant::now();
            let found = index.search(&q).expect("a search");
            times.push(t.elapsed());
            hits += found.len();
        }
        times.sort();
        println!(
            "{name:>12}: p50 {:>7.2} ms, p99 {:>7.2} ms, max {:>7.2} ms ({:.1} results a query, {QUERIES} queries)",
            ms(times[times.len() / 2]),
            ms(times[times.len() * 99 / 100]),
            ms(times[times.len() - 1]),
            hits as f64 / QUERIES as f64
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn dir_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Made-up words of 3 to 10 letters, distinct, most frequent first.
fn vocabulary() -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(1);
    let mut seen = std::collections::HashSet::new();
    let mut words = Vec::with_capacity(VOCABULARY);
    while words.len() < VOCABULARY {
        let len = rng.gen_range(3..=10);
        let word: String = (0..len)
            .map(|_| (b'a' + rng.gen_range(0..26u8)) as char)
            .collect();
        if seen.insert(word.clone()) {
            words.push(word);
        }
    }
    words
}

/// Ranks drawn with probability proportional to `1 / rank^s`, by binary search over the
/// cumulative weights.
struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(n: usize, s: f64) -> Zipf {
        let mut total = 0.0;
        let cumulative = (1..=n)
            .map(|rank| {
                total += 1.0 / (rank as f64).powf(s);
                total
            })
            .collect();
        Zipf { cumulative }
    }

    fn sample(&self, rng: &mut StdRng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let x = rng.gen::<f64>() * total;
        self.cumulative.partition_point(|&c| c < x)
    }
}

fn status(id: i64, words: &[String], zipf: &Zipf, rng: &mut StdRng) -> IndexedStatus {
    let len = rng.gen_range(4..=40);
    let mut text = String::with_capacity(len * 8);
    for _ in 0..len {
        text.push_str(&words[zipf.sample(rng)]);
        text.push(' ');
    }
    let roll = rng.gen_range(0..100);
    let visibility = match roll {
        0..=84 => 0,
        85..=89 => 1,
        90..=96 => 2,
        _ => 3,
    };
    IndexedStatus {
        id,
        account_id: rng.gen_range(0..AUTHORS),
        visibility,
        mentions: if visibility == 3 {
            vec![rng.gen_range(0..AUTHORS)]
        } else {
            Vec::new()
        },
        text,
        edited_at: None,
    }
}
