//! html5gum's tokenizer → a [`Page`], by the tree rules that matter for report pages:
//! void elements, the end tags HTML lets authors omit (`</p>`, `</li>`, `</td>`,
//! `</tr>`), implied rows, and end tags that may not close past a table cell.
//!
//! The builder is html5gum's emitter itself, so the tokenizer's output goes straight
//! into the tree: attributes no reader uses (Word's long `style`s above all) are
//! never copied, and known tag names are never allocated.

use std::borrow::Cow;

use html5gum::{Emitter, Error, State, Tokenizer, naive_next_state};

use super::attributes::few_attributes;
use super::tags::{Known, TABLE_PARTS, known};
use super::{Kind, Node, NodeId, Page};

/// Elements open within one another, at the most. Report pages nest a few dozen deep;
/// a hostile page nesting thousands would make every scope search of the open stack
/// (quadratic in depth) and every recursive reader of the tree (a stack overflow) pay
/// for its depth, so deeper elements are flattened into the deepest open one.
pub(super) const MAX_OPEN: usize = 256;

/// The attributes the readers of report pages use; the rest are not kept.
const KEPT_ATTRIBUTES: &[&str] = &["appendix", "class", "colspan", "content", "data-ocr", "href", "id", "name", "rowspan", "src"];

pub(super) fn parse(html: &str) -> Page {
    let html = &*few_attributes(html);
    let mut builder = Builder {
        // About one node per 20 bytes of a report page: growing the arena from
        // empty copied it a dozen times.
        nodes: Vec::with_capacity(html.len() / 20 + 16),
        open: vec![Page::ROOT],
        text: Vec::new(),
        tag: Vec::new(),
        end_tag: false,
        attrs: Vec::new(),
        attr_name: Vec::new(),
        attr_kept: None,
        attr_value: Vec::new(),
        last_start_tag: Vec::new(),
    };
    builder.nodes.push(Node { kind: Kind::Document, first_child: None, last_child: None, next_sibling: None, end: 1 });
    // The emitter keeps every token, so the tokenizer yields none: driving it once
    // reads the whole page.
    if let Some(token) = Tokenizer::new_with_emitter(html, &mut builder).next() {
        match token {}
    }
    builder.finish()
}

/// The tree being built, and the token html5gum is reading into it.
struct Builder {
    nodes: Vec<Node>,
    /// The stack of open elements, the document at the bottom.
    open: Vec<NodeId>,
    /// Text read since the last tag, as bytes (html5gum may hand over a character in
    /// pieces); it goes into the tree before the next tag does.
    text: Vec<u8>,
    /// The tag being read: its name (lower-cased by the tokenizer), whether it is an
    /// end tag, and the kept attributes so far.
    tag: Vec<u8>,
    end_tag: bool,
    attrs: Vec<(&'static str, String)>,
    /// The attribute being read: its name, which kept attribute it is (known once
    /// its value starts), and its value if kept.
    attr_name: Vec<u8>,
    attr_kept: Option<&'static str>,
    attr_value: Vec<u8>,
    /// The last start tag's name, for the tokenizer's script and RCDATA states.
    last_start_tag: Vec<u8>,
}

/// The tokenizer yields no tokens: everything goes into the tree.
impl Emitter for &mut Builder {
    type Token = std::convert::Infallible;

    fn should_emit_errors(&mut self) -> bool {
        // Checking every byte for parse errors is a seventh of the tokenizer's time.
        false
    }

    fn emit_error(&mut self, _: Error) {}

    fn pop_token(&mut self) -> Option<Self::Token> {
        None
    }

    fn set_last_start_tag(&mut self, last_start_tag: Option<&[u8]>) {
        self.last_start_tag.clear();
        self.last_start_tag.extend_from_slice(last_start_tag.unwrap_or_default());
    }

    fn emit_eof(&mut self) {
        self.flush_text();
    }

    fn emit_string(&mut self, s: &[u8]) {
        self.text.extend_from_slice(s);
    }

    fn init_start_tag(&mut self) {
        self.init_tag(false);
    }

