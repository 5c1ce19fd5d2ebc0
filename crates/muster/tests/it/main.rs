//! The `muster` binary as a user runs it: exit codes, output formats, files written.

mod alertmanager;
mod failover;
mod oncall;
mod plan;
mod serve;
mod support;
mod triage;
