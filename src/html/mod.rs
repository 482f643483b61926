//! HTML report pages as a light tree, built for reading them fast.
//!
//! Report pages are most of the bytes a crawl reads (Word-pasted tables, 20–60 kB),
//! and each is read once: its metadata, its attachment links and its tables all come
//! from one [`Page`]. A full DOM (`scraper`/html5ever, kept for portal and list pages,
//! where CSS selectors and spec tree-building earn their cost) parses such a page at
//! ~40–70 MB/s; this tree, fed by html5gum's spec tokenizer (entities, script and
//! RCDATA states) and built by the few tree rules that shape tables and paragraphs,
//! parses it ~3.3× faster (`cargo bench --bench stages -- parse_report`).
//!
//! What it keeps: elements with their attributes and text, in document order. What
//! it does not do: foster parenting, the adoption agency, namespaces. Text a browser
//! would move out of a table stays where it was printed, which only changes the order
//! of stray words, never which cell a number sits in.

mod attributes;
mod build;
mod tags;

use std::borrow::Cow;
use std::ops::Range;

/// A node's index in its page; 0 is the document.
pub type NodeId = usize;

/// One element or run of text.
#[derive(Debug)]
pub struct Node {
    pub kind: Kind,
    first_child: Option<NodeId>,
    last_child: Option<NodeId>,
    next_sibling: Option<NodeId>,
    /// One past the last descendant: nodes are stored in document order, so a node's
    /// descendants are exactly `id + 1..end`.
    end: NodeId,
}

#[derive(Debug)]
pub enum Kind {
    Document,
    /// Tag name lower-cased, with the attributes readers use (first of duplicates).
    Element {
        name: Cow<'static, str>,
        attrs: Vec<(&'static str, String)>,
    },
    Text(String),
}

/// A parsed page.
#[derive(Debug)]
pub struct Page {
    nodes: Vec<Node>,
}

/// A simple selector: what the readers of report pages look for.
#[derive(Debug, Clone, Copy)]
pub enum Select<'a> {
    Tag(&'a str),
    /// A class, matched ASCII case-insensitively (portals without a doctype render in
    /// quirks mode, where browsers do the same).
    Class(&'a str),
    Id(&'a str),
    /// `<meta name=…>`, the name matched ASCII case-insensitively.
    MetaName(&'a str),
}

impl Page {
    pub fn parse(html: &str) -> Page {
        build::parse(html)
    }

    pub const ROOT: NodeId = 0;

    pub fn kind(&self, id: NodeId) -> &Kind {
        &self.nodes[id].kind
    }

    /// The element's tag name, None for text and the document.
    pub fn name(&self, id: NodeId) -> Option<&str> {
        match &self.nodes[id].kind {
            Kind::Element { name, .. } => Some(name),
            _ => None,
        }
    }

    pub fn attr(&self, id: NodeId, attr: &str) -> Option<&str> {
        match &self.nodes[id].kind {
            Kind::Element { attrs, .. } => attrs.iter().find(|(k, _)| *k == attr).map(|(_, v)| v.as_str()),
            _ => None,
        }
    }

    pub fn children(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        std::iter::successors(self.nodes[id].first_child, |&c| self.nodes[c].next_sibling)
    }

    /// Every node below `id`, in document order.
    pub fn descendants(&self, id: NodeId) -> Range<NodeId> {
        id + 1..self.nodes[id].end
    }

    /// The text below `id`, joined as printed.
    pub fn text(&self, id: NodeId) -> String {
        let mut out = String::new();
        for d in self.descendants(id) {
            if let Kind::Text(t) = &self.nodes[d].kind {
                out.push_str(t);
            }
        }
        out
    }

    /// The runs of text after `id` and its descendants, in document order: what a
    /// reader sees below a heading.
    pub fn text_after(&self, id: NodeId) -> impl Iterator<Item = &str> + '_ {
        self.nodes[self.nodes[id].end..].iter().filter_map(|n| match &n.kind {
            Kind::Text(t) => Some(t.as_str()),
            _ => None,
        })
    }

    /// The length in bytes of the text below `id`, without building it.
    pub fn text_len(&self, id: NodeId) -> usize {
        self.descendants(id).map(|d| if let Kind::Text(t) = &self.nodes[d].kind { t.len() } else { 0 }).sum()
    }

    /// The elements matching `select`, in document order.
    pub fn select<'a>(&'a self, select: Select<'a>) -> impl Iterator<Item = NodeId> + 'a {
        (0..self.nodes.len()).filter(move |&id| match &self.nodes[id].kind {
            Kind::Element { name, attrs } => matches(name, attrs, select),
            _ => false,
        })
    }

    /// The elements matching each of `selects`, each list in document order: one
    /// pass over the page however many selectors there are.
    pub fn select_each(&self, selects: &[Select<'_>]) -> Vec<Vec<NodeId>> {
        let mut found = vec![Vec::new(); selects.len()];
        for (id, node) in self.nodes.iter().enumerate() {
            let Kind::Element { name, attrs } = &node.kind else { continue };
            for (list, &select) in found.iter_mut().zip(selects) {
                if matches(name, attrs, select) {
                    list.push(id);
                }
            }
        }
        found
    }
}

/// Whether the element `name` with `attrs` matches `select`.
#[inline]
fn matches(name: &str, attrs: &[(&str, String)], select: Select<'_>) -> bool {
    let attr = |key: &str| attrs.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str());
    match select {
        Select::Tag(tag) => name == tag,
        // Most elements of a report page keep no attribute: nothing to look up.
        _ if attrs.is_empty() => false,
        Select::Class(class) => attr("class").is_some_and(|list| has_class(list, class)),
        Select::Id(value) => attr("id") == Some(value),
        Select::MetaName(meta) => name == "meta" && attr("name").is_some_and(|n| n.eq_ignore_ascii_case(meta)),
    }
}

/// Whether the class list `list` holds `class`, ASCII case-insensitively. Most
/// lists are one class (Word's `MsoNormal` on every paragraph), so the lengths alone
/// settle most questions without splitting the list.
fn has_class(list: &str, class: &str) -> bool {
    match list.len().cmp(&class.len()) {
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => list.eq_ignore_ascii_case(class),
        std::cmp::Ordering::Greater => list.split_ascii_whitespace().any(|c| c.eq_ignore_ascii_case(class)),
    }
}

#[cfg(test)]
mod tests;
