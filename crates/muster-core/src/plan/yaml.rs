//! A YAML tree that remembers where every value came from.
//!
//! The plan's checks report problems by file, line and column, so the loader keeps its own small
//! tree built from the parser's events instead of deserialising straight into the model. Plain
//! scalars are typed by the YAML 1.2 core schema; their source text is kept, so a number written
//! where a string is expected (a Telegram chat id) is still read as the string the author wrote.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// Where a node starts, and how long it is, in one of the loaded files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Loc {
    /// Index into the list of sources given to the loader.
    pub file: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Length in characters (0 when unknown).
    pub length: usize,
}

/// What a plain scalar resolves to under the YAML 1.2 core schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarKind {
    Null,
    Bool,
    Int,
    Float,
    Str,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar { text: String, kind: ScalarKind },
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_loc: Loc,
    pub value: Node,
}

/// How a scalar is written. A block scalar's place is its first line of text, at the block's
/// indentation; a quoted scalar's place is its opening quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    #[default]
    Plain,
    SingleQuoted,
    DoubleQuoted,
    /// `|`, `|-`, `|+`: lines kept as written.
    Literal,
    /// `>`: lines folded into spaces.
    Folded,
}

impl From<ScalarStyle> for Style {
    fn from(style: ScalarStyle) -> Self {
        match style {
            ScalarStyle::Plain => Style::Plain,
            ScalarStyle::SingleQuoted => Style::SingleQuoted,
            ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
            ScalarStyle::Literal => Style::Literal,
            ScalarStyle::Folded => Style::Folded,
        }
    }
}

/// A place inside a text value: 1-based line and column (in characters) of the value's own
/// text, as a template engine reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TextPosition {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub loc: Loc,
    /// How the scalar is written (`Plain` for lists and mappings).
    pub style: Style,
}

/// One step of a path from the root of the plan to a value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    Key(String),
    Index(usize),
}

impl From<&str> for Segment {
    fn from(key: &str) -> Self {
        Segment::Key(key.to_owned())
    }
}

impl From<usize> for Segment {
    fn from(index: usize) -> Self {
        Segment::Index(index)
    }
}

/// A path such as `scenarios[3].runbook`.
pub type Path = Vec<Segment>;

/// Writes a path the way a reader of the YAML thinks of it.
#[must_use]
pub fn path_text(path: &[Segment]) -> String {
    let mut text = String::new();
    for segment in path {
        match segment {
            Segment::Key(key) => {
                if !text.is_empty() {
                    text.push('.');
                }
                text.push_str(key);
            }
            Segment::Index(index) => {
                text.push('[');
                text.push_str(&index.to_string());
                text.push(']');
            }
        }
    }
    text
}

impl Node {
    #[must_use]
    pub fn is_null(&self) -> bool {
        matches!(
            self.value,
            Value::Scalar {
                kind: ScalarKind::Null,
                ..
            }
        )
    }

