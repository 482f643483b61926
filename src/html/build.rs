//! html5gum's tokens → a [`Page`], by the tree rules that matter for report pages:
//! void elements, the end tags HTML lets authors omit (`</p>`, `</li>`, `</td>`,
//! `</tr>`), implied rows, and end tags that may not close past a table cell.

use html5gum::emitters::callback::{CallbackEmitter, CallbackEvent};
use html5gum::{Emitter, ForwardingEmitter, Tokenizer};

use super::{Kind, Node, NodeId, Page};

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
];

/// Start tags that close an open `<p>` (HTML's "closes a p element" list).
const CLOSES_P: &[&str] = &[
    "address", "article", "aside", "blockquote", "center", "details", "dir", "div", "dl", "fieldset", "figcaption",
    "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "menu", "nav", "ol",
    "p", "pre", "section", "table", "ul",
];

/// The attributes the readers of report pages use; the rest (Word's long `style`s
/// above all) are not kept.
const KEPT_ATTRIBUTES: &[&str] = &["appendix", "class", "colspan", "content", "href", "id", "name", "rowspan"];

const TABLE_PARTS: &[&str] = &["td", "th", "tr", "tbody", "thead", "tfoot", "table"];

pub(super) fn parse(html: &str) -> Page {
    let mut builder = Builder {
        nodes: vec![Node { kind: Kind::Document, first_child: None, last_child: None, next_sibling: None, end: 1 }],
        open: vec![Page::ROOT],
        tag: None,
        attr: None,
    };
    let mut emitter = CallbackEmitter::new(|event: CallbackEvent<'_>, _: html5gum::Span<()>| -> Option<()> {
        builder.event(event);
        None
    });
    emitter.naively_switch_states(true);
    for _ in Tokenizer::new_with_emitter(html, Quiet(emitter)) {}
    builder.finish()
}

/// An emitter that asks for no parse errors: checking every byte for them is a
/// seventh of the tokenizer's time, and nothing here reads them.
struct Quiet<E>(E);

impl<E: Emitter> ForwardingEmitter for Quiet<E> {
    type Token = E::Token;

    fn inner(&mut self) -> &mut impl Emitter<Token = Self::Token> {
        &mut self.0
    }

    fn should_emit_errors(&mut self) -> bool {
        false
    }
}

struct Builder {
    nodes: Vec<Node>,
    /// The stack of open elements, the document at the bottom.
    open: Vec<NodeId>,
    /// The start tag being read: its name and attributes so far.
    tag: Option<(String, Vec<(String, String)>)>,
    /// The attribute whose value may follow.
    attr: Option<String>,
}

impl Builder {
    fn event(&mut self, event: CallbackEvent<'_>) {
        match event {
            // The tokenizer has lower-cased tag and attribute names already.
            CallbackEvent::OpenStartTag { name } => self.tag = Some((utf8(name), Vec::new())),
            CallbackEvent::AttributeName { name } => {
                self.flush_attr(String::new());
                self.attr = KEPT_ATTRIBUTES.iter().find(|a| a.as_bytes() == name).map(|a| a.to_string());
            }
            CallbackEvent::AttributeValue { value } if self.attr.is_some() => self.flush_attr(utf8(value)),
            CallbackEvent::CloseStartTag { .. } => {
                self.flush_attr(String::new());
                if let Some((name, attrs)) = self.tag.take() {
                    self.start(name, attrs);
                }
            }
            CallbackEvent::EndTag { name } => self.end(&utf8(name)),
            CallbackEvent::String { value } => self.text(&utf8(value)),
            _ => {}
        }
    }

    /// Files the pending attribute with `value`; HTML keeps the first of duplicates.
    fn flush_attr(&mut self, value: String) {
        if let (Some(name), Some((_, attrs))) = (self.attr.take(), self.tag.as_mut())
            && !attrs.iter().any(|(k, _)| *k == name)
        {
            attrs.push((name, value));
        }
    }

    fn start(&mut self, name: String, attrs: Vec<(String, String)>) {
        let n = name.as_str();
        if CLOSES_P.contains(&n) {
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
                    self.push("tr".to_string(), Vec::new());
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
        if VOID.contains(&n) {
            self.append(Kind::Element { name, attrs });
        } else {
            self.push(name, attrs);
        }
    }

    fn end(&mut self, name: &str) {
        if name == "br" {
            // `</br>` is read as `<br>`, as browsers do.
            self.append(Kind::Element { name: "br".to_string(), attrs: Vec::new() });
            return;
        }
        let boundary: &[&str] = match name {
            "table" => &[],
            "td" | "th" | "tr" | "tbody" | "thead" | "tfoot" | "caption" => &["table"],
            _ => &["table", "td", "th"],
        };
        self.close_in_scope(name, boundary);
    }

    fn text(&mut self, text: &str) {
        let parent = *self.open.last().expect("the document stays open");
        if let Some(last) = self.nodes[parent].last_child
            && let Kind::Text(t) = &mut self.nodes[last].kind
        {
            t.push_str(text);
            return;
        }
        self.append(Kind::Text(text.to_string()));
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

    fn push(&mut self, name: String, attrs: Vec<(String, String)>) {
        let id = self.append(Kind::Element { name, attrs });
        self.open.push(id);
    }

    fn finish(mut self) -> Page {
        self.pop_to(0);
        self.nodes[0].end = self.nodes.len();
        Page { nodes: self.nodes }
    }
}

fn utf8(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
