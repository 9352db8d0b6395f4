//! Argument trees: the script an agent walks during a call. Each node is a question or an
//! argument with three branches (yes / no / undecided), each leading to another node or to the
//! end of the script. The editor runs in the browser with the same checks the server applies on
//! saving; a tree used by an active campaign is versioned rather than changed under its answers.

pub mod api;
pub mod drawing;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod store;

use std::collections::{HashMap, HashSet, VecDeque};

use serde::{Deserialize, Serialize};

use crate::error::fill;
use crate::i18n::{Locale, td_string};

/// How the contact answered a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Answer {
    Yes,
    No,
    Undecided,
}

impl Answer {
    pub const ALL: [Answer; 3] = [Answer::Yes, Answer::No, Answer::Undecided];

    pub fn code(self) -> &'static str {
        match self {
            Answer::Yes => "yes",
            Answer::No => "no",
            Answer::Undecided => "undecided",
        }
    }

    pub fn label(self, locale: Locale) -> String {
        match self {
            Answer::Yes => td_string!(locale, answer_yes),
            Answer::No => td_string!(locale, answer_no),
            Answer::Undecided => td_string!(locale, answer_undecided),
        }
        .to_string()
    }
}

/// Where a branch leads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Branch {
    /// Not chosen yet: the editor shows it, saving refuses it.
    #[default]
    Unset,
    Node(u32),
    End,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeNode {
    /// Stable within the tree, shown as "Q3"; answers given on a version refer to it.
    pub key: u32,
    pub text: String,
    pub yes: Branch,
    pub no: Branch,
    pub undecided: Branch,
}

impl TreeNode {
    pub fn branch(&self, answer: Answer) -> Branch {
        match answer {
            Answer::Yes => self.yes,
            Answer::No => self.no,
            Answer::Undecided => self.undecided,
        }
    }

    pub fn branch_mut(&mut self, answer: Answer) -> &mut Branch {
        match answer {
            Answer::Yes => &mut self.yes,
            Answer::No => &mut self.no,
            Answer::Undecided => &mut self.undecided,
        }
    }

    /// "Q3 (Do you have a box…)": how messages and menus name a node.
    pub fn name(&self) -> String {
        let text = self.text.trim();
        let short: String = text.chars().take(NAME_CHARS).collect();
        let short = if text.chars().count() > NAME_CHARS { format!("{short}…") } else { short };
        if short.is_empty() { format!("Q{}", self.key) } else { format!("Q{} ({short})", self.key) }
    }
}

const NAME_CHARS: usize = 40;
pub const MAX_NODES: usize = 300;
pub const MAX_TEXT_CHARS: usize = 1000;
pub const MAX_NAME_CHARS: u32 = 100;

/// The nodes in the editor's order; the walk begins at `start`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArgumentTree {
    pub start: u32,
    pub nodes: Vec<TreeNode>,
}

impl ArgumentTree {
    /// A tree of one node whose branches all end the script.
    pub fn single(text: &str) -> ArgumentTree {
        ArgumentTree {
            start: 1,
            nodes: vec![TreeNode { key: 1, text: text.trim().to_string(), yes: Branch::End, no: Branch::End, undecided: Branch::End }],
        }
    }

    pub fn node(&self, key: u32) -> Option<&TreeNode> {
        self.nodes.iter().find(|node| node.key == key)
    }

    pub fn node_mut(&mut self, key: u32) -> Option<&mut TreeNode> {
        self.nodes.iter_mut().find(|node| node.key == key)
    }

    /// Appends a node with unset branches and returns its key.
    pub fn add_node(&mut self, text: &str) -> u32 {
        let key = self.nodes.iter().map(|node| node.key).max().unwrap_or(0) + 1;
        self.nodes.push(TreeNode {
            key,
            text: text.to_string(),
            yes: Branch::Unset,
            no: Branch::Unset,
            undecided: Branch::Unset,
        });
        if self.nodes.len() == 1 {
            self.start = key;
        }
        key
    }