    #[must_use]
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Scalar { kind, .. } => match kind {
                ScalarKind::Null => "nothing",
                ScalarKind::Bool => "true/false",
                ScalarKind::Int => "a whole number",
                ScalarKind::Float => "a number",
                ScalarKind::Str => "text",
            },
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The entry for `key` when this node is a mapping.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|entry| entry.key == key),
            _ => None,
        }
    }

    /// The child a path segment names, if this node has it.
    fn child(&self, segment: &Segment) -> Option<&Node> {
        match (segment, &self.value) {
            (Segment::Key(key), Value::Map(entries)) => entries
                .iter()
                .find(|entry| &entry.key == key)
                .map(|entry| &entry.value),
            (Segment::Index(index), Value::Seq(items)) => items.get(*index),
            _ => None,
        }
    }

    /// The node a path names, if the whole path exists.
    #[must_use]
    pub fn find(&self, path: &[Segment]) -> Option<&Node> {
        match self.deepest(path) {
            (node, true) => Some(node),
            (_, false) => None,
        }
    }

    /// The place in the file of a position inside this scalar's text. `file_text` is the text
    /// of the file the scalar is in. A literal block maps line by line (the text's first line is
    /// the line after the `|` indicator, columns start at the block's indentation); other
    /// scalars are followed through the file character by character, past quotes, escapes,
    /// indentation and folded line breaks. Anything that is not a scalar gives its own place.
    #[must_use]
    pub fn locate_inside(&self, file_text: &str, position: TextPosition) -> Loc {
        let Value::Scalar { text, .. } = &self.value else {
            return self.loc;
        };
        let at = |line: usize, column: usize| Loc {
            line,
            column,
            length: 1,
            ..self.loc
        };
        // A block scalar's place is its first line with text; lines before it are empty.
        let leading = match self.style {
            Style::Literal | Style::Folded => text.chars().take_while(|c| *c == '\n').count(),
            _ => 0,
        };
        let first_line = self.loc.line.saturating_sub(leading).max(1);
        let line = position.line.max(1);
        let column = position.column.max(1);
        if self.style == Style::Literal {
            return at(first_line + line - 1, self.loc.column + column - 1);
        }
        if line <= leading {
            return at(first_line + line - 1, self.loc.column);
        }
        // The character the position names, counted from the first line with text.
        let target = text
            .split('\n')
            .take(line - 1)
            .map(|line| line.chars().count() + 1)
            .sum::<usize>()
            + column
            - 1;
        let target = target.saturating_sub(leading);
        let wanted: Vec<char> = text.chars().skip(leading).take(target + 1).collect();
        let quoted = matches!(self.style, Style::SingleQuoted | Style::DoubleQuoted);
        let mut cursor = FileCursor::new(file_text, self.loc, usize::from(quoted));
        for (index, &want) in wanted.iter().enumerate() {
            // At the wanted character the cursor stops on it; before, it moves past it.
            let last = index == target;
            loop {
                let Some(found) = cursor.peek() else {
                    return at(cursor.line, cursor.column);
                };
                if self.style == Style::DoubleQuoted && found == '\\' {
                    // An escape sequence stands for one character of the text.
                    if !last {
                        cursor.skip_escape();
                    }
                    break;
                }
                if found == want {
                    if !last {
                        cursor.next();
                    }
                    break;
                }
                if want == ' ' && found == '\n' {
                    // A folded line break: the break and the next line's indentation.
                    if !last {
                        cursor.next();
                        while cursor.peek().is_some_and(|c| c == ' ' || c == '\t') {
                            cursor.next();
                        }
                    }
                    break;
                }
                // Indentation, a quote written twice, a line break dropped by folding.
                cursor.next();
            }
            if last {
                break;
            }
        }
        at(cursor.line, cursor.column)
    }

    /// The deepest node that exists along a path, and whether the whole path was found.
    fn deepest(&self, path: &[Segment]) -> (&Node, bool) {
        let mut node = self;
        for segment in path {
            match node.child(segment) {
                Some(next) => node = next,
                None => return (node, false),
            }
        }
        (node, true)
    }

    /// The place a path points at: the deepest node that exists along it. A path ending in a
    /// key points at that key's value.
    #[must_use]
    pub fn locate(&self, path: &[Segment]) -> Loc {
        self.deepest(path).0.loc
    }

    /// The place of the key at the end of a path (for problems with the key itself).
    #[must_use]
    pub fn locate_key(&self, path: &[Segment]) -> Loc {
        let Some((Segment::Key(last), parent)) = path.split_last() else {
            return self.locate(path);
        };
        match self.deepest(parent) {
            (node, true) => node.get(last).map_or(node.loc, |entry| entry.key_loc),
            (node, false) => node.loc,
        }
    }
}

/// Walks a scalar's characters in its file, keeping line and column, never past its end.
struct FileCursor<'text> {
    chars: std::iter::Peekable<std::str::Chars<'text>>,
    left: usize,
    line: usize,
    column: usize,
}

