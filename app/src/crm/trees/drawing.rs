//! The drawing of a whole argument tree as SVG, recomputed from the editor's state on every
//! change. Nodes sit in rows by their distance from the start; a node two branches share is drawn
//! once. Links that go back up (a cycle being built) are dashed, branches not chosen yet are red.

use std::collections::{HashMap, VecDeque};

use leptos::prelude::*;

use super::{Answer, ArgumentTree, Branch};
use crate::i18n::*;

const BOX_W: i32 = 190;
const BOX_H: i32 = 58;
const COLUMN: i32 = BOX_W + 40;
const ROW: i32 = BOX_H + 90;
const MARGIN: i32 = 24;
const STUB: i32 = 30;
const LINE_CHARS: usize = 26;

#[derive(Clone, Debug, PartialEq)]
pub struct PlacedNode {
    pub key: u32,
    pub x: i32,
    pub y: i32,
    pub start: bool,
    pub reachable: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    /// Down to a node further from the start.
    Down,
    /// To a node of the same row (a shared question): fine.
    Across,
    /// Back up, or to itself: a loop, refused on saving.
    Back,
    /// Ends the script.
    End,
    /// Not chosen, or leading to a deleted node.
    Loose,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    pub from: u32,
    pub answer: Answer,
    pub kind: LinkKind,
    /// SVG path data.
    pub path: String,
    /// Where the link leaves its node (its answer's letter is written there).
    pub origin: (i32, i32),
    /// Where the link ends (the end marker of `End` and `Loose` links).
    pub tip: (i32, i32),
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Layout {
    pub width: i32,
    pub height: i32,
    pub nodes: Vec<PlacedNode>,
    pub links: Vec<Link>,
}

/// Rows by breadth-first distance from the start, in the order branches are met; nodes no walk
/// reaches form a last row, in the editor's order.
pub fn layout(tree: &ArgumentTree) -> Layout {
    let mut level: HashMap<u32, usize> = HashMap::new();
    let mut rows: Vec<Vec<u32>> = Vec::new();
    let mut queue = VecDeque::new();
    if tree.node(tree.start).is_some() {
        level.insert(tree.start, 0);
        queue.push_back(tree.start);
    }
    while let Some(key) = queue.pop_front() {
        let depth = level[&key];
        if rows.len() <= depth {
            rows.resize(depth + 1, Vec::new());
        }
        rows[depth].push(key);
        let Some(node) = tree.node(key) else { continue };
        for answer in Answer::ALL {
            if let Branch::Node(next) = node.branch(answer)
                && tree.node(next).is_some()
                && !level.contains_key(&next)
            {
                level.insert(next, depth + 1);
                queue.push_back(next);
            }
        }
    }
    let unreachable: Vec<u32> = tree.nodes.iter().map(|n| n.key).filter(|key| !level.contains_key(key)).collect();
    let reachable_rows = rows.len();
    if !unreachable.is_empty() {
        for key in &unreachable {
            level.insert(*key, reachable_rows);
        }
        rows.push(unreachable);
    }
    let widest = rows.iter().map(Vec::len).max().unwrap_or(0) as i32;
    let width = (widest * COLUMN).max(COLUMN) + 2 * MARGIN + COLUMN / 2;
    let mut at: HashMap<u32, (i32, i32)> = HashMap::new();
    let mut nodes = Vec::new();
    for (depth, row) in rows.iter().enumerate() {
        let offset = (widest - row.len() as i32) * COLUMN / 2;
        for (i, key) in row.iter().enumerate() {
            let (x, y) = (MARGIN + offset + i as i32 * COLUMN, MARGIN + depth as i32 * ROW);
            at.insert(*key, (x, y));
            nodes.push(PlacedNode { key: *key, x, y, start: *key == tree.start, reachable: depth < reachable_rows });
        }
    }
    let mut links = Vec::new();
    for node in &nodes {
        let Some(source) = tree.node(node.key) else { continue };
        for (i, answer) in Answer::ALL.into_iter().enumerate() {
            let sx = node.x + BOX_W / 2 + (i as i32 - 1) * (BOX_W / 3);
            let sy = node.y + BOX_H;
            let stub = (sx, sy + STUB);
            let (kind, path, tip) = match source.branch(answer) {
                Branch::End => (LinkKind::End, format!("M{sx},{sy} L{},{}", stub.0, stub.1), stub),
                Branch::Unset => (LinkKind::Loose, format!("M{sx},{sy} L{},{}", stub.0, stub.1), stub),
                Branch::Node(key) => match at.get(&key) {
                    None => (LinkKind::Loose, format!("M{sx},{sy} L{},{}", stub.0, stub.1), stub),
                    Some(&(tx, ty)) if level[&key] > level[&node.key] => {
                        let (ex, ey) = (tx + BOX_W / 2, ty);
                        let bend = (ey - sy) / 2;
                        (LinkKind::Down, format!("M{sx},{sy} C{sx},{} {ex},{} {ex},{ey}", sy + bend, ey - bend), (ex, ey))
                    }
                    Some(&(tx, ty)) => {
                        // Around the right of the target, into its side.
                        let (ex, ey) = (tx + BOX_W, ty + BOX_H / 2);
                        let reach = COLUMN / 2;
                        let back = level[&key] < level[&node.key] || key == node.key;
                        (
                            if back { LinkKind::Back } else { LinkKind::Across },
                            format!("M{sx},{sy} C{sx},{} {},{ey} {ex},{ey}", sy + ROW / 2, ex + reach),
                            (ex, ey),
                        )
                    }
                },
            };
            links.push(Link { from: node.key, answer, kind, path, origin: (sx, sy), tip });
        }
    }
    let height = rows.len() as i32 * ROW + 2 * MARGIN;
    Layout { width, height, nodes, links }
}

/// The node's text cut into at most two short lines for its box.
fn box_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("one line at least");
        if line.is_empty() || line.chars().count() + 1 + word.chars().count() <= LINE_CHARS {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        } else if lines.len() == 2 {
            lines[1].push('…');
            break;
        } else {
            lines.push(word.to_string());
        }
    }
    for line in &mut lines {
        if line.chars().count() > LINE_CHARS {
            *line = line.chars().take(LINE_CHARS - 1).collect::<String>() + "…";
        }
    }
    lines
}