    /// Removes a node; the branches that led to it become unset so the editor shows them.
    pub fn remove_node(&mut self, key: u32) {
        self.nodes.retain(|node| node.key != key);
        for node in &mut self.nodes {
            for answer in Answer::ALL {
                if node.branch(answer) == Branch::Node(key) {
                    *node.branch_mut(answer) = Branch::Unset;
                }
            }
        }
        if self.start == key {
            self.start = self.nodes.first().map_or(0, |node| node.key);
        }
    }

    /// Moves a node one place up or down in the editor's list.
    pub fn shift_node(&mut self, key: u32, up: bool) {
        let Some(at) = self.nodes.iter().position(|node| node.key == key) else { return };
        let to = if up { at.checked_sub(1) } else { Some(at + 1).filter(|to| *to < self.nodes.len()) };
        if let Some(to) = to {
            self.nodes.swap(at, to);
        }
    }

    /// Everything that keeps the tree from being saved, in the editor's order.
    pub fn problems(&self) -> Vec<TreeProblem> {
        let mut problems = Vec::new();
        if self.nodes.is_empty() {
            return vec![TreeProblem::Empty];
        }
        if self.nodes.len() > MAX_NODES {
            return vec![TreeProblem::TooManyNodes { max: MAX_NODES as u32 }];
        }
        let mut seen = HashSet::new();
        for node in &self.nodes {
            if !seen.insert(node.key) {
                problems.push(TreeProblem::SameKey { node: node.name() });
            }
        }
        if self.node(self.start).is_none() {
            problems.push(TreeProblem::NoStart);
        }
        for node in &self.nodes {
            let text = node.text.trim();
            if text.is_empty() {
                problems.push(TreeProblem::NoText { node: node.name() });
            } else if text.chars().count() > MAX_TEXT_CHARS || text.chars().any(|c| c.is_control() && c != '\n') {
                problems.push(TreeProblem::BadText { node: node.name(), max: MAX_TEXT_CHARS as u32 });
            }
            for answer in Answer::ALL {
                let leads = match node.branch(answer) {
                    Branch::Unset => false,
                    Branch::End => true,
                    Branch::Node(key) => self.node(key).is_some(),
                };
                if !leads {
                    problems.push(TreeProblem::Dangling { node: node.name(), answer });
                }
            }
        }
        if !problems.is_empty() {
            return problems;
        }
        let reached = self.reachable();
        problems.extend(
            self.nodes.iter().filter(|node| !reached.contains(&node.key)).map(|node| TreeProblem::Unreachable { node: node.name() }),
        );
        if let Some(key) = self.first_cycle() {
            problems.push(TreeProblem::Cycle { node: self.node(key).map(TreeNode::name).unwrap_or_default() });
        }
        problems
    }

    /// The keys a walk from the start can reach.
    pub fn reachable(&self) -> HashSet<u32> {
        let mut reached = HashSet::new();
        let mut queue = VecDeque::from([self.start]);
        while let Some(key) = queue.pop_front() {
            let Some(node) = self.node(key) else { continue };
            if !reached.insert(key) {
                continue;
            }
            queue.extend(Answer::ALL.into_iter().filter_map(|answer| match node.branch(answer) {
                Branch::Node(next) => Some(next),
                _ => None,
            }));
        }
        reached
    }

    /// A node that a walk from the start can come back to, if any (depth-first, branch order).
    fn first_cycle(&self) -> Option<u32> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            OnPath,
            Done,
        }
        let index: HashMap<u32, &TreeNode> = self.nodes.iter().map(|node| (node.key, node)).collect();
        let mut marks: HashMap<u32, Mark> = HashMap::new();
        // An explicit stack of (node, next answer to follow): trees of a few hundred nodes could
        // still be deep enough to matter for the browser's stack.
        let mut stack = vec![(self.start, 0_usize)];
        marks.insert(self.start, Mark::OnPath);
        while let Some((key, next)) = stack.pop() {
            let Some(answer) = Answer::ALL.get(next) else {
                marks.insert(key, Mark::Done);
                continue;
            };
            stack.push((key, next + 1));
            if let Branch::Node(child) = index.get(&key)?.branch(*answer) {
                match marks.get(&child) {
                    Some(Mark::OnPath) => return Some(child),
                    Some(Mark::Done) => {}
                    None => {
                        if index.contains_key(&child) {
                            marks.insert(child, Mark::OnPath);
                            stack.push((child, 0));
                        }
                    }
                }
            }
        }
        None
    }

    /// The tree with trimmed texts if it can be saved, else the first problem.
    pub fn checked(&self) -> Result<ArgumentTree, TreeProblem> {
        if let Some(problem) = self.problems().into_iter().next() {
            return Err(problem);
        }
        let mut tree = self.clone();
        for node in &mut tree.nodes {
            node.text = node.text.trim().to_string();
        }
        Ok(tree)
    }
}