impl<'text> FileCursor<'text> {
    /// Starts at `loc`, `skip` characters in (past an opening quote).
    fn new(file_text: &'text str, loc: Loc, skip: usize) -> Self {
        let line_start = if loc.line <= 1 {
            0
        } else {
            file_text
                .match_indices('\n')
                .nth(loc.line - 2)
                .map_or(file_text.len(), |(at, _)| at + 1)
        };
        let mut chars = file_text[line_start..].chars().peekable();
        for _ in 1..loc.column {
            chars.next();
        }
        let mut cursor = Self {
            chars,
            left: loc.length.max(1),
            line: loc.line,
            column: loc.column,
        };
        for _ in 0..skip {
            cursor.next();
        }
        cursor
    }

    fn peek(&mut self) -> Option<char> {
        if self.left == 0 {
            return None;
        }
        self.chars.peek().copied()
    }

    fn next(&mut self) -> Option<char> {
        let next = self.peek()?;
        self.chars.next();
        self.left -= 1;
        if next == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(next)
    }

    /// Skips a double-quoted escape: the backslash, its letter and any hex digits.
    fn skip_escape(&mut self) {
        self.next();
        let digits = match self.next() {
            Some('x') => 2,
            Some('u') => 4,
            Some('U') => 8,
            _ => 0,
        };
        for _ in 0..digits {
            if self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                self.next();
            }
        }
    }
}

/// A problem found while reading YAML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlProblem {
    pub loc: Loc,
    pub code: &'static str,
    pub message: String,
    pub hint: Option<String>,
}