    fn init_end_tag(&mut self) {
        self.init_tag(true);
    }

    fn emit_current_tag(&mut self) -> Option<State> {
        self.flush_attr();
        self.flush_text();
        let known = known(&self.tag);
        let name = known.map_or_else(|| Cow::Owned(utf8(&self.tag)), |k| Cow::Borrowed(k.name));
        if self.end_tag {
            self.last_start_tag.clear();
            self.end(&name);
            return None;
        }
        self.last_start_tag.clear();
        self.last_start_tag.extend_from_slice(&self.tag);
        let attrs = std::mem::take(&mut self.attrs);
        self.start(name, known, attrs);
        naive_next_state(&self.last_start_tag)
    }

    fn push_tag_name(&mut self, s: &[u8]) {
        self.tag.extend_from_slice(s);
    }

    fn init_attribute(&mut self) {
        self.flush_attr();
    }

    fn push_attribute_name(&mut self, s: &[u8]) {
        self.attr_name.extend_from_slice(s);
    }

    fn init_attribute_value(&mut self) {
        self.attr_kept = kept_attribute(&self.attr_name);
    }

    fn push_attribute_value(&mut self, s: &[u8]) {
        if self.attr_kept.is_some() {
            self.attr_value.extend_from_slice(s);
        }
    }

    fn current_is_appropriate_end_tag_token(&mut self) -> bool {
        self.end_tag && !self.last_start_tag.is_empty() && self.tag == self.last_start_tag
    }

    // Comments, doctypes and the self-closing flag (which HTML ignores on non-void
    // elements) do not shape the tree.
    fn init_comment(&mut self) {}
    fn emit_current_comment(&mut self) {}
    fn push_comment(&mut self, _: &[u8]) {}
    fn init_doctype(&mut self) {}
    fn emit_current_doctype(&mut self) {}
    fn push_doctype_name(&mut self, _: &[u8]) {}
    fn set_doctype_public_identifier(&mut self, _: &[u8]) {}
    fn set_doctype_system_identifier(&mut self, _: &[u8]) {}
    fn push_doctype_public_identifier(&mut self, _: &[u8]) {}
    fn push_doctype_system_identifier(&mut self, _: &[u8]) {}
    fn set_force_quirks(&mut self) {}
    fn set_self_closing(&mut self) {}
}

fn kept_attribute(name: &[u8]) -> Option<&'static str> {
    KEPT_ATTRIBUTES.iter().find(|kept| kept.as_bytes() == name).copied()
}

impl Builder {
    fn init_tag(&mut self, end_tag: bool) {
        self.tag.clear();
        self.end_tag = end_tag;
        // A tag cut off by the end of the input leaves its state behind.
        self.attrs.clear();
        self.attr_name.clear();
        self.attr_kept = None;
        self.attr_value.clear();
    }

    /// Files the attribute just read, if kept; HTML keeps the first of duplicates.
    fn flush_attr(&mut self) {
        // An attribute without a value never reached `init_attribute_value`.
        let kept = self.attr_kept.take().or_else(|| kept_attribute(&self.attr_name));
        if let Some(name) = kept
            && !self.end_tag
            && !self.attrs.iter().any(|(k, _)| *k == name)
        {
            self.attrs.push((name, utf8(&self.attr_value)));
        }
        self.attr_name.clear();
        self.attr_value.clear();
    }

    fn flush_text(&mut self) {
        if !self.text.is_empty() {
            let text = utf8(&self.text);
            self.text.clear();
            self.add_text(text);
        }
    }

