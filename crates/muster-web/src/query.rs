//! The queries of `GET /api/incidents` and `GET /api/alerts`, read strictly: an unknown parameter, a repeated one or a
//! value that does not parse is a 400 `invalid-query` naming the parameter and what it accepts,
//! never a silently wider listing.

use std::str::FromStr;
use std::sync::LazyLock;

use muster_core::incident::IncidentId;
use muster_core::incident::Status;
use muster_core::plan::{CategoryId, Plan, SeverityId};
use muster_store::{AlertFilter, Disposition, IncidentFilter};
use schemars::{Schema, SchemaGenerator};

use crate::error::ApiError;
use crate::routes::{In, Param, SchemaFn, schema};

/// The parameters the listing accepts, with what each takes. The OpenAPI document is built from
/// this list and [`filter`] refuses any name not in it.
pub(crate) fn parameters() -> &'static [Param] {
    static PARAMETERS: LazyLock<Vec<Param>> = LazyLock::new(|| {
        vec![
            param(
                "status",
                "Comma-separated statuses; any of them matches.",
                schema::<Vec<Status>>,
                true,
            ),
            param(
                "open",
                "`true` for unfinished incidents, `false` for resolved or closed ones.",
                schema::<bool>,
                false,
            ),
            param(
                "severity",
                "Comma-separated severity ids from the plan; any of them matches.",
                schema::<Vec<String>>,
                true,
            ),
            param(
                "category",
                "Comma-separated category ids from the plan; any of them matches.",
                schema::<Vec<String>>,
                true,
            ),
            param(
                "drill",
                "`true` for drills only, `false` for real incidents only.",
                schema::<bool>,
                false,
            ),
            param(
                "tag",
                "Only incidents carrying this tag.",
                schema::<String>,
                false,
            ),
            param(
                "from",
                "Declared at or after this RFC 3339 time, e.g. 2026-11-21T00:00:00Z.",
                timestamp_schema,
                false,
            ),
            param(
                "until",
                "Declared before this RFC 3339 time.",
                timestamp_schema,
                false,
            ),
            param(
                "limit",
                "Page size, 1 to 500 (default 50).",
                limit_schema,
                false,
            ),
            param(
                "offset",
                "How many matching incidents to skip (default 0).",
                schema::<u64>,
                false,
            ),
        ]
    });
    &PARAMETERS
}

fn param(
    name: &'static str,
    description: &'static str,
    schema: SchemaFn,
    comma_list: bool,
) -> Param {
    Param {
        name,
        location: In::Query,
        description,
        schema,
        comma_list,
    }
}

fn timestamp_schema(_: &mut SchemaGenerator) -> Schema {
    schemars::json_schema!({"type": "string", "format": "date-time", "examples": ["2026-11-21T00:00:00Z"]})
}

fn limit_schema(_: &mut SchemaGenerator) -> Schema {
    schemars::json_schema!({
        "type": "integer",
        "minimum": 1,
        "maximum": IncidentFilter::MAX_LIMIT,
        "default": IncidentFilter::DEFAULT_LIMIT
    })
}

fn invalid(parameter: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(
        "invalid-query",
        format!("query parameter '{parameter}': {message}"),
    )
}

/// Turns the query's pairs into a filter; severities and categories must be in `plan`.
pub(crate) fn filter(pairs: &[(String, String)], plan: &Plan) -> Result<IncidentFilter, ApiError> {
    let mut filter = IncidentFilter::default();
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in pairs {
        let name = name.as_str();
        admit(
            name,
            parameters(),
            &mut seen,
            "given twice; give it once (lists are comma-separated)",
        )?;
        let value = value.trim();
        match name {
            "status" => filter.status = list(name, value, Status::from_str)?,
            "open" => filter.open = Some(boolean(name, value)?),
            "severity" => {
                filter.severity = list(name, value, |id| {
                    known(
                        id,
                        "severity",
                        plan.severities.iter().map(|s| s.id.as_str()),
                    )
                    .map(SeverityId::from)
                })?;
            }
            "category" => {
                filter.category = list(name, value, |id| {
                    known(
                        id,
                        "category",
                        plan.categories.iter().map(|c| c.id.as_str()),
                    )
                    .map(CategoryId::from)
                })?;
            }
            "drill" => filter.drill = Some(boolean(name, value)?),
            "tag" => {
                if value.is_empty() {
                    return Err(invalid(name, "give a tag"));
                }
                filter.tag = Some(value.to_owned());
            }
            "from" => filter.declared_from = Some(timestamp(name, value)?),
            "until" => filter.declared_until = Some(timestamp(name, value)?),
            "limit" => {
                filter.limit = value
                    .parse::<u32>()
                    .ok()
                    .filter(|limit| (1..=IncidentFilter::MAX_LIMIT).contains(limit))
                    .ok_or_else(|| {
                        invalid(
                            name,
                            format!(
                                "'{value}' is not a page size; use a whole number from 1 to {}",
                                IncidentFilter::MAX_LIMIT
                            ),
                        )
                    })?;
            }
            "offset" => {
                filter.offset = value.parse::<u64>().map_err(|_| {
                    invalid(
                        name,
                        format!("'{value}' is not an offset; use a whole number, 0 or more"),
                    )
                })?;
            }
            _ => unreachable!("every listed parameter is handled"),
        }
    }
    if let (Some(from), Some(until)) = (filter.declared_from, filter.declared_until)
        && from >= until
    {
        return Err(invalid("until", "must be later than 'from'"));
    }
    Ok(filter)
}