/// Why a tree cannot be saved; each names the node concerned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TreeProblem {
    Empty,
    TooManyNodes { max: u32 },
    SameKey { node: String },
    NoStart,
    NoText { node: String },
    BadText { node: String, max: u32 },
    Dangling { node: String, answer: Answer },
    Unreachable { node: String },
    Cycle { node: String },
}

impl TreeProblem {
    pub fn message(&self, locale: Locale) -> String {
        match self {
            TreeProblem::Empty => td_string!(locale, tree_empty).to_string(),
            TreeProblem::TooManyNodes { max } => fill(td_string!(locale, tree_too_many_nodes), &[("max", &max.to_string())]),
            TreeProblem::SameKey { node } => fill(td_string!(locale, tree_same_key), &[("node", node)]),
            TreeProblem::NoStart => td_string!(locale, tree_no_start).to_string(),
            TreeProblem::NoText { node } => fill(td_string!(locale, tree_no_text), &[("node", node)]),
            TreeProblem::BadText { node, max } => {
                fill(td_string!(locale, tree_bad_text), &[("node", node), ("max", &max.to_string())])
            }
            TreeProblem::Dangling { node, answer } => {
                fill(td_string!(locale, tree_dangling), &[("node", node), ("answer", &answer.label(locale))])
            }
            TreeProblem::Unreachable { node } => fill(td_string!(locale, tree_unreachable), &[("node", node)]),
            TreeProblem::Cycle { node } => fill(td_string!(locale, tree_cycle), &[("node", node)]),
        }
    }
}

/// A tree in the list of the tenant's trees.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeSummary {
    pub id: i64,
    pub name: String,
    pub version: i64,
    pub nodes: i64,
    /// Names of the campaigns that use it.
    pub campaigns: Vec<String>,
}

/// A tree a campaign may use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeChoice {
    pub id: i64,
    pub name: String,
}

/// A tree as the editor opens it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeDetail {
    pub id: i64,
    pub name: String,
    pub version: i64,
    /// Active campaigns using the tree: saving then makes a new version.
    pub active_campaigns: Vec<String>,
    pub tree: ArgumentTree,
}

