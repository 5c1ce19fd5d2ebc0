//! The structural check: the YAML tree against the plan's JSON Schema.
//!
//! The schema is generated from the model, so it cannot drift from what deserialisation accepts.
//! Walking the tree with it finds every wrong type, missing key, unknown key (with a suggestion)
//! and malformed duration or reference at once, each at its own line and column. The walk also
//! produces the JSON value that is then deserialised into the model.

use serde_json::{Map, Value as Json};

use crate::plan::values::check_format;
use crate::plan::yaml::{Loc, Node, ScalarKind, Value, YamlProblem};

/// Finds the closest candidate to a misspelt word, if any is close enough to be a useful guess.
#[must_use]
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(word, candidate), candidate))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

pub struct Walker<'schema> {
    defs: Option<&'schema Map<String, Json>>,
    pub problems: Vec<YamlProblem>,
}

impl std::fmt::Debug for Walker<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Walker")
            .field("problems", &self.problems)
            .finish_non_exhaustive()
    }
}

fn type_words(kind: &str) -> &'static str {
    match kind {
        "object" => "a mapping",
        "array" => "a list",
        "string" => "text",
        "integer" => "a whole number",
        "number" => "a number",
        "boolean" => "true or false",
        "null" => "nothing",
        _ => "a value",
    }
}

impl<'schema> Walker<'schema> {
    #[must_use]
    pub fn new(root: &'schema Json) -> Self {
        Self {
            defs: root.get("$defs").and_then(Json::as_object),
            problems: Vec::new(),
        }
    }

    fn problem(&mut self, loc: Loc, code: &'static str, message: String, hint: Option<String>) {
        self.problems.push(YamlProblem {
            loc,
            code,
            message,
            hint,
        });
    }

    fn wrong_type(&mut self, node: &Node, kind: &str, what: &str) {
        let message = format!(
            "{what} must be {}, found {}",
            type_words(kind),
            node.kind_name()
        );
        self.problem(node.loc, "type", message, None);
    }

