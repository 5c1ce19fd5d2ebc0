//! The `muster` binary as a user runs it: exit codes, output formats, files written.

mod alertmanager;
mod failover;
mod followup;
mod oncall;
mod plan;
mod report;
mod serve;
mod support;
mod triage;