/// What saving did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedTree {
    pub version: i64,
    /// True when the previous version had been used and was kept as it was.
    pub new_version: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(key: u32, text: &str, yes: Branch, no: Branch, undecided: Branch) -> TreeNode {
        TreeNode { key, text: text.into(), yes, no, undecided }
    }

    /// Q1 → yes Q2, no Q3, undecided Q2; Q2 and Q3 end (Q2 shared by two branches).
    fn sales() -> ArgumentTree {
        ArgumentTree {
            start: 1,
            nodes: vec![
                node(1, "Do you have internet at home?", Branch::Node(2), Branch::Node(3), Branch::Node(2)),
                node(2, "Would you like a faster line?", Branch::End, Branch::End, Branch::End),
                node(3, "May I tell you about our box?", Branch::End, Branch::End, Branch::End),
            ],
        }
    }

    #[test]
    fn a_complete_tree_without_cycles_is_valid_even_with_shared_nodes() {
        assert_eq!(sales().problems(), vec![]);
        assert!(sales().checked().is_ok());
    }

    #[test]
    fn dangling_branches_name_the_node_and_the_branch() {
        let mut tree = sales();
        tree.node_mut(2).unwrap().no = Branch::Unset;
        tree.node_mut(3).unwrap().undecided = Branch::Node(9);
        assert_eq!(
            tree.problems(),
            vec![
                TreeProblem::Dangling { node: "Q2 (Would you like a faster line?)".into(), answer: Answer::No },
                TreeProblem::Dangling { node: "Q3 (May I tell you about our box?)".into(), answer: Answer::Undecided },
            ]
        );
        assert!(tree.problems()[0].message(Locale::en).contains("Q2 (Would you like a faster line?)"));
    }

    #[test]
    fn unreachable_nodes_are_named() {
        let mut tree = sales();
        tree.node_mut(1).unwrap().no = Branch::End;
        assert_eq!(tree.problems(), vec![TreeProblem::Unreachable { node: "Q3 (May I tell you about our box?)".into() }]);
    }

    #[test]
    fn a_cycle_names_the_node_it_comes_back_to() {
        let mut tree = sales();
        tree.node_mut(3).unwrap().yes = Branch::Node(1);
        assert_eq!(tree.problems(), vec![TreeProblem::Cycle { node: "Q1 (Do you have internet at home?)".into() }]);
        let mut selfish = sales();
        selfish.node_mut(2).unwrap().undecided = Branch::Node(2);
        assert_eq!(selfish.problems(), vec![TreeProblem::Cycle { node: "Q2 (Would you like a faster line?)".into() }]);
    }

    #[test]
    fn a_long_chain_is_checked_without_recursion() {
        let mut tree = ArgumentTree::default();
        for _ in 0..MAX_NODES {
            tree.add_node("step");
        }
        for key in 1..MAX_NODES as u32 {
            let node = tree.node_mut(key).unwrap();
            (node.yes, node.no, node.undecided) = (Branch::Node(key + 1), Branch::End, Branch::End);
        }
        let last = tree.node_mut(MAX_NODES as u32).unwrap();
        (last.yes, last.no, last.undecided) = (Branch::End, Branch::End, Branch::Node(1));
        assert_eq!(tree.problems(), vec![TreeProblem::Cycle { node: "Q1 (step)".into() }]);
        tree.add_node("one too many");
        assert_eq!(tree.problems(), vec![TreeProblem::TooManyNodes { max: MAX_NODES as u32 }]);
    }

    #[test]
    fn texts_are_required_bounded_and_trimmed() {
        let mut tree = sales();
        tree.node_mut(3).unwrap().text = "  ".into();
        assert_eq!(tree.problems(), vec![TreeProblem::NoText { node: "Q3".into() }]);
        tree.node_mut(3).unwrap().text = "x".repeat(MAX_TEXT_CHARS + 1);
        assert!(matches!(tree.problems()[..], [TreeProblem::BadText { .. }]));
        tree.node_mut(3).unwrap().text = "  Line one\nline two ".into();
        assert_eq!(tree.checked().unwrap().node(3).unwrap().text, "Line one\nline two");
    }

    #[test]
    fn removing_a_node_unsets_the_branches_to_it_and_moves_the_start() {
        let mut tree = sales();
        tree.remove_node(2);
        let first = tree.node(1).unwrap();
        assert_eq!((first.yes, first.no, first.undecided), (Branch::Unset, Branch::Node(3), Branch::Unset));
        tree.remove_node(1);
        assert_eq!(tree.start, 3);
        tree.remove_node(3);
        assert_eq!(tree.problems(), vec![TreeProblem::Empty]);
    }

    #[test]
    fn forged_trees_are_refused() {
        let mut tree = sales();
        tree.start = 7;
        assert_eq!(tree.problems(), vec![TreeProblem::NoStart]);
        let mut twins = sales();
        twins.nodes[2].key = 2;
        assert!(twins.problems().contains(&TreeProblem::SameKey { node: "Q2 (May I tell you about our box?)".into() }));
    }

    #[test]
    fn nodes_shift_within_the_list_and_new_keys_follow_the_highest() {
        let mut tree = sales();
        tree.shift_node(3, true);
        tree.shift_node(1, true);
        assert_eq!(tree.nodes.iter().map(|n| n.key).collect::<Vec<_>>(), vec![1, 3, 2]);
        tree.shift_node(2, false);
        assert_eq!(tree.nodes.iter().map(|n| n.key).collect::<Vec<_>>(), vec![1, 3, 2]);
        assert_eq!(tree.add_node("new"), 4);
    }
}

#[cfg(all(test, feature = "ssr"))]
mod store_tests;