/// The default and largest page of `GET /api/alerts`.
const ALERT_LIMIT: (u32, u32) = (100, 500);

/// The parameters of `GET /api/alerts`; [`alert_filter`] refuses any other.
pub(crate) fn alert_parameters() -> &'static [Param] {
    static PARAMETERS: LazyLock<Vec<Param>> = LazyLock::new(|| {
        vec![
            param(
                "disposition",
                "Where the alerts went: `triage`, `incident`, `ignored` or `heartbeat`.",
                disposition_schema,
                false,
            ),
            param(
                "status",
                "The alerts' state at their source: `firing`, `acknowledged` or `resolved`.",
                alert_status_schema,
                false,
            ),
            param(
                "incident",
                "Only alerts that are part of this incident.",
                schema::<IncidentId>,
                false,
            ),
            param(
                "limit",
                "At most this many, 1 to 500 (default 100).",
                alert_limit_schema,
                false,
            ),
        ]
    });
    &PARAMETERS
}

fn dispositions() -> [&'static str; 4] {
    Disposition::ALL.map(Disposition::as_str)
}
const ALERT_STATUSES: [&str; 3] = ["firing", "acknowledged", "resolved"];

fn disposition_schema(_: &mut SchemaGenerator) -> Schema {
    schemars::json_schema!({"type": "string", "enum": dispositions()})
}

fn alert_status_schema(_: &mut SchemaGenerator) -> Schema {
    schemars::json_schema!({"type": "string", "enum": ALERT_STATUSES})
}

fn alert_limit_schema(_: &mut SchemaGenerator) -> Schema {
    schemars::json_schema!({
        "type": "integer",
        "minimum": 1,
        "maximum": ALERT_LIMIT.1,
        "default": ALERT_LIMIT.0
    })
}

/// Refuses a parameter that is not one of `known`, or that came before (`seen`).
fn admit<'a>(
    name: &'a str,
    known: &[Param],
    seen: &mut Vec<&'a str>,
    twice: &str,
) -> Result<(), ApiError> {
    if !known.iter().any(|param| param.name == name) {
        let names: Vec<&str> = known.iter().map(|param| param.name).collect();
        return Err(invalid(
            name,
            format!("unknown parameter; use {}", names.join(", ")),
        ));
    }
    if seen.contains(&name) {
        return Err(invalid(name, twice));
    }
    seen.push(name);
    Ok(())
}

/// Turns the query of `GET /api/alerts` into a filter.
pub(crate) fn alert_filter(pairs: &[(String, String)]) -> Result<AlertFilter, ApiError> {
    let mut filter = AlertFilter {
        limit: Some(ALERT_LIMIT.0),
        ..AlertFilter::default()
    };
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in pairs {
        let name = name.as_str();
        admit(
            name,
            alert_parameters(),
            &mut seen,
            "given twice; give it once",
        )?;
        let value = value.trim();
        match name {
            "disposition" => {
                filter.disposition = Some(Disposition::parse(value).ok_or_else(|| {
                    invalid(
                        name,
                        format!(
                            "'{value}' is not a disposition; use one of {}",
                            dispositions().join(", ")
                        ),
                    )
                })?);
            }
            "status" => {
                if !ALERT_STATUSES.contains(&value) {
                    return Err(invalid(
                        name,
                        format!(
                            "'{value}' is not an alert status; use one of {}",
                            ALERT_STATUSES.join(", ")
                        ),
                    ));
                }
                filter.status = Some(value.to_owned());
            }
            "incident" => {
                let id: IncidentId = value
                    .parse()
                    .map_err(|message: String| invalid(name, message))?;
                filter.incident = Some(id.to_string());
            }
            "limit" => {
                filter.limit = Some(
                    value
                        .parse::<u32>()
                        .ok()
                        .filter(|limit| (1..=ALERT_LIMIT.1).contains(limit))
                        .ok_or_else(|| {
                            invalid(
                                name,
                                format!(
                                    "'{value}' is not a page size; use a whole number from 1 to {}",
                                    ALERT_LIMIT.1
                                ),
                            )
                        })?,
                );
            }
            _ => unreachable!("every listed parameter is handled"),
        }
    }
    Ok(filter)
}

