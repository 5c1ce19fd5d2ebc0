//! Integration tests for the plan: checking, rendering, on-call maths and readiness; and for
//! alert intake: the payload formats and routing.

mod alertmanager;
mod check;
mod comms;
mod coverage;
mod examples;
mod handoff;
mod ical;
mod incident;
mod intake;
mod oncall;
mod pagerduty;
mod postmortem;
mod render;
mod routing;
mod signature;
mod webhook;