    fn start(&mut self, name: Cow<'static, str>, known: Option<&Known>, attrs: Vec<(&'static str, String)>) {
        let n = name.as_ref();
        if known.is_some_and(|k| k.closes_p) {
            self.close_in_scope("p", &["table", "td", "th", "button"]);
        }
        match n {
            "li" => self.close_in_scope("li", &["ul", "ol", "table", "td", "th"]),
            "td" | "th" => match self.nearest(TABLE_PARTS) {
                Some((at, "td" | "th")) => self.pop_to(at),
                Some((_, "tr")) => {}
                // A cell straight in a table or its body: HTML implies the row.
                Some((at, _)) => {
                    self.pop_to(at + 1);
                    self.push(Cow::Borrowed("tr"), Vec::new());
                }
                // A cell outside any table is ignored, its text kept.
                None => return,
            },
            "tr" | "tbody" | "thead" | "tfoot" => {
                // Close the open cell, row (and, for a new body, body) of this table.
                let keep: &[&str] = if n == "tr" { &["tbody", "thead", "tfoot", "table"] } else { &["table"] };
                match self.nearest(keep) {
                    Some((at, _)) => self.pop_to(at + 1),
                    None => return,
                }
            }
            _ => {}
        }
        if known.is_some_and(|k| k.void) {
            self.append(Kind::Element { name, attrs });
        } else {
            self.push(name, attrs);
        }
    }

    fn end(&mut self, name: &str) {
        if name == "br" {
            // `</br>` is read as `<br>`, as browsers do.
            self.append(Kind::Element { name: Cow::Borrowed("br"), attrs: Vec::new() });
            return;
        }
        let boundary: &[&str] = match name {
            "table" => &[],
            "td" | "th" | "tr" | "tbody" | "thead" | "tfoot" | "caption" => &["table"],
            _ => &["table", "td", "th"],
        };
        self.close_in_scope(name, boundary);
    }

    fn add_text(&mut self, text: String) {
        let parent = *self.open.last().expect("the document stays open");
        if let Some(last) = self.nodes[parent].last_child
            && let Kind::Text(t) = &mut self.nodes[last].kind
        {
            t.push_str(&text);
            return;
        }
        self.append(Kind::Text(text));
    }

    /// Pops through the nearest open `name`, unless a `boundary` element is nearer.
    fn close_in_scope(&mut self, name: &str, boundary: &[&str]) {
        for at in (1..self.open.len()).rev() {
            let open = self.name_of(self.open[at]);
            if open == name {
                self.pop_to(at);
                return;
            }
            if boundary.contains(&open) {
                return;
            }
        }
    }

    /// Closes the open elements from `at` up.
    fn pop_to(&mut self, at: usize) {
        let end = self.nodes.len();
        for id in self.open.drain(at.max(1)..) {
            self.nodes[id].end = end;
        }
    }

    /// The nearest open element named one of `names`: its stack position and name.
    fn nearest<'n>(&self, names: &[&'n str]) -> Option<(usize, &'n str)> {
        self.open.iter().enumerate().rev().find_map(|(at, &id)| {
            let open = self.name_of(id);
            names.iter().find(|n| **n == open).map(|n| (at, *n))
        })
    }

    fn name_of(&self, id: NodeId) -> &str {
        match &self.nodes[id].kind {
            Kind::Element { name, .. } => name,
            _ => "",
        }
    }

    fn append(&mut self, kind: Kind) -> NodeId {
        let id = self.nodes.len();
        let parent = *self.open.last().expect("the document stays open");
        self.nodes.push(Node { kind, first_child: None, last_child: None, next_sibling: None, end: id + 1 });
        match self.nodes[parent].last_child {
            Some(last) => self.nodes[last].next_sibling = Some(id),
            None => self.nodes[parent].first_child = Some(id),
        }
        self.nodes[parent].last_child = Some(id);
        id
    }

    /// Opens an element; past [`MAX_OPEN`] open elements it is kept as an empty leaf,
    /// and what it holds goes to the deepest open element.
    fn push(&mut self, name: Cow<'static, str>, attrs: Vec<(&'static str, String)>) {
        let id = self.append(Kind::Element { name, attrs });
        if self.open.len() < MAX_OPEN {
            self.open.push(id);
        }
    }

    fn finish(mut self) -> Page {
        self.pop_to(0);
        self.nodes[0].end = self.nodes.len();
        Page { nodes: self.nodes }
    }
}

/// The tokenizer's bytes as text. They come from a `&str`, so the checked fast path
/// is the one taken; `from_utf8_lossy` alone walks them a chunk at a time.
fn utf8(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}