fn list<T>(
    name: &str,
    value: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, ApiError> {
    let items: Vec<&str> = value.split(',').map(str::trim).collect();
    if items.iter().any(|item| item.is_empty()) {
        return Err(invalid(
            name,
            "give one or more values separated by commas, with none empty",
        ));
    }
    items
        .into_iter()
        .map(|item| parse(item).map_err(|message| invalid(name, message)))
        .collect()
}

fn known<'a>(
    id: &'a str,
    what: &str,
    ids: impl Iterator<Item = &'a str> + Clone,
) -> Result<&'a str, String> {
    if ids.clone().any(|known| known == id) {
        Ok(id)
    } else {
        let ids: Vec<&str> = ids.collect();
        Err(format!(
            "the plan has no {what} '{id}'; use one of {}",
            ids.join(", ")
        ))
    }
}

fn boolean(name: &str, value: &str) -> Result<bool, ApiError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid(name, format!("'{value}' is not true or false"))),
    }
}

fn timestamp(name: &str, value: &str) -> Result<i64, ApiError> {
    value
        .parse::<jiff::Timestamp>()
        .map(jiff::Timestamp::as_millisecond)
        .map_err(|error| {
            invalid(
                name,
                format!(
                    "'{value}' is not an RFC 3339 time ({error}); write e.g. 2026-11-21T00:00:00Z"
                ),
            )
        })
}

/// The parameters of `GET /api/action-items`; [`action_item_query`] refuses any other.
pub(crate) fn action_item_parameters() -> &'static [Param] {
    static PARAMETERS: LazyLock<Vec<Param>> = LazyLock::new(|| {
        vec![
            param(
                "open",
                "`true` for items still open or in progress only.",
                schema::<bool>,
                false,
            ),
            param(
                "overdue",
                "`true` for open items past their due date only (the overdue report).",
                schema::<bool>,
                false,
            ),
            param(
                "owner",
                "Only items owned by this person (an id from the plan).",
                schema::<String>,
                false,
            ),
            param(
                "drills",
                "`true` to include items from drills (left out by default).",
                schema::<bool>,
                false,
            ),
        ]
    });
    &PARAMETERS
}

/// Turns the query of `GET /api/action-items` into a store query; `now` is the overdue cut.
pub(crate) fn action_item_query(
    pairs: &[(String, String)],
    plan: &Plan,
    now: i64,
) -> Result<muster_store::ActionItemQuery, ApiError> {
    let mut query = muster_store::ActionItemQuery::default();
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in pairs {
        let name = name.as_str();
        admit(
            name,
            action_item_parameters(),
            &mut seen,
            "given twice; give it once",
        )?;
        let value = value.trim();
        match name {
            "open" => query.open = boolean(name, value)?,
            "overdue" => query.due_before = boolean(name, value)?.then_some(now),
            "owner" => {
                let owner = known(value, "person", plan.people.iter().map(|p| p.id.as_str()))
                    .map_err(|message| invalid(name, message))?;
                query.owner = Some(owner.to_owned());
            }
            "drills" => query.drills = boolean(name, value)?,
            _ => unreachable!("every listed parameter is handled"),
        }
    }
    Ok(query)
}

#[cfg(test)]
mod tests {
    use muster_core::incident::Status;
    use muster_core::plan::{Plan, Source, load};

    use super::{filter, parameters};

    fn plan() -> Plan {
        let text = include_str!("../../../examples/startup.yaml");
        let source = Source {
            name: "startup.yaml",
            text,
        };
        load(&[source], jiff::Timestamp::UNIX_EPOCH)
            .plan
            .expect("the example plan loads")
    }

    fn pairs(query: &[(&str, &str)]) -> Vec<(String, String)> {
        query
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn every_documented_parameter_is_read() {
        let plan = plan();
        let examples = [
            ("status", "triage,resolved"),
            ("open", "true"),
            ("severity", "P0,P1"),
            ("category", "hacker"),
            ("drill", "false"),
            ("tag", "funds-lost"),
            ("from", "2026-11-21T00:00:00Z"),
            ("until", "2026-11-22T00:00:00Z"),
            ("limit", "10"),
            ("offset", "20"),
        ];
        let documented: Vec<&str> = parameters().iter().map(|p| p.name).collect();
        let given: Vec<&str> = examples.iter().map(|(name, _)| *name).collect();
        assert_eq!(documented, given);
        let read = filter(&pairs(&examples), &plan).unwrap();
        assert_eq!(read.status, vec![Status::Triage, Status::Resolved]);
        assert_eq!(read.open, Some(true));
        assert_eq!(read.severity.len(), 2);
        assert_eq!(read.category.len(), 1);
        assert_eq!(read.drill, Some(false));
        assert_eq!(read.tag.as_deref(), Some("funds-lost"));
        assert_eq!(read.declared_from, Some(1_795_219_200_000));
        assert_eq!(read.declared_until, Some(1_795_305_600_000));
        assert_eq!((read.limit, read.offset), (10, 20));
    }

    #[test]
    fn nothing_given_is_the_default_listing() {
        let read = filter(&[], &plan()).unwrap();
        assert_eq!(read, muster_store::IncidentFilter::default());
    }
}