    fn resolve(&self, schema: &'schema Json) -> &'schema Json {
        let mut schema = schema;
        // Definitions may refer to each other; a handful of hops is all the model ever needs.
        for _ in 0..8 {
            let Some(reference) = schema.get("$ref").and_then(Json::as_str) else {
                break;
            };
            let name = reference.rsplit('/').next().unwrap_or_default();
            match self.defs.and_then(|defs| defs.get(name)) {
                Some(target) => schema = target,
                None => break,
            }
        }
        schema
    }

    /// Checks `node` against `schema` and returns its JSON form when it fits.
    pub fn walk(&mut self, node: &Node, schema: &'schema Json, what: &str) -> Option<Json> {
        let schema = self.resolve(schema);
        if let Some(branches) = schema
            .get("anyOf")
            .or_else(|| schema.get("oneOf"))
            .and_then(Json::as_array)
        {
            return self.walk_alternatives(node, branches, what);
        }
        if let Some(options) = schema.get("enum").and_then(Json::as_array) {
            return self.walk_enum(node, options, what);
        }
        if let Some(constant) = schema.get("const") {
            return self.walk_enum(node, std::slice::from_ref(constant), what);
        }
        let types: Vec<&str> = match schema.get("type") {
            Some(Json::String(kind)) => vec![kind.as_str()],
            Some(Json::Array(kinds)) => kinds.iter().filter_map(Json::as_str).collect(),
            _ => return Some(plain_json(node)),
        };
        if node.is_null() && types.contains(&"null") {
            return Some(Json::Null);
        }
        let kind = types
            .iter()
            .copied()
            .find(|kind| *kind != "null")
            .unwrap_or("null");
        match kind {
            "object" => self.walk_object(node, schema, what),
            "array" => self.walk_array(node, schema, what),
            "string" => self.walk_string(node, schema, what),
            "integer" | "number" => self.walk_number(node, schema, kind, what),
            "boolean" => self.walk_boolean(node, what),
            _ => {
                self.wrong_type(node, kind, what);
                None
            }
        }
    }

    fn walk_alternatives(
        &mut self,
        node: &Node,
        branches: &'schema [Json],
        what: &str,
    ) -> Option<Json> {
        // `Option<T>` appears as "T or null".
        let non_null: Vec<&Json> = branches
            .iter()
            .filter(|branch| branch.get("type").and_then(Json::as_str) != Some("null"))
            .collect();
        if node.is_null() && non_null.len() < branches.len() {
            return Some(Json::Null);
        }
        if let [only] = non_null.as_slice() {
            return self.walk(node, only, what);
        }
        // Internally tagged enums: pick the branch by the value of `type`.
        let tags: Vec<(&str, &Json)> = non_null
            .iter()
            .filter_map(|branch| {
                let branch = self.resolve(branch);
                let tag = branch.pointer("/properties/type/const")?.as_str()?;
                Some((tag, branch))
            })
            .collect();
        if !tags.is_empty() && tags.len() == non_null.len() {
            let names: Vec<&str> = tags.iter().map(|(tag, _)| *tag).collect();
            let Some(type_entry) = node.get("type") else {
                if matches!(node.value, Value::Map(_)) {
                    self.problem(
                        node.loc,
                        "missing-key",
                        format!("{what} has no 'type'"),
                        Some(format!("add type: with one of {}", names.join(", "))),
                    );
                } else {
                    self.problem(
                        node.loc,
                        "type",
                        format!("{what} must be a mapping, found {}", node.kind_name()),
                        None,
                    );
                }
                return None;
            };
            let written = scalar_text(&type_entry.value.value).unwrap_or_default();
            if let Some((_, branch)) = tags.iter().find(|(tag, _)| *tag == written) {
                return self.walk(node, branch, what);
            }
            let hint = match did_you_mean(written, names.iter().copied()) {
                Some(guess) => format!("did you mean '{guess}'? types are {}", names.join(", ")),
                None => format!("types are {}", names.join(", ")),
            };
            self.problem(
                type_entry.value.loc,
                "unknown-variant",
                format!("'{written}' is not a type of {what}"),
                Some(hint),
            );
            return None;
        }
        // Anything else: the first branch that fits, or the problems of the closest one.
        let mut best: Option<Vec<YamlProblem>> = None;
        for branch in non_null {
            let mut trial = Walker {
                defs: self.defs,
                problems: Vec::new(),
            };
            if let Some(json) = trial.walk(node, branch, what)
                && trial.problems.is_empty()
            {
                return Some(json);
            }
            if best
                .as_ref()
                .is_none_or(|best| trial.problems.len() < best.len())
            {
                best = Some(trial.problems);
            }
        }
        self.problems.extend(best.unwrap_or_default());
        None
    }

    fn walk_enum(&mut self, node: &Node, options: &[Json], what: &str) -> Option<Json> {
        let names: Vec<&str> = options.iter().filter_map(Json::as_str).collect();
        let Some(written) = scalar_text(&node.value) else {
            self.problem(
                node.loc,
                "type",
                format!(
                    "{what} must be one of {}, found {}",
                    names.join(", "),
                    node.kind_name()
                ),
                None,
            );
            return None;
        };
        if names.contains(&written) {
            return Some(Json::String(written.to_owned()));
        }
        let hint = match did_you_mean(written, names.iter().copied()) {
            Some(guess) => format!("did you mean '{guess}'? allowed: {}", names.join(", ")),
            None => format!("allowed: {}", names.join(", ")),
        };
        self.problem(
            node.loc,
            "unknown-variant",
            format!("'{written}' is not allowed for {what}"),
            Some(hint),
        );
        None
    }

    fn walk_object(&mut self, node: &Node, schema: &'schema Json, what: &str) -> Option<Json> {
        let Value::Map(entries) = &node.value else {
            self.problem(
                node.loc,
                "type",
                format!(
                    "{what} must be a mapping (key: value lines), found {}",
                    node.kind_name()
                ),
                None,
            );
            return None;
        };
        let properties = schema.get("properties").and_then(Json::as_object);
        let additional = schema.get("additionalProperties");
        let mut object = Map::new();
        let mut fits = true;
        // A misspelt key usually means the key it resembles is "missing"; say it once.
        let mut suggested: Vec<&str> = Vec::new();
        for entry in entries {
            let property = properties.and_then(|properties| properties.get(&entry.key));
            let child_schema = match (property, additional) {
                (Some(property), _) => property,
                (None, Some(additional)) if additional.is_object() => additional,
                _ => {
                    let known: Vec<&str> = properties
                        .map(|properties| properties.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    let hint = match did_you_mean(&entry.key, known.iter().copied()) {
                        Some(guess) => {
                            suggested.push(guess);
                            format!("did you mean '{guess}'?")
                        }
                        None => format!("known keys here: {}", known.join(", ")),
                    };
                    self.problem(
                        entry.key_loc,
                        "unknown-key",
                        format!("unknown key '{}' in {what}", entry.key),
                        Some(hint),
                    );
                    fits = false;
                    continue;
                }
            };
            let child_what = format!("'{}'", entry.key);
            match self.walk(&entry.value, child_schema, &child_what) {
                Some(json) => {
                    object.insert(entry.key.clone(), json);
                }
                None => fits = false,
            }
        }
        if let Some(required) = schema.get("required").and_then(Json::as_array) {
            for key in required.iter().filter_map(Json::as_str) {
                if suggested.contains(&key) {
                    fits = false;
                    continue;
                }
                if node.get(key).is_none() {
                    let description = properties
                        .and_then(|properties| properties.get(key))
                        .map(|property| self.resolve(property))
                        .and_then(|property| property.get("description"))
                        .and_then(Json::as_str);
                    self.problem(
                        node.loc,
                        "missing-key",
                        format!("{what} has no '{key}'"),
                        Some(match description {
                            Some(description) => format!("add {key}: ({description})"),
                            None => format!("add {key}:"),
                        }),
                    );
                    fits = false;
                }
            }
        }
        fits.then_some(Json::Object(object))
    }

    fn walk_array(&mut self, node: &Node, schema: &'schema Json, what: &str) -> Option<Json> {
        let Value::Seq(items) = &node.value else {
            self.problem(
                node.loc,
                "type",
                format!(
                    "{what} must be a list (lines starting with '- '), found {}",
                    node.kind_name()
                ),
                None,
            );
            return None;
        };
        let item_schema = schema.get("items");
        let mut list = Vec::with_capacity(items.len());
        let mut fits = true;
        for (index, item) in items.iter().enumerate() {
            let item_what = format!("item {} of {what}", index + 1);
            let json = match item_schema {
                Some(item_schema) => self.walk(item, item_schema, &item_what),
                None => Some(plain_json(item)),
            };
            match json {
                Some(json) => list.push(json),
                None => fits = false,
            }
        }
        fits.then_some(Json::Array(list))
    }

    fn walk_string(&mut self, node: &Node, schema: &Json, what: &str) -> Option<Json> {
        let text = match &node.value {
            Value::Scalar {
                kind: ScalarKind::Null,
                ..
            } => None,
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        };
        let Some(text) = text else {
            self.problem(
                node.loc,
                "type",
                format!("{what} must be text, found {}", node.kind_name()),
                None,
            );
            return None;
        };
        if let Some(format) = schema.get("format").and_then(Json::as_str)
            && let Some(Err(why)) = check_format(format, text)
        {
            self.problem(node.loc, "invalid-value", why, None);
            return None;
        }
        Some(Json::String(text.clone()))
    }

    fn walk_number(&mut self, node: &Node, schema: &Json, kind: &str, what: &str) -> Option<Json> {
        let parsed = match &node.value {
            Value::Scalar {
                text,
                kind: ScalarKind::Int,
            } => text.parse::<i64>().ok().map(Json::from),
            Value::Scalar {
                text,
                kind: ScalarKind::Float,
            } if kind == "number" => text
                .parse::<f64>()
                .ok()
                .and_then(|value| serde_json::Number::from_f64(value).map(Json::Number)),
            _ => None,
        };
        let Some(number) = parsed else {
            self.wrong_type(node, kind, what);
            return None;
        };
        if let (Some(minimum), Some(value)) = (
            schema.get("minimum").and_then(Json::as_f64),
            number.as_f64(),
        ) && value < minimum
        {
            self.problem(
                node.loc,
                "invalid-value",
                format!("{what} must be at least {minimum}"),
                None,
            );
            return None;
        }
        if schema.get("format").and_then(Json::as_str) == Some("uint32")
            && number
                .as_i64()
                .is_none_or(|value| u32::try_from(value).is_err())
        {
            self.problem(
                node.loc,
                "invalid-value",
                format!("{what} must be a whole number from 0 to {}", u32::MAX),
                None,
            );
            return None;
        }
        Some(number)
    }

    fn walk_boolean(&mut self, node: &Node, what: &str) -> Option<Json> {
        if let Value::Scalar {
            text,
            kind: ScalarKind::Bool,
        } = &node.value
        {
            return Some(Json::Bool(text.eq_ignore_ascii_case("true")));
        }
        self.problem(
            node.loc,
            "type",
            format!("{what} must be true or false, found {}", node.kind_name()),
            Some("write true or false (YAML 1.2 reads yes/no/on/off as text)".to_owned()),
        );
        None
    }
}

fn scalar_text(value: &Value) -> Option<&str> {
    match value {
        Value::Scalar {
            kind: ScalarKind::Null,
            ..
        } => None,
        Value::Scalar { text, .. } => Some(text),
        _ => None,
    }
}

/// A JSON value for a node where the schema says nothing about its type.
fn plain_json(node: &Node) -> Json {
    match &node.value {
        Value::Scalar { text, kind } => match kind {
            ScalarKind::Null => Json::Null,
            ScalarKind::Bool => Json::Bool(text.eq_ignore_ascii_case("true")),
            ScalarKind::Int => text
                .parse::<i64>()
                .map_or_else(|_| Json::String(text.clone()), Json::from),
            ScalarKind::Float => text
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map_or_else(|| Json::String(text.clone()), Json::Number),
            ScalarKind::Str => Json::String(text.clone()),
        },
        Value::Seq(items) => Json::Array(items.iter().map(plain_json).collect()),
        Value::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|entry| (entry.key.clone(), plain_json(&entry.value)))
                .collect(),
        ),
    }
}
