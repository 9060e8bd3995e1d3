//! Drawing a cascade as SVG, on the server: a radial tree (the root in the middle, each
//! ring one reshare deeper, leaves spread evenly around) and a chart of reshares and views
//! over time. Pure functions from measured data to markup; every label is escaped.

use std::fmt::Write;

use cascade_core::cascade::{Kind, Stats, Tree};
use cascade_core::text::escape_html;
use cascade_core::Id;

/// The drawing's size and ring spacing.
const SIZE: f64 = 860.0;
/// Nodes drawn at most: beyond a few hundred circles a drawing shows nothing more, while
/// its markup grows with every reshare. The rest are aggregated (`nearest`).
pub const MAX_DRAWN_NODES: usize = 400;

/// The part of a tree that is drawn: its `max` nodes nearest the root (a prefix of the
/// breadth-first order, so every drawn node's parent is drawn), and for each drawn node
/// how many undrawn reshares hang below it, counted on their nearest drawn ancestor.
pub fn nearest(tree: &Tree, max: usize) -> (Tree, Vec<usize>) {
    let keep = max.max(1).min(tree.size());
    let drawn = match Tree::build(tree.nodes()[..keep].to_vec()) {
        Ok(t) => t,
        // A breadth-first prefix is a tree; should that ever fail, draw the root alone.
        Err(_) => Tree::build(vec![*tree.root()]).unwrap_or_else(|_| tree.clone()),
    };
    let mut ancestor: Vec<usize> = (0..tree.size()).collect();
    let mut hidden = vec![0usize; drawn.size()];
    for i in keep..tree.size() {
        // Parents come before their children in breadth-first order.
        ancestor[i] = tree.parent_position(i).map_or(0, |p| ancestor[p]);
        let id = tree.nodes()[ancestor[i]].id;
        if let Some(at) = drawn.position(id) {
            hidden[at] += 1;
        }
    }
    (drawn, hidden)
}
const MARGIN: f64 = 40.0;

/// Colours by kind; depth lightens them.
fn colour(kind: Kind, depth: u32, max_depth: u32) -> String {
    let (h, s) = match kind {
        Kind::Root => (350.0, 80.0),
        Kind::Reblog => (250.0, 65.0),
        Kind::Quote => (28.0, 90.0),
    };
    let light = 38.0 + 30.0 * f64::from(depth) / f64::from(max_depth.max(1));
    format!("hsl({h:.0} {s:.0}% {light:.0}%)")
}

/// Angles of the nodes: leaves evenly around the circle in depth-first order, each parent
/// at the middle of its children. Iterative, so deep chains cannot overflow the stack.
fn angles(tree: &Tree) -> Vec<f64> {
    let n = tree.size();
    let mut order = Vec::with_capacity(n);
    let mut stack = vec![0usize];
    while let Some(at) = stack.pop() {
        order.push(at);
        // Reverse, so the first child is visited first.
        stack.extend(tree.children(at).rev());
    }
    let leaves = order
        .iter()
        .filter(|&&i| tree.children(i).is_empty())
        .count()
        .max(1);
    let mut angle = vec![0.0; n];
    let mut next_leaf = 0usize;
    for &i in &order {
        if tree.children(i).is_empty() {
            angle[i] = std::f64::consts::TAU * (next_leaf as f64 + 0.5) / leaves as f64;
            next_leaf += 1;
        }
    }
    // Parents after children: the reverse of breadth-first order (the tree's own order).
    for i in (0..n).rev() {
        let children = tree.children(i);
        if !children.is_empty() {
            let sum: f64 = children.clone().map(|c| angle[c]).sum();
            angle[i] = sum / children.len() as f64;
        }
    }
    angle
}

