//! `cascade analyze`: the cascade statistics and SEISMIC prediction for cascades that did
//! not happen on this server (exported data, research data sets), from a file.
//!
//! Two formats are read, told apart by their lines:
//! - **observations**: `relative_time followers` per line (seconds since the original post,
//!   the poster's follower count), separated by spaces, tabs or a comma; the first line is
//!   the original post at time 0. One header line is allowed: a non-numeric one (CSV
//!   column names), or a numeric one followed by the original post at time 0 (the TiDeH
//!   data set's `size duration` line). No parents are known, so no tree statistics.
//! - **trees**: `parent->child` lines as in the Twitter15/16 data set, each node a
//!   `['user', 'post', 'delay_minutes']` tuple and the source named by a `['ROOT', …]`
//!   parent. Self-loops and lines naming the source as a child are skipped; a child with
//!   several parents keeps the first. No follower counts are known, so no prediction.
//!
//! Errors name the line. Nothing here touches a store.

use std::collections::HashMap;

use cascade_core::cascade::{adopt_orphans, Node, StatsOptions, Tree};
use cascade_core::seismic::{self, Observation};
use serde::Serialize;

/// A cascade read from a file.
pub enum Input {
    Observations(Vec<Observation>),
    /// Nodes with times in ms since the source (the source at 0).
    Tree(Vec<Node>),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("line {line}: {reason}")]
pub struct BadLine {
    pub line: usize,
    pub reason: String,
}

fn bad(line: usize, reason: impl Into<String>) -> BadLine {
    BadLine {
        line,
        reason: reason.into(),
    }
}

/// Reads a cascade in either format.
pub fn parse(text: &str) -> Result<Input, BadLine> {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .collect();
    if lines.is_empty() {
        return Err(bad(1, "the file holds no cascade"));
    }
    if lines.iter().any(|(_, l)| l.contains("->")) {
        parse_tree(&lines).map(Input::Tree)
    } else {
        parse_observations(&lines).map(Input::Observations)
    }
}

fn fields(line: &str) -> Vec<&str> {
    line.split(|c: char| c == ',' || c.is_whitespace())
        .map(|f| f.trim_matches('"'))
        .filter(|f| !f.is_empty())
        .collect()
}

fn pair(line: &str) -> Option<(f64, f64)> {
    let f = fields(line);
    if f.len() != 2 {
        return None;
    }
    Some((f[0].parse().ok()?, f[1].parse().ok()?))
}

fn parse_observations(lines: &[(usize, &str)]) -> Result<Vec<Observation>, BadLine> {
    let mut rest = lines;
    let (first_no, first) = lines[0];
    let header = match pair(first) {
        None => true,
        Some((t, _)) => {
            t != 0.0
                && lines
                    .get(1)
                    .and_then(|(_, l)| pair(l))
                    .is_some_and(|(t2, _)| t2 == 0.0)
        }
    };
    if header {
        rest = &lines[1..];
        if rest.is_empty() {
            return Err(bad(first_no, "a header line but no cascade after it"));
        }
    }
    let mut out = Vec::with_capacity(rest.len());
    for (i, &(no, line)) in rest.iter().enumerate() {
        let (time, followers) = pair(line).ok_or_else(|| {
            bad(
                no,
                format!("expected `relative_time followers`, found {line:?}"),
            )
        })?;
        if !time.is_finite() || time < 0.0 {
            return Err(bad(
                no,
                "the time must be a number of seconds, not negative",
            ));
        }
        if !followers.is_finite() || followers < 0.0 {
            return Err(bad(no, "the follower count must not be negative"));
        }
        if i == 0 && time != 0.0 {
            return Err(bad(
                no,
                "the first line must be the original post, at time 0",
            ));
        }
        out.push(Observation { time, followers });
    }
    Ok(out)
}

/// `['a', 'b', '1.5']` into its three fields.
fn tuple(text: &str) -> Option<[&str; 3]> {
    let inner = text.trim().strip_prefix('[')?.strip_suffix(']')?;
    let parts: Vec<&str> = inner
        .split(',')
        .map(|p| p.trim().trim_matches('\'').trim_matches('"'))
        .collect();
    (parts.len() == 3).then(|| [parts[0], parts[1], parts[2]])
}

