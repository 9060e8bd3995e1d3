//! Analysing a cascade of a million reshares: building the tree, measuring it (structural
//! virality, breadth, amplifiers, time series) and predicting its final size with SEISMIC.
//! Target: under 1 s and under 500 MB. Run with `cargo bench -p cascade-core --bench
//! cascade`; `CASCADE_BENCH_RESHARES` changes the size (the default is 1,000,000).
//! Figures go to docs/PERFORMANCE.md.

use std::time::Instant;

use cascade_core::cascade::{Node, StatsOptions, Tree};
use cascade_core::seismic::{Observation, Params, Predictor};
use criterion::{criterion_group, criterion_main, Criterion};

/// A deterministic random cascade: each reshare picks its parent among earlier nodes with
/// a preference for recent and early ones (a few nodes get most children, as amplifiers
/// do), follower counts are heavy-tailed, and reshares arrive over a week, fast at first.
fn cascade(n: usize) -> Vec<Node> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut nodes = Vec::with_capacity(n);
    nodes.push(Node::root(1, 1, 0).with_followers(70).with_exposed(70));
    let mut t = 0i64;
    for i in 1..n {
        t += 1 + (next() % 1_000) as i64 * (1 + i as i64 / 50_000);
        let r = next();
        let parent = match r % 10 {
            0..=5 => 1 + (next() % (i as u64).min(50)) as i64,
            6..=8 => i as i64 - (next() % (i as u64).min(1_000)) as i64,
            _ => 1 + (next() % i as u64) as i64,
        };
        let followers = 10_000_000u64 >> (next() % 24).min(23);
        nodes.push(
            Node::reblog(
                i as i64 + 1,
                parent.max(1),
                2 + (next() % (n as u64)) as i64,
                t,
            )
            .with_followers(followers as i64)
            .with_exposed((followers / 3) as i64),
        );
    }
    nodes
}

/// The whole analysis the cascade endpoint does.
fn analyse(nodes: Vec<Node>) -> (f64, f64) {
    let start = nodes[0].time_ms;
    let shares: Vec<Observation> = nodes
        .iter()
        .map(|n| Observation {
            time: (n.time_ms - start) as f64 / 1000.0,
            followers: n.followers as f64,
        })
        .collect();
    let last = shares.iter().map(|o| o.time).fold(0.0, f64::max);
    let tree = Tree::build(nodes).expect("a valid cascade");
    let stats = tree.stats(&StatsOptions::default());
    let estimate = Predictor::new(&shares, Params::default()).estimate(last);
    (stats.structural_virality, estimate.prediction)
}

/// Peak resident memory of this process so far, in MiB (Linux).
fn peak_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("CASCADE_BENCH_RESHARES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let nodes = cascade(n);
    let before = peak_mib();
    let started = Instant::now();
    let (sv, prediction) = analyse(nodes.clone());
    println!(
        "analysed {n} reshares once in {:.0} ms: structural virality {sv:.2}, SEISMIC prediction {prediction:.0}; peak memory {:.0} MiB (before: {:.0} MiB, the generated input included)",
        started.elapsed().as_secs_f64() * 1000.0,
        peak_mib().unwrap_or(f64::NAN),
        before.unwrap_or(f64::NAN),
    );
    let mut group = c.benchmark_group("cascade");
    group.sample_size(10);
    group.bench_function(format!("analyse {n} reshares"), |b| {
        b.iter_batched(|| nodes.clone(), analyse, criterion::BatchSize::LargeInput)
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
