//! Integration tests for the plan: checking, rendering, on-call maths and readiness; and for
//! alert intake: the payload formats and routing.

mod alertmanager;
mod check;
mod coverage;
mod examples;
mod handoff;
mod ical;
mod incident;
mod intake;
mod oncall;
mod pagerduty;
mod render;
mod routing;
mod signature;
mod webhook;