fn parse_tree(lines: &[(usize, &str)]) -> Result<Vec<Node>, BadLine> {
    type Key<'a> = [&'a str; 3];
    let mut source: Option<Key<'_>> = None;
    let mut edges: Vec<(usize, Key<'_>, Key<'_>)> = Vec::new();
    for &(no, line) in lines {
        let (left, right) = line
            .split_once("->")
            .ok_or_else(|| bad(no, "expected `parent->child`"))?;
        let parent = tuple(left)
            .ok_or_else(|| bad(no, "the parent is not a ['user', 'post', 'delay'] tuple"))?;
        let child = tuple(right)
            .ok_or_else(|| bad(no, "the child is not a ['user', 'post', 'delay'] tuple"))?;
        child[2]
            .parse::<f64>()
            .map_err(|_| bad(no, format!("the delay {:?} is not a number", child[2])))?;
        if parent[0] == "ROOT" {
            if source.is_some_and(|s| s != child) {
                return Err(bad(no, "a second ROOT line"));
            }
            source = Some(child);
        } else {
            parent[2]
                .parse::<f64>()
                .map_err(|_| bad(no, format!("the delay {:?} is not a number", parent[2])))?;
            edges.push((no, parent, child));
        }
    }
    let source =
        source.ok_or_else(|| bad(lines[0].0, "no ['ROOT', 'ROOT', '0.0']->[source] line"))?;
    let mut ids: HashMap<Key<'_>, i64> = HashMap::from([(source, 1)]);
    let mut parent_of: HashMap<Key<'_>, Key<'_>> = HashMap::new();
    for &(_, parent, child) in &edges {
        if parent == child || child == source || parent_of.contains_key(&child) {
            continue;
        }
        parent_of.insert(child, parent);
        let next = ids.len() as i64 + 1;
        ids.entry(child).or_insert(next);
    }
    let minutes = |k: &Key<'_>| (k[2].parse::<f64>().unwrap_or(0.0) * 60_000.0).round() as i64;
    let account = |k: &Key<'_>| k[0].parse::<i64>().unwrap_or(0);
    let mut nodes = vec![Node::root(1, account(&source), 0)];
    for (child, parent) in &parent_of {
        let Some(&id) = ids.get(child) else { continue };
        // A parent that is nobody's child and not the source hangs under the source.
        let parent_id = ids.get(parent).copied().unwrap_or(1);
        nodes.push(Node::reblog(
            id,
            parent_id,
            account(child),
            minutes(child).max(0),
        ));
    }
    nodes.sort_by_key(|n| n.id);
    adopt_orphans(&mut nodes);
    Ok(nodes)
}

/// What `cascade analyze` prints for one observation time.
#[derive(Debug, Serialize)]
pub struct Analysis {
    /// Seconds since the original post.
    pub at: f64,
    /// Reshares seen by then (the original excluded).
    pub observed: usize,
    pub tree: Option<TreeStats>,
    pub prediction: Option<Prediction>,
    /// Reshares per bucket up to `at`.
    pub over_time: Series,
}

#[derive(Debug, Serialize)]
pub struct TreeStats {
    pub size: usize,
    pub depth: u32,
    pub max_breadth: usize,
    pub breadth: Vec<usize>,
    pub structural_virality: f64,
}

