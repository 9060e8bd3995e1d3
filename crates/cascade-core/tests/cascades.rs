//! Cascade measurements on real Twitter propagation trees (Twitter15/16, Ma, Gao and Wong
//! 2017; see `shared/data/twitter15-16-propagation-trees/README.md`), and the timing of a
//! million-node cascade (ignored by default; run it in release with `--ignored`).
//!
//! The data set lives outside the repository. When it is missing the data tests say so and
//! pass, so the crate's tests still run elsewhere.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use cascade_core::cascade::{Kind, Node, Stats, StatsOptions, Tree};

const ARCHIVE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/twitter15-16-propagation-trees/twitter15_16.tar.gz"
);

/// One tree file: `['parent_uid', 'parent_tweet_id', 'parent_delay_min']->[child ...]`
/// per line, with a `['ROOT', 'ROOT', '0.0']->[source]` line somewhere (not always first).
#[derive(Debug)]
struct Parsed {
    nodes: Vec<Node>,
    lines: usize,
    /// Lines whose parent tuple equals the child tuple; skipped.
    self_loops: usize,
    /// Lines naming the root as a child of something else; skipped.
    root_as_child: usize,
    /// Lines for a child that already has a parent (duplicates and second parents); the
    /// first line wins.
    repeated: usize,
    /// Non-ROOT lines whose child delay is smaller than the parent's.
    inversions: usize,
    /// Child tuples that occur under more than one non-ROOT line.
    multi_parent: usize,
    /// Lines whose parent tweet id is the source tweet's (the file name).
    off_source: usize,
}

#[derive(Debug)]
struct BadLine {
    line: usize,
    reason: &'static str,
}

/// Parses `['a', 'b', 'c']` into its three fields.
fn tuple(text: &str) -> Option<[&str; 3]> {
    let inner = text.trim().strip_prefix('[')?.strip_suffix(']')?;
    let mut fields = inner.split(',').map(|f| {
        f.trim()
            .strip_prefix('\'')
            .and_then(|f| f.strip_suffix('\''))
    });
    let out = [fields.next()??, fields.next()??, fields.next()??];
    fields.next().is_none().then_some(out)
}

/// Reads one tree file into cascade nodes, handling the quirks the data set's README lists.
///
/// A node is a (user, tweet, delay) tuple and gets the next id in order of appearance.
/// Self-loops and edges into the root are dropped; a child named under several parents
/// keeps the first; delays (minutes after the source, sometimes negative) become
/// milliseconds. A child with the source's tweet id is a retweet (a reblog); one with a
/// tweet of its own (a reply or quote) is taken as a quote.
fn parse_tree(text: &str, source: &str) -> Result<Parsed, BadLine> {
    let mut root: Option<&str> = None;
    let mut edges: Vec<(usize, &str, &str)> = Vec::new();
    let mut parsed = Parsed {
        nodes: Vec::new(),
        lines: 0,
        self_loops: 0,
        root_as_child: 0,
        repeated: 0,
        inversions: 0,
        multi_parent: 0,
        off_source: 0,
    };
    let mut fields: HashMap<&str, [&str; 3]> = HashMap::new();
    let mut child_lines: HashMap<&str, usize> = HashMap::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let line_no = i + 1;
        let bad = |reason| BadLine {
            line: line_no,
            reason,
        };
        parsed.lines += 1;
        let (parent, child) = line.split_once("->").ok_or(bad("no `->`"))?;
        let (parent, child) = (parent.trim(), child.trim());
        let p = tuple(parent).ok_or(bad("parent is not a three-field tuple"))?;
        let c = tuple(child).ok_or(bad("child is not a three-field tuple"))?;
        let delay = |f: &str| f.parse::<f64>().map_err(|_| bad("delay is not a number"));
        let child_delay = delay(c[2])?;
        if c[0].parse::<i64>().is_err() {
            return Err(bad("user id is not a number"));
        }
        fields.insert(child, c);
        if p[0] == "ROOT" {
            if root.is_some_and(|r| r != child) {
                return Err(bad("a second ROOT line"));
            }
            root = Some(child);
            continue;
        }
        if p[1] == source {
            parsed.off_source += 1;
        }
        if child_delay < delay(p[2])? {
            parsed.inversions += 1;
        }
        *child_lines.entry(child).or_default() += 1;
        edges.push((line_no, parent, child));
    }
    parsed.multi_parent = child_lines.values().filter(|&&n| n > 1).count();
    let root = root.ok_or(BadLine {
        line: 0,
        reason: "no ROOT line",
    })?;

    let mut parent_of: HashMap<&str, &str> = HashMap::new();
    let mut order: Vec<&str> = vec![root];
    for &(_, parent, child) in &edges {
        if parent == child {
            parsed.self_loops += 1;
        } else if child == root {
            parsed.root_as_child += 1;
        } else if parent_of.contains_key(child) {
            parsed.repeated += 1;
        } else {
            parent_of.insert(child, parent);
            order.push(child);
        }
    }
    let id_of: HashMap<&str, i64> = order
        .iter()
        .enumerate()
        .map(|(i, &key)| (key, i as i64 + 1))
        .collect();
    let root_tweet = fields[root][1];
    for (&key, id) in order.iter().zip(1..) {
        let [uid, tweet, delay] = fields[key];
        let account: i64 = uid.parse().expect("checked above");
        let time_ms = (delay.parse::<f64>().expect("checked above") * 60_000.0).round() as i64;
        let node = match parent_of.get(key) {
            None => Node::root(id, account, time_ms),
            Some(parent) => {
                let Some(&parent_id) = id_of.get(parent) else {
                    let line = edges.iter().find(|e| e.2 == key).map_or(0, |e| e.0);
                    return Err(BadLine {
                        line,
                        reason: "parent never appears as a node",
                    });
                };
                if tweet == root_tweet {
                    Node::reblog(id, parent_id, account, time_ms)
                } else {
                    Node::quote(id, parent_id, account, time_ms)
                }
            }
        };
        parsed.nodes.push(node);
    }
    Ok(parsed)
}

