//! The `muster` binary as a user runs it: exit codes, output formats, files written.

mod oncall;
mod plan;
mod serve;
