//! Stateful checks: the shared object exchange (RTMP 1.0 §7.1.3).
//!
//! The event table of §7.1.3 gives each event a role: the client creates its copy of a named
//! shared object with Use and drops it with Release; it asks for changes with RequestChange and
//! RequestRemove; the server answers an accepted RequestChange with Success to the requester
//! and tells the other clients with Change. Two consequences are checked, only while the
//! session has been seen whole from its handshake:
//! - a Success names a property the client asked to change (`shared-object.success-unrequested`);
//! - events about a shared object travel only while the client uses it, between its Use and its
//!   Release (`shared-object.not-in-use`, once per object and direction).
//!
//! Findings are placed at the event's type byte.

use super::CheckIssue;
use super::Completeness;
use crate::session::{Message, MessageBody, SessionEvent};
use crate::wire::message::shared_object::{event_name, EventData};
use crate::wire::Direction;

pub const SUCCESS_UNREQUESTED: &str = "shared-object.success-unrequested";
pub const NOT_IN_USE: &str = "shared-object.not-in-use";

/// Shared objects, pending requests and reports remembered (further ones are not judged).
const MAX_ENTRIES: usize = 256;

const USE: u8 = 1;
const RELEASE: u8 = 2;
const REQUEST_CHANGE: u8 = 3;
const SUCCESS: u8 = 5;
const USE_SUCCESS: u8 = 11;

#[derive(Debug, Default)]
pub(crate) struct SharedObjectChecks {
    /// Seen from the handshake on, with nothing lost since.
    complete: Completeness,
    /// Shared objects the client uses (Use seen, no Release since).
    in_use: Vec<String>,
    /// (shared object, property) the client asked to change, not yet answered with Success.
    pending: Vec<(String, String)>,
    /// (direction, shared object) already reported as not in use.
    reported: Vec<(Direction, String)>,
    /// A table was full: some state was not kept, so absences prove nothing.
    overflowed: bool,
}

impl SharedObjectChecks {
    pub(crate) fn on_event(&mut self, ev: &SessionEvent, out: &mut Vec<CheckIssue>) {
        if let Some(m) = self.complete.follow(ev) {
            self.on_message(m, out);
        }
    }

    fn on_message(&mut self, m: &Message, out: &mut Vec<CheckIssue>) {
        let MessageBody::SharedObject(so) = &m.body else { return };
        if !self.complete.is_complete() || self.overflowed {
            return;
        }
        let name = so.name.as_str();
        for e in &so.events {
            let client = m.direction == Direction::ClientToServer;
            match e.event_type {
                USE if client => {
                    if !self.in_use.iter().any(|n| n == name) {
                        self.keep_in_use(name);
                    }
                    continue;
                }
                RELEASE if client => {
                    self.in_use.retain(|n| n != name);
                    self.pending.retain(|(n, _)| n != name);
                    continue;
                }
                _ => {}
            }
            // RTMP 1.0 §7.1.3: the other events concern a shared object the client uses.
            // UseSuccess answers a Use and Status may report a refused Use: both are judged by
            // the Use that must precede them, so they need it too.
            if !self.in_use.iter().any(|n| n == name) {
                self.not_in_use(m, e.offset, e.event_type, name, out);
            }
            match (e.event_type, &e.data) {
                (REQUEST_CHANGE, EventData::Properties(props)) if client => {
                    for (k, _) in props {
                        if !self.pending.iter().any(|(n, p)| n == name && p == k) {
                            if self.pending.len() >= MAX_ENTRIES {
                                self.overflowed = true;
                                return;
                            }
                            self.pending.push((name.to_string(), k.clone()));
                        }
                    }
                }
                // RTMP 1.0 §7.1.3: Success goes to the requesting client when its RequestChange
                // was accepted, so it names a property that client asked to change.
                (SUCCESS, EventData::Name(prop)) if !client => {
                    match self.pending.iter().position(|(n, p)| n == name && p == prop) {
                        Some(i) => {
                            self.pending.remove(i);
                        }
                        None => out.push(CheckIssue::new(
                            m.direction,
                            e.offset,
                            SUCCESS_UNREQUESTED,
                            format!(
                                "Success for property {prop:?} of shared object {name:?}, which the client had not \
                                 asked to change (no RequestChange of it awaiting an answer)"
                            ),
                            Some(m.index),
                        )),
                    }
                }
                _ => {}
            }
        }
    }

    fn keep_in_use(&mut self, name: &str) {
        if self.in_use.len() >= MAX_ENTRIES {
            self.overflowed = true;
        } else {
            self.in_use.push(name.to_string());
        }
    }

    fn not_in_use(&mut self, m: &Message, offset: u64, event_type: u8, name: &str, out: &mut Vec<CheckIssue>) {
        let key = (m.direction, name.to_string());
        if self.reported.contains(&key) || self.reported.len() >= MAX_ENTRIES {
            return;
        }
        self.reported.push(key);
        let what = event_name(event_type).map_or_else(|| format!("event type {event_type}"), str::to_string);
        let when = if event_type == USE_SUCCESS { "; UseSuccess answers a Use" } else { "" };
        out.push(CheckIssue::new(
            m.direction,
            offset,
            NOT_IN_USE,
            format!(
                "{what} for shared object {name:?}, which the client is not using (no Use, or Released){when}; \
                 later events of this object sent {} are not reported again",
                m.direction.as_str()
            ),
            Some(m.index),
        ));
    }
}