/// The tree as SVG: one `circle.node` per node (the root included), sized by the accounts
/// it exposed, coloured by kind and depth, with the labelled amplifiers. `hidden` says,
/// per node, how many undrawn reshares hang below it (see `nearest`); those nodes get a
/// ring and say so in their title.
pub fn tree_svg(
    tree: &Tree,
    hidden: &[usize],
    stats: &Stats,
    label: impl Fn(Id) -> String,
) -> String {
    let depths = tree.depths();
    let max_depth = stats.depth.max(1);
    let ring = (SIZE / 2.0 - MARGIN) / f64::from(max_depth);
    let angle = angles(tree);
    let centre = SIZE / 2.0;
    let pos = |i: usize| {
        let r = ring * f64::from(depths[i]);
        (centre + r * angle[i].cos(), centre + r * angle[i].sin())
    };
    let max_exposed = tree
        .nodes()
        .iter()
        .filter_map(|n| n.exposed)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let radius = |i: usize| {
        let exposed = tree.nodes()[i].exposed.unwrap_or(0).max(0) as f64;
        2.5 + 12.0 * (exposed / max_exposed).sqrt()
    };
    let amplifiers: Vec<Id> = stats.amplifiers.iter().take(5).map(|a| a.account).collect();
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {SIZE} {SIZE}\" role=\"img\" aria-labelledby=\"tree-title\" class=\"cascade-tree\">\
         <title id=\"tree-title\">The reshare tree: {} nodes, {} deep</title><g class=\"rings\" fill=\"none\" stroke=\"#ececf2\">",
        tree.size(),
        stats.depth
    );
    for d in 1..=max_depth {
        let _ = write!(
            svg,
            "<circle cx=\"{centre}\" cy=\"{centre}\" r=\"{:.1}\"/>",
            ring * f64::from(d)
        );
    }
    svg.push_str("</g><g class=\"edges\" stroke=\"#b9b9c8\" stroke-width=\"0.8\">");
    for i in 1..tree.size() {
        if let Some(p) = tree.parent_position(i) {
            let ((x1, y1), (x2, y2)) = (pos(p), pos(i));
            let _ = write!(
                svg,
                "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\"/>"
            );
        }
    }
    svg.push_str("</g><g class=\"nodes\" stroke=\"#fff\" stroke-width=\"0.6\">");
    // Draw the root last, on top.
    for i in (1..tree.size()).chain(std::iter::once(0)) {
        let node = &tree.nodes()[i];
        let (x, y) = pos(i);
        let below = hidden.get(i).copied().unwrap_or(0);
        let (more, outline) = if below > 0 {
            (
                format!(" · {below} more reshares below, not drawn"),
                " stroke=\"#1b1b1f\" stroke-width=\"2\" data-hidden=\"".to_string()
                    + &below.to_string()
                    + "\"",
            )
        } else {
            (String::new(), String::new())
        };
        let _ = write!(
            svg,
            "<circle class=\"node {kind}\" data-id=\"{id}\" data-depth=\"{depth}\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{r:.1}\" fill=\"{fill}\"{outline}><title>@{who} · {kind} · depth {depth} · {followers} followers · {exposed} newly reached{more}</title></circle>",
            kind = node.kind.as_str(),
            id = node.id,
            depth = depths[i],
            r = radius(i),
            fill = colour(node.kind, depths[i], max_depth),
            who = escape_html(&label(node.account)),
            followers = node.followers,
            exposed = node.exposed.map_or("?".to_string(), |e| e.to_string()),
        );
    }
    svg.push_str("</g><g class=\"labels\" font-size=\"12\" font-family=\"system-ui, sans-serif\" fill=\"#1b1b1f\">");
    for (rank, account) in amplifiers.iter().enumerate() {
        // Label the account's reshare with the largest subtree.
        let Some(i) = tree
            .nodes()
            .iter()
            .position(|n| n.account == *account && n.kind != Kind::Root)
        else {
            continue;
        };
        let (x, y) = pos(i);
        let _ = write!(
            svg,
            "<text class=\"amplifier\" x=\"{:.1}\" y=\"{:.1}\" paint-order=\"stroke\" stroke=\"#fff\" stroke-width=\"3\">{}. @{}</text>",
            x + radius(i) + 3.0,
            y + 4.0,
            rank + 1,
            escape_html(&label(*account))
        );
    }
    svg.push_str("</g></svg>");
    svg
}

