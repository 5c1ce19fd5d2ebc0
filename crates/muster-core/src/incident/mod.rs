//! Incidents: events, the fold that gives their state, the rules that accept or refuse a
//! command, and the hash chain that makes the timeline tamper-evident.

pub mod chain;
pub mod checklist;
pub mod comms;
pub mod escalation;
pub mod event;
pub mod signature;
pub mod state;

pub use chain::Link;
pub use event::{
    ActionStatus, AttachedAlert, Event, EventKind, Horizon, Impact, IncidentId, Millis,
    NotifyOutcome, PublicState, Status,
};
pub use state::{
    ActionItem, Command, Incident, PostmortemState, Rejection, RootCause, decide, qualify,
};