/// The live drawing of `tree`.
#[component]
pub fn TreeDrawing(#[prop(into)] tree: Signal<ArgumentTree>) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        let locale = i18n.get_locale();
        tree.with(|tree| {
            let drawn = layout(tree);
            let letters: HashMap<Answer, String> =
                Answer::ALL.into_iter().map(|a| (a, a.label(locale).chars().next().unwrap_or('?').to_string())).collect();
            let links = drawn
                .links
                .iter()
                .map(|link| {
                    let class = match link.kind {
                        LinkKind::Down => "link down",
                        LinkKind::Across => "link across",
                        LinkKind::Back => "link back",
                        LinkKind::End => "link end",
                        LinkKind::Loose => "link loose",
                    };
                    let (lx, ly) = link.origin;
                    let tip = match link.kind {
                        LinkKind::End => view! { <circle class="end" cx=link.tip.0 cy=link.tip.1 r="6" /> }.into_any(),
                        LinkKind::Loose => view! {
                            <text class="loose" x=link.tip.0 y=link.tip.1 + 14 text-anchor="middle">"?"</text>
                        }
                        .into_any(),
                        LinkKind::Down | LinkKind::Across | LinkKind::Back => ().into_any(),
                    };
                    view! {
                        <g class=class data-from=link.from data-answer=link.answer.code()>
                            <path d=link.path.clone() />
                            <text class="answer" x=lx + 4 y=ly + 13>{letters[&link.answer].clone()}</text>
                            {tip}
                        </g>
                    }
                })
                .collect_view();
            let boxes = drawn
                .nodes
                .iter()
                .filter_map(|placed| {
                    let node = tree.node(placed.key)?;
                    let mut class = String::from("node");
                    if placed.start {
                        class.push_str(" start");
                    }
                    if !placed.reachable {
                        class.push_str(" unreachable");
                    }
                    let lines = box_lines(&node.text);
                    Some(view! {
                        <g class=class data-node=placed.key>
                            <title>{node.text.clone()}</title>
                            <rect x=placed.x y=placed.y width=BOX_W height=BOX_H rx="6" />
                            <text class="key" x=placed.x + 8 y=placed.y + 16>
                                {if placed.start { format!("▶ Q{}", placed.key) } else { format!("Q{}", placed.key) }}
                            </text>
                            {lines
                                .into_iter()
                                .enumerate()
                                .map(|(i, line)| {
                                    view! { <text x=placed.x + 8 y=placed.y + 33 + 16 * i as i32>{line}</text> }
                                })
                                .collect_view()}
                        </g>
                    })
                })
                .collect_view();
            view! {
                <svg
                    class="tree-drawing"
                    data-testid="tree-drawing"
                    data-nodes=drawn.nodes.len()
                    viewBox=format!("0 0 {} {}", drawn.width, drawn.height)
                    width=drawn.width
                    height=drawn.height
                    role="img"
                    aria-label=td_string!(locale, trees_drawing)
                >
                    {links}
                    {boxes}
                </svg>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::trees::TreeNode;

    fn node(key: u32, yes: Branch, no: Branch, undecided: Branch) -> TreeNode {
        TreeNode { key, text: format!("Question {key}"), yes, no, undecided }
    }

    #[test]
    fn rows_follow_the_distance_from_the_start_and_shared_nodes_are_drawn_once() {
        let tree = ArgumentTree {
            start: 1,
            nodes: vec![
                node(3, Branch::End, Branch::End, Branch::End),
                node(1, Branch::Node(2), Branch::Node(3), Branch::Node(2)),
                node(2, Branch::Node(3), Branch::End, Branch::Unset),
                node(4, Branch::End, Branch::End, Branch::End),
            ],
        };
        let drawn = layout(&tree);
        let row_of = |key: u32| drawn.nodes.iter().find(|n| n.key == key).map(|n| (n.y - MARGIN) / ROW);
        assert_eq!([row_of(1), row_of(2), row_of(3), row_of(4)], [Some(0), Some(1), Some(1), Some(2)]);
        assert_eq!(drawn.nodes.len(), 4);
        assert!(!drawn.nodes.iter().find(|n| n.key == 4).unwrap().reachable);
        assert!(drawn.nodes.iter().find(|n| n.key == 1).unwrap().start);
        let kind = |from: u32, answer: Answer| drawn.links.iter().find(|l| l.from == from && l.answer == answer).unwrap().kind;
        assert_eq!(kind(1, Answer::Yes), LinkKind::Down);
        // Q2 → Q3 stays in the same row: drawn around, not as a loop.
        assert_eq!(kind(2, Answer::Yes), LinkKind::Across);
        assert_eq!(kind(2, Answer::No), LinkKind::End);
        assert_eq!(kind(2, Answer::Undecided), LinkKind::Loose);
        assert_eq!(drawn.links.len(), 12);
        assert!(drawn.width >= 2 * COLUMN && drawn.height == 3 * ROW + 2 * MARGIN);
    }

    #[test]
    fn links_back_up_or_to_the_node_itself_are_loops() {
        let tree = ArgumentTree {
            start: 1,
            nodes: vec![
                node(1, Branch::Node(2), Branch::End, Branch::End),
                node(2, Branch::Node(1), Branch::Node(2), Branch::End),
            ],
        };
        let drawn = layout(&tree);
        let kinds: Vec<LinkKind> = drawn.links.iter().filter(|l| l.from == 2).map(|l| l.kind).collect();
        assert_eq!(kinds, vec![LinkKind::Back, LinkKind::Back, LinkKind::End]);
    }

    #[test]
    fn an_empty_or_startless_tree_draws_without_panicking() {
        assert!(layout(&ArgumentTree::default()).nodes.is_empty());
        let orphan = ArgumentTree { start: 9, nodes: vec![node(1, Branch::Node(5), Branch::End, Branch::End)] };
        let drawn = layout(&orphan);
        assert_eq!(drawn.nodes.len(), 1);
        assert_eq!(drawn.links.iter().filter(|l| l.kind == LinkKind::Loose).count(), 1);
    }

    #[test]
    fn texts_fold_into_two_lines_at_most() {
        assert_eq!(box_lines("Hello"), vec!["Hello"]);
        assert_eq!(
            box_lines("Would you like to hear about our new fibre offer for your home today?"),
            vec!["Would you like to hear", "about our new fibre offer…"]
        );
        assert_eq!(box_lines("Anticonstitutionnellement-et-ainsi-de-suite")[0].chars().count(), LINE_CHARS);
    }
}