/// One data set's trees, in file-name order.
struct Set {
    name: &'static str,
    trees: Vec<(String, Parsed)>,
}

/// Unpacks the archive once into the target directory (atomically, so concurrent test
/// binaries do not see half a copy) and parses every tree. `None` without the archive.
fn data() -> Option<&'static [Set]> {
    static DATA: OnceLock<Option<Vec<Set>>> = OnceLock::new();
    DATA.get_or_init(|| {
        if !Path::new(ARCHIVE).exists() {
            eprintln!("skipping: {ARCHIVE} is not here");
            return None;
        }
        let dir = unpack();
        Some(
            ["twitter15", "twitter16"]
                .into_iter()
                .map(|name| {
                    let tree_dir = dir.join(name).join("tree");
                    let mut files: Vec<PathBuf> = std::fs::read_dir(&tree_dir)
                        .expect("tree directory")
                        .map(|e| e.expect("directory entry").path())
                        .collect();
                    files.sort();
                    let trees = files
                        .iter()
                        .map(|path| {
                            let text = std::fs::read_to_string(path).expect("tree file");
                            let source = path.file_stem().unwrap().to_string_lossy().into_owned();
                            let parsed = parse_tree(&text, &source).unwrap_or_else(|e| {
                                panic!("{}:{}: {}", path.display(), e.line, e.reason)
                            });
                            (source, parsed)
                        })
                        .collect();
                    Set { name, trees }
                })
                .collect(),
        )
    })
    .as_deref()
}

fn unpack() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("twitter15-16");
    if dir.join("twitter16").join("label.txt").exists() {
        return dir;
    }
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("twitter15-16.unpacking.{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch directory");
    let status = Command::new("tar")
        .arg("xzf")
        .arg(ARCHIVE)
        .arg("-C")
        .arg(&scratch)
        .status()
        .expect("tar runs");
    assert!(status.success(), "tar failed on {ARCHIVE}");
    // Another process may have won the race; its copy is as good as ours.
    if std::fs::rename(&scratch, &dir).is_err() {
        std::fs::remove_dir_all(&scratch).ok();
    }
    dir
}