fn resolve_plain(text: &str) -> ScalarKind {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return ScalarKind::Null,
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" => return ScalarKind::Bool,
        ".inf" | ".Inf" | ".INF" | "-.inf" | "-.Inf" | "-.INF" | "+.inf" | ".nan" | ".NaN"
        | ".NAN" => {
            return ScalarKind::Float;
        }
        _ => {}
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return ScalarKind::Int;
    }
    if let Some(octal) = text.strip_prefix("0o")
        && !octal.is_empty()
        && octal.bytes().all(|b| (b'0'..=b'7').contains(&b))
    {
        return ScalarKind::Int;
    }
    if let Some(hex) = text.strip_prefix("0x")
        && !hex.is_empty()
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return ScalarKind::Int;
    }
    if is_core_float(unsigned) {
        return ScalarKind::Float;
    }
    ScalarKind::Str
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` from the YAML 1.2 core schema.
fn is_core_float(text: &str) -> bool {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((whole, fraction)) => {
            (!whole.is_empty() || !fraction.is_empty())
                && whole.bytes().all(|b| b.is_ascii_digit())
                && fraction.bytes().all(|b| b.is_ascii_digit())
                && !(whole.is_empty() && fraction.is_empty())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|b| b.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(|exponent| {
        let digits = exponent.strip_prefix(['-', '+']).unwrap_or(exponent);
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    });
    // A plain integer is handled before this; require a dot or an exponent to call it a float.
    mantissa_ok && exponent_ok && (mantissa.contains('.') || exponent.is_some())
}

fn loc_of(file: usize, span: &Span) -> Loc {
    Loc {
        file,
        line: span.start.line(),
        column: span.start.col() + 1,
        length: span.end.index().saturating_sub(span.start.index()),
    }
}

enum Frame {
    Seq {
        items: Vec<Node>,
        loc: Loc,
        anchor: usize,
    },
    Map {
        entries: Vec<Entry>,
        loc: Loc,
        anchor: usize,
        pending_key: Option<(String, Loc)>,
        seen: HashMap<String, Loc>,
        /// Entries brought in by a `<<` merge key; explicit keys win over them.
        merged: Vec<Entry>,
    },
}

struct Builder<'problems> {
    file: usize,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    documents: Vec<Node>,
    problems: &'problems mut Vec<YamlProblem>,
}

impl Builder<'_> {
    fn push_node(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                pending_key,
                seen,
                merged,
                ..
            }) => match pending_key.take() {
                None => {
                    let key = if let Value::Scalar { text, .. } = &node.value {
                        text.clone()
                    } else {
                        self.problems.push(YamlProblem {
                            loc: node.loc,
                            code: "yaml-complex-key",
                            message: "a key must be plain text, not a list or a mapping".to_owned(),
                            hint: None,
                        });
                        String::new()
                    };
                    *pending_key = Some((key, node.loc));
                }
                Some((key, key_loc)) => {
                    if key == "<<" {
                        // A merge key copies entries from an anchored mapping (or list of them)
                        // unless the mapping already has them.
                        let sources = match node.value {
                            Value::Map(merged) => vec![merged],
                            Value::Seq(items) => items
                                .into_iter()
                                .filter_map(|item| match item.value {
                                    Value::Map(merged) => Some(merged),
                                    _ => None,
                                })
                                .collect(),
                            Value::Scalar { .. } => Vec::new(),
                        };
                        merged.extend(sources.into_iter().flatten());
                        return;
                    }
                    if let Some(first) = seen.get(&key) {
                        self.problems.push(YamlProblem {
                            loc: key_loc,
                            code: "duplicate-key",
                            message: format!("the key '{key}' appears twice in this mapping"),
                            hint: Some(format!(
                                "it is first written on line {}; keep one of them",
                                first.line
                            )),
                        });
                        return;
                    }
                    seen.insert(key.clone(), key_loc);
                    entries.push(Entry {
                        key,
                        key_loc,
                        value: node,
                    });
                }
            },
        }
    }

    fn on_event(&mut self, event: Event<'_>, span: &Span) {
        let loc = loc_of(self.file, span);
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let kind = if let Some(tag) = tag {
                    match (tag.handle.as_str(), tag.suffix.as_str()) {
                        ("tag:yaml.org,2002:" | "!!", "str") => ScalarKind::Str,
                        _ => resolve_plain(&text),
                    }
                } else if style == ScalarStyle::Plain {
                    resolve_plain(&text)
                } else {
                    ScalarKind::Str
                };
                let node = Node {
                    value: Value::Scalar {
                        text: text.into_owned(),
                        kind,
                    },
                    loc,
                    style: style.into(),
                };
                self.push_node(node, anchor);
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq {
                items: Vec::new(),
                loc,
                anchor,
            }),
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map {
                entries: Vec::new(),
                loc,
                anchor,
                pending_key: None,
                seen: HashMap::new(),
                merged: Vec::new(),
            }),
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Seq { items, loc, anchor }) => (
                        Node {
                            value: Value::Seq(items),
                            loc,
                            style: Style::Plain,
                        },
                        anchor,
                    ),
                    Some(Frame::Map {
                        mut entries,
                        loc,
                        anchor,
                        seen,
                        merged,
                        ..
                    }) => {
                        let mut merged_seen = std::collections::HashSet::new();
                        for entry in merged {
                            if !seen.contains_key(&entry.key)
                                && merged_seen.insert(entry.key.clone())
                            {
                                entries.push(entry);
                            }
                        }
                        (
                            Node {
                                value: Value::Map(entries),
                                loc,
                                style: Style::Plain,
                            },
                            anchor,
                        )
                    }
                    None => return,
                };
                self.push_node(node, anchor);
            }
            Event::Alias(anchor) => {
                let node = self.anchors.get(&anchor).cloned().unwrap_or(Node {
                    value: Value::Scalar {
                        text: String::new(),
                        kind: ScalarKind::Null,
                    },
                    loc,
                    style: Style::Plain,
                });
                self.push_node(node, 0);
            }
            _ => {}
        }
    }
}

/// Parses one file. Returns its single document (`None` for an empty file or a syntax error)
/// and the problems found.
#[must_use]
pub fn parse(file: usize, text: &str) -> (Option<Node>, Vec<YamlProblem>) {
    let mut problems = Vec::new();
    let mut builder = Builder {
        file,
        stack: Vec::new(),
        anchors: HashMap::new(),
        documents: Vec::new(),
        problems: &mut problems,
    };
    for item in Parser::new_from_str(text) {
        match item {
            Ok((event, span)) => builder.on_event(event, &span),
            Err(error) => {
                let marker = error.marker();
                builder.problems.push(YamlProblem {
                    loc: Loc {
                        file,
                        line: marker.line(),
                        column: marker.col() + 1,
                        length: 1,
                    },
                    code: "yaml-syntax",
                    message: format!("this is not valid YAML: {}", error.info()),
                    hint: Some("check the indentation and quoting around this point".to_owned()),
                });
                return (None, problems);
            }
        }
    }
    let mut documents = builder.documents.into_iter();
    let first = documents.next();
    if let Some(extra) = documents.next() {
        problems.push(YamlProblem {
            loc: extra.loc,
            code: "yaml-multiple-documents",
            message: "a plan file holds one YAML document, this one has several".to_owned(),
            hint: Some(
                "remove the '---' separator, or put each part in its own file of a plan folder"
                    .to_owned(),
            ),
        });
    }
    (first.filter(|node| !node.is_null()), problems)
}

/// Sections whose entries from several files of a plan folder are joined into one.
fn merge_into(target: &mut Vec<Entry>, incoming: Vec<Entry>, problems: &mut Vec<YamlProblem>) {
    for entry in incoming {
        let Some(existing) = target.iter_mut().find(|existing| existing.key == entry.key) else {
            target.push(entry);
            continue;
        };
        match (&mut existing.value.value, entry.value.value) {
            (Value::Seq(items), Value::Seq(more)) => items.extend(more),
            (Value::Map(entries), Value::Map(more)) if existing.key == "channels" => {
                for channel in more {
                    if let Some(first) = entries.iter().find(|first| first.key == channel.key) {
                        problems.push(YamlProblem {
                            loc: channel.key_loc,
                            code: "duplicate-id",
                            message: format!("channel '{}' is defined twice", channel.key),
                            hint: Some(format!(
                                "it is also defined at line {} of another file; keep one",
                                first.key_loc.line
                            )),
                        });
                    } else {
                        entries.push(channel);
                    }
                }
            }
            (Value::Scalar { text, .. }, Value::Scalar { text: other, .. })
                if existing.key == "version" && *text == other => {}
            _ => problems.push(YamlProblem {
                loc: entry.key_loc,
                code: "duplicate-section",
                message: format!("the section '{}' is written in two files", entry.key),
                hint: Some(format!(
                    "keep '{}' in one file (the other is line {} of another file); only list sections and channels can be split",
                    entry.key, existing.key_loc.line
                )),
            }),
        }
    }
}

/// Parses every file of a plan and joins their top-level sections into one tree.
#[must_use]
pub fn parse_all(texts: &[&str]) -> (Option<Node>, Vec<YamlProblem>) {
    let mut problems = Vec::new();
    let mut root: Option<Node> = None;
    for (file, text) in texts.iter().enumerate() {
        let (document, found) = parse(file, text);
        problems.extend(found);
        let Some(document) = document else { continue };
        let kind = document.kind_name();
        let Value::Map(entries) = document.value else {
            problems.push(YamlProblem {
                loc: document.loc,
                code: "type",
                message: format!(
                    "a plan file must be a mapping of sections (version, organization, severities, ...), this one is {kind}"
                ),
                hint: None,
            });
            continue;
        };
        match &mut root {
            None => {
                root = Some(Node {
                    value: Value::Map(entries),
                    loc: document.loc,
                    style: Style::Plain,
                });
            }
            Some(Node {
                value: Value::Map(target),
                ..
            }) => merge_into(target, entries, &mut problems),
            Some(_) => {}
        }
    }
    (root, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(node: &Node) -> (&str, ScalarKind) {
        match &node.value {
            Value::Scalar { text, kind } => (text, *kind),
            _ => panic!("not a scalar"),
        }
    }

    #[test]
    fn plain_scalars_follow_the_core_schema_and_keep_their_text() {
        let (root, problems) = parse(
            0,
            "a: 15m\nb: 09:00\nc: -100123\nd: 1.5\ne: yes\nf: ~\ng: '1'\n",
        );
        assert!(problems.is_empty());
        let root = root.unwrap();
        let kinds: Vec<_> = ["a", "b", "c", "d", "e", "f", "g"]
            .iter()
            .map(|key| scalar(&root.get(key).unwrap().value))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("15m", ScalarKind::Str),
                ("09:00", ScalarKind::Str),
                ("-100123", ScalarKind::Int),
                ("1.5", ScalarKind::Float),
                ("yes", ScalarKind::Str),
                ("~", ScalarKind::Null),
                ("1", ScalarKind::Str),
            ]
        );
    }

    #[test]
    fn positions_are_one_based() {
        let (root, _) = parse(0, "people:\n  - id: janet\n    name: Janet R\n");
        let root = root.unwrap();
        let loc = root.locate(&["people".into(), 0.into(), "name".into()]);
        assert_eq!((loc.line, loc.column), (3, 11));
        let key = root.locate_key(&["people".into(), 0.into(), "name".into()]);
        assert_eq!((key.line, key.column), (3, 5));
    }

    /// The file line and column of a place inside the scalar at `key`.
    fn inside(text: &str, key: &str, line: usize, column: usize) -> (usize, usize) {
        let (root, problems) = parse(0, text);
        assert!(problems.is_empty(), "{problems:?}");
        let root = root.unwrap();
        let node = root.find(&["t".into(), key.into()]).unwrap();
        let loc = node.locate_inside(text, TextPosition { line, column });
        (loc.line, loc.column)
    }

    #[test]
    fn places_inside_scalars_map_to_the_file() {
        let text = "t:\n  literal: |-\n    one\n      two {{ x }}\n  blank: |\n\n    after\n  plain: a {{ b }}\n  quoted: \"a \\\" {{ q }}\"\n  single: 'it''s {{ s }}'\n  folded: >\n    one\n    two {{ f }}\n\n    three\n  flow: a\n    b {{ c }}\n";
        // Literal: line by line from the line after the indicator, at the indentation.
        assert_eq!(inside(text, "literal", 1, 1), (3, 5));
        assert_eq!(inside(text, "literal", 2, 7), (4, 11));
        // Leading empty lines count.
        assert_eq!(inside(text, "blank", 2, 3), (7, 7));
        // One-line scalars: the column on the value's line, past an opening quote and escapes.
        assert_eq!(inside(text, "plain", 1, 3), (8, 12));
        assert_eq!(inside(text, "quoted", 1, 5), (9, 17));
        assert_eq!(inside(text, "single", 1, 6), (10, 18));
        // Folded and multi-line plain scalars: followed across the folded breaks.
        assert_eq!(inside(text, "folded", 1, 9), (13, 9));
        assert_eq!(inside(text, "folded", 2, 1), (15, 5));
        assert_eq!(inside(text, "flow", 1, 5), (17, 7));
    }

    #[test]
    fn duplicate_keys_are_reported_with_the_first_line() {
        let (_, problems) = parse(0, "a: 1\nb: 2\na: 3\n");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].loc.line, 3);
        assert!(problems[0].hint.as_deref().unwrap().contains("line 1"));
    }

    #[test]
    fn syntax_errors_have_a_place() {
        let (root, problems) = parse(0, "a: [1, 2\nb: 3\n");
        assert!(root.is_none());
        assert_eq!(problems[0].code, "yaml-syntax");
    }

    #[test]
    fn merge_keys_and_aliases_expand() {
        let (root, problems) = parse(
            0,
            "base: &b {x: 1, y: 2}\nthing:\n  <<: *b\n  y: 3\nsame: *b\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        let root = root.unwrap();
        let thing = &root.get("thing").unwrap().value;
        assert_eq!(scalar(&thing.get("x").unwrap().value).0, "1");
        assert_eq!(scalar(&thing.get("y").unwrap().value).0, "3");
        assert!(root.get("same").is_some());
    }

    #[test]
    fn folder_files_join_lists_and_refuse_repeated_sections() {
        let (root, problems) = parse_all(&[
            "version: 1\npeople:\n  - id: a\n",
            "version: 1\npeople:\n  - id: b\norganization: {name: X}\n",
            "organization: {name: Y}\n",
        ]);
        let root = root.unwrap();
        match &root.get("people").unwrap().value.value {
            Value::Seq(items) => assert_eq!(items.len(), 2),
            _ => panic!("people is not a list"),
        }
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].code, "duplicate-section");
        assert_eq!(problems[0].loc.file, 2);
    }
}