#[derive(Debug, Serialize)]
pub struct Prediction {
    pub infectiousness: f64,
    pub infectiousness_lower: f64,
    pub infectiousness_upper: f64,
    /// `null` when SEISMIC finds the cascade supercritical.
    pub final_reshares: Option<f64>,
    pub final_reshares_lower: Option<f64>,
    pub final_reshares_upper: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct Series {
    pub bucket_seconds: i64,
    pub reshares: Vec<u64>,
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// The analysis at each time of `at` (seconds), or at the last event when `at` is empty.
pub fn analyze(input: &Input, at: &[f64]) -> Result<Vec<Analysis>, String> {
    let times_ms: Vec<i64> = match input {
        Input::Observations(o) => o.iter().map(|o| (o.time * 1000.0).round() as i64).collect(),
        Input::Tree(nodes) => nodes.iter().map(|n| n.time_ms).collect(),
    };
    let last = times_ms.iter().copied().max().unwrap_or(0) as f64 / 1000.0;
    let at: Vec<f64> = if at.is_empty() {
        vec![last]
    } else {
        at.to_vec()
    };
    let predictor = match input {
        Input::Observations(o) => Some(seismic::Predictor::new(o, seismic::Params::default())),
        Input::Tree(_) => None,
    };
    let mut out = Vec::new();
    for &t in &at {
        let until = (t * 1000.0).round() as i64;
        let tree = match input {
            Input::Tree(nodes) => {
                let mut seen: Vec<Node> = nodes
                    .iter()
                    .filter(|n| n.time_ms <= until)
                    .copied()
                    .collect();
                adopt_orphans(&mut seen);
                let tree = Tree::build(seen).map_err(|e| e.to_string())?;
                let s = tree.stats(&StatsOptions::default());
                Some(TreeStats {
                    size: s.size,
                    depth: s.depth,
                    max_breadth: s.max_breadth,
                    breadth: s.breadth,
                    structural_virality: s.structural_virality,
                })
            }
            Input::Observations(_) => None,
        };
        let upto: Vec<i64> = times_ms.iter().copied().filter(|&x| x <= until).collect();
        let buckets = cascade_core::cascade::Buckets::auto(0, until.max(1), 60, 60_000);
        let reshares = buckets.tally(upto.iter().skip(1).map(|&x| (x, 1)));
        let prediction = predictor.as_ref().map(|p| {
            let e = p.estimate(t);
            Prediction {
                infectiousness: e.infectiousness,
                infectiousness_lower: e.lower,
                infectiousness_upper: e.upper,
                final_reshares: finite(e.prediction),
                final_reshares_lower: finite(e.prediction_lower),
                final_reshares_upper: finite(e.prediction_upper),
            }
        });
        out.push(Analysis {
            at: t,
            observed: upto.len().saturating_sub(1),
            tree,
            prediction,
            over_time: Series {
                bucket_seconds: buckets.width_ms / 1000,
                reshares,
            },
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_observations_with_either_header() {
        let csv = "\"relative_time_second\",\"number_of_followers\"\n0,2290\n11,91\n";
        let Input::Observations(o) = parse(csv).unwrap() else {
            panic!("observations")
        };
        assert_eq!(o.len(), 2);
        let tideh = "2 5.5\n0 100\n15 10\n";
        let Input::Observations(o) = parse(tideh).unwrap() else {
            panic!("observations")
        };
        assert_eq!(o[1].time, 15.0);
        let bare = "0 100\n15 10\n";
        assert!(matches!(parse(bare), Ok(Input::Observations(o)) if o.len() == 2));
    }

    #[test]
    fn bad_lines_are_named() {
        assert_eq!(parse("0 10\n5 lots\n").err().unwrap().line, 2);
        assert_eq!(parse("5 10\n6 10\n").err().unwrap().line, 1);
        assert_eq!(parse("0 10\n-3 4\n").err().unwrap().line, 2);
        let tree =
            "['ROOT', 'ROOT', '0.0']->['1', '9', '0.0']\n['1', '9', '0.0']->['2', '9', 'soon']\n";
        assert_eq!(parse(tree).err().unwrap().line, 2);
        assert_eq!(
            parse("['1', '9', '0.0']->['2', '9', '1.0']\n")
                .err()
                .unwrap()
                .reason,
            "no ['ROOT', 'ROOT', '0.0']->[source] line"
        );
    }

    #[test]
    fn reads_trees_with_their_quirks() {
        let tree = "['1', '9', '0.0']->['2', '9', '1.0']\n\
                    ['ROOT', 'ROOT', '0.0']->['1', '9', '0.0']\n\
                    ['2', '9', '1.0']->['3', '9', '2.0']\n\
                    ['2', '9', '1.0']->['2', '9', '1.0']\n\
                    ['3', '9', '2.0']->['1', '9', '0.0']\n\
                    ['1', '9', '0.0']->['3', '9', '2.0']\n";
        let Input::Tree(nodes) = parse(tree).unwrap() else {
            panic!("tree")
        };
        assert_eq!(
            nodes.len(),
            3,
            "self-loop, source-as-child and second parent skipped"
        );
        let a = analyze(&Input::Tree(nodes), &[]).unwrap();
        let t = a[0].tree.as_ref().unwrap();
        assert_eq!((t.size, t.depth), (3, 2));
        assert!(a[0].prediction.is_none());
    }
}