/// Mean distance over all pairs by breadth-first search from every node.
fn brute_force_sv(tree: &Tree) -> f64 {
    let n = tree.size();
    if n < 2 {
        return 0.0;
    }
    let mut adjacent = vec![Vec::new(); n];
    for at in 1..n {
        let p = tree.parent_position(at).unwrap();
        adjacent[at].push(p);
        adjacent[p].push(at);
    }
    let mut total = 0u64;
    let mut dist = vec![u32::MAX; n];
    let mut queue = VecDeque::new();
    for s in 0..n {
        dist.fill(u32::MAX);
        dist[s] = 0;
        queue.push_back(s);
        while let Some(u) = queue.pop_front() {
            total += u64::from(dist[u]);
            for &v in &adjacent[u] {
                if dist[v] == u32::MAX {
                    dist[v] = dist[u] + 1;
                    queue.push_back(v);
                }
            }
        }
    }
    total as f64 / (n as f64 * (n - 1) as f64)
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

#[test]
fn real_trees_parse_as_the_data_sets_readme_counts_them() {
    let Some(sets) = data() else { return };
    let count = |f: fn(&Parsed) -> usize| -> usize {
        sets.iter().flat_map(|s| &s.trees).map(|(_, p)| f(p)).sum()
    };
    let lines = |set: &Set| set.trees.iter().map(|(_, p)| p.lines).sum::<usize>();
    assert_eq!((sets[0].trees.len(), lines(&sets[0])), (1_490, 624_458));
    assert_eq!((sets[1].trees.len(), lines(&sets[1])), (818, 363_536));
    for set in sets {
        let per_tree: Vec<usize> = set.trees.iter().map(|(_, p)| p.lines).collect();
        let (min, max) = (per_tree.iter().min(), per_tree.iter().max());
        let mean = per_tree.iter().sum::<usize>() as f64 / per_tree.len() as f64;
        eprintln!(
            "{}: lines per tree {} / {mean:.1} / {}",
            set.name,
            min.unwrap(),
            max.unwrap()
        );
    }
    assert_eq!(count(|p| p.off_source), 945_594);
    assert_eq!(count(|p| p.inversions), 11_527);
    assert_eq!(count(|p| p.self_loops), 2_171);
    assert_eq!(count(|p| p.multi_parent), 21_652);
    eprintln!(
        "nodes {}, dropped lines: self-loops {}, edges into the root {}, repeated children {}",
        count(|p| p.nodes.len()),
        count(|p| p.self_loops),
        count(|p| p.root_as_child),
        count(|p| p.repeated),
    );
}

#[test]
fn real_trees_build_and_keep_the_invariants_of_trees() {
    let Some(sets) = data() else { return };
    let started = Instant::now();
    for set in sets {
        let mut sv = Vec::new();
        let mut depth = Vec::new();
        let mut sizes = Vec::new();
        let mut stars = 0;
        let (mut reblogs, mut quotes) = (0, 0);
        for (source, parsed) in &set.trees {
            let tree = Tree::build(parsed.nodes.clone())
                .unwrap_or_else(|e| panic!("{}/{source}: {e}", set.name));
            let s: Stats = tree.stats(&StatsOptions::default());
            let n = s.size as f64;
            assert!(s.size >= 2, "{source}: a lone root");
            assert!(s.depth >= 1);
            assert_eq!(s.breadth.iter().sum::<usize>(), s.size);
            assert_eq!(s.breadth[0], 1);
            assert_eq!(s.reshares_over_time.iter().sum::<u64>(), s.size as u64 - 1);
            // Among trees of n nodes the star has the smallest Wiener index and the chain
            // the largest; and no two nodes are further apart than twice the depth.
            let sv_star = 2.0 * (n - 1.0) / n;
            let sv_chain = (n + 1.0) / 3.0;
            let v = s.structural_virality;
            assert!(
                v >= 1.0 && v >= sv_star - 1e-9 && v <= sv_chain + 1e-9,
                "{source}: {v}"
            );
            assert!(v <= 2.0 * f64::from(s.depth) + 1e-9);
            if s.depth == 1 {
                stars += 1;
                assert!((v - sv_star).abs() < 1e-9);
            }
            for (node, &d) in tree.nodes().iter().zip(tree.depths()) {
                if let Some(parent) = node.parent {
                    assert_eq!(d, tree.depth(parent).unwrap() + 1);
                }
            }
            reblogs += s.reblogs;
            quotes += s.quotes;
            sv.push(v);
            depth.push(f64::from(s.depth));
            sizes.push(n);
        }
        let top = sv.iter().copied().fold(0.0, f64::max);
        eprintln!(
            "{}: {} trees, size mean {:.1} (max {}), depth mean {:.2} (max {}), stars {}, \
             retweets {reblogs}, own tweets {quotes}, structural virality mean {:.4} \
             median {:.4} max {:.4}",
            set.name,
            sv.len(),
            mean(&sizes),
            sizes.iter().copied().fold(0.0, f64::max),
            mean(&depth),
            depth.iter().copied().fold(0.0, f64::max),
            stars,
            mean(&sv),
            median(&sv),
            top,
        );
    }
    eprintln!("built and measured every tree in {:?}", started.elapsed());
}

#[test]
fn real_trees_virality_equals_all_pairs_search_on_a_sample() {
    let Some(sets) = data() else { return };
    let mut checked = 0;
    let mut largest = 0;
    for set in sets {
        // Every 25th tree, and the largest of each set.
        let biggest = set
            .trees
            .iter()
            .enumerate()
            .max_by_key(|(_, (_, p))| p.nodes.len())
            .map(|(i, _)| i);
        for (i, (source, parsed)) in set.trees.iter().enumerate() {
            if i % 25 != 0 && Some(i) != biggest {
                continue;
            }
            let tree = Tree::build(parsed.nodes.clone()).unwrap();
            let expected = brute_force_sv(&tree);
            let got = tree.structural_virality();
            assert!(
                (got - expected).abs() < 1e-9 * expected,
                "{}/{source}: {got} vs {expected}",
                set.name
            );
            checked += 1;
            largest = largest.max(tree.size());
        }
    }
    eprintln!(
        "structural virality matched all-pairs search on {checked} trees (up to {largest} nodes)"
    );
}

#[test]
fn a_bad_tree_file_names_its_line() {
    let text = "['ROOT', 'ROOT', '0.0']->['1', '9', '0.0']\n\
                ['1', '9', '0.0']->['2', '9', '1.5']\n\
                ['2', '9', '1.5']->['3', '9', 'soon']\n";
    let e = parse_tree(text, "9").unwrap_err();
    assert_eq!((e.line, e.reason), (3, "delay is not a number"));

    let parsed = parse_tree(&text.replace("'soon'", "'2'"), "9").unwrap();
    let tree = Tree::build(parsed.nodes).unwrap();
    assert_eq!(tree.size(), 3);
    assert_eq!(tree.nodes()[2].time_ms, 120_000);
    assert_eq!(tree.nodes()[2].kind, Kind::Reblog);
}

/// A pseudo-random cascade of `n` nodes: each reshare picks its parent among the earlier
/// nodes, uniformly half the time and among the last hundred otherwise (so both wide and
/// deep parts occur), from 200,000 accounts, with exposure filled in.
fn random_cascade(n: usize) -> Vec<Node> {
    let mut state = 42u64;
    let mut next = move || {
        state = state.wrapping_add(1);
        cascade_core::hll::mix(state)
    };
    let mut nodes = Vec::with_capacity(n);
    nodes.push(
        Node::root(1, 0, 0)
            .with_followers(1_000)
            .with_exposed(1_000),
    );
    for i in 1..n {
        let r = next();
        let parent = if r & 1 == 0 {
            (r >> 1) % i as u64
        } else {
            i as u64 - 1 - (r >> 1) % (i as u64).min(100)
        };
        let account = (next() % 200_000) as i64;
        let followers = (next() % 5_000) as i64;
        nodes.push(
            Node::reblog(i as i64 + 1, parent as i64 + 1, account, i as i64 * 100)
                .with_followers(followers)
                .with_exposed(followers / 3),
        );
    }
    // The server loads nodes in id order; shuffle a little so the build has to sort.
    nodes.reverse();
    nodes
}

#[test]
#[ignore = "timing; run with --release -- --ignored --nocapture"]
fn a_million_node_cascade_is_measured_quickly() {
    for (name, nodes) in [
        ("random", random_cascade(1_000_000)),
        (
            "chain",
            (0..1_000_000i64)
                .map(|i| match i {
                    0 => Node::root(1, 0, 0),
                    _ => Node::reblog(i + 1, i, i, i * 1_000),
                })
                .collect(),
        ),
    ] {
        let started = Instant::now();
        let tree = Tree::build(nodes).unwrap();
        let built = started.elapsed();
        let s = tree.stats(&StatsOptions::default());
        let total = started.elapsed();
        eprintln!(
            "{name}: build {built:?}, stats {:?}, total {total:?}; size {}, depth {}, \
             max breadth {}, SV {:.3}, top amplifier {:?}",
            total - built,
            s.size,
            s.depth,
            s.max_breadth,
            s.structural_virality,
            s.amplifiers.first().map(|a| (a.account, a.reshares)),
        );
    }
}