/// Reshares (bars) and views (line, when known) per bucket.
pub fn activity_svg(stats: &Stats, show_views: bool) -> String {
    let (w, h, pad) = (860.0, 220.0, 30.0);
    let reshares = &stats.reshares_over_time;
    let views = &stats.views_over_time;
    let n = reshares.len().max(1);
    let bar = (w - 2.0 * pad) / n as f64;
    let max_r = reshares.iter().copied().max().unwrap_or(0).max(1) as f64;
    let max_v = views.iter().copied().max().unwrap_or(0).max(1) as f64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"activity-title\" class=\"activity\">\
         <title id=\"activity-title\">Reshares{} over time</title><line x1=\"{pad}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\" stroke=\"#ccc\"/>",
        if show_views { " and views" } else { "" },
        y = h - pad,
        x2 = w - pad
    );
    for (i, &r) in reshares.iter().enumerate() {
        let bh = (h - 2.0 * pad) * r as f64 / max_r;
        let _ = write!(
            svg,
            "<rect class=\"reshares\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"hsl(250 65% 55%)\"><title>{r} reshares</title></rect>",
            pad + i as f64 * bar + 0.5,
            h - pad - bh,
            (bar - 1.0).max(0.5)
        );
    }
    if show_views && views.iter().any(|&v| v > 0) {
        let points: Vec<String> = views
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                format!(
                    "{:.1},{:.1}",
                    pad + (i as f64 + 0.5) * bar,
                    h - pad - (h - 2.0 * pad) * v as f64 / max_v
                )
            })
            .collect();
        let _ = write!(svg, "<polyline class=\"views\" fill=\"none\" stroke=\"hsl(28 90% 50%)\" stroke-width=\"2\" points=\"{}\"/>", points.join(" "));
    }
    let _ = write!(
        svg,
        "<text x=\"{pad}\" y=\"18\" font-size=\"12\" font-family=\"system-ui, sans-serif\" fill=\"#5f6368\">max {} reshares per bucket{}</text></svg>",
        max_r as u64,
        if show_views { format!(", {} views", max_v as u64) } else { String::new() }
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use cascade_core::cascade::Node;
    use proptest::prelude::*;

    /// A tree whose node `i` (from 1) reshares node `parents[i - 1] % i`.
    fn tree(parents: &[usize]) -> Tree {
        let mut nodes = vec![Node::root(1, 1, 0)];
        for (i, p) in parents.iter().enumerate() {
            let id = i as i64 + 2;
            let parent = (p % (i + 1)) as i64 + 1;
            nodes.push(Node::reblog(id, parent, id, id));
        }
        Tree::build(nodes).expect("a tree")
    }

    proptest! {
        #[test]
        fn the_drawn_part_is_bounded_and_every_other_node_is_counted_once(
            parents in proptest::collection::vec(0usize..1_000, 0..300),
            max in 1usize..120,
        ) {
            let full = tree(&parents);
            let (drawn, hidden) = nearest(&full, max);
            prop_assert_eq!(drawn.size(), full.size().min(max));
            prop_assert_eq!(drawn.size() + hidden.iter().sum::<usize>(), full.size());
            // The nearest nodes: none drawn is deeper than any left out.
            let deepest_drawn = drawn.depths().iter().max().copied().unwrap_or(0);
            let shallowest_left = full.depths()[drawn.size()..].iter().min().copied();
            prop_assert!(shallowest_left.is_none_or(|d| d >= deepest_drawn));
            // Only nodes with reshares below them aggregate any.
            for (at, &n) in hidden.iter().enumerate() {
                if n > 0 {
                    let id = drawn.nodes()[at].id;
                    let in_full = full.position(id).expect("a drawn node is in the tree");
                    prop_assert!(!full.children(in_full).is_empty());
                }
            }
        }
    }
}
