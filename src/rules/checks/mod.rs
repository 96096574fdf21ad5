//! Stateful checks: rules that need more than one message, or both directions, to judge.
//!
//! The [`Checker`] of a session sees every [`SessionEvent`] in order (the same order the
//! report shows) and reports issues the way decoders do: a rule id, a stream offset and a
//! sentence. Each area keeps its own state in its own module.

mod commands;
mod control;
mod ertmp;
mod media;
mod shared_objects;

use crate::session::script::Script;
use crate::session::{Message, MessageBody, Session, SessionConfig, SessionEvent, Start};
use crate::wire::{Direction, Issue};

/// Whether a session has been seen whole so far: from its handshake on, with no byte or
/// message lost since. History-based checks judge absences (a missing answer, a stream never
/// created) only while it holds.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Completeness(bool);

impl Completeness {
    /// Follows the next event and hands back the message it carries, if any.
    pub(crate) fn follow<'a>(&mut self, ev: &'a SessionEvent) -> Option<&'a Message> {
        if loses_messages(ev) {
            self.0 = false;
        }
        match ev {
            SessionEvent::Handshake(_) => {
                self.0 = true;
                None
            }
            SessionEvent::Message(m) => Some(m),
            _ => None,
        }
    }

    pub(crate) fn is_complete(self) -> bool {
        self.0
    }

    /// Gives up on completeness (a check stopped keeping some of its history).
    pub(crate) fn lose(&mut self) {
        self.0 = false;
    }
}

/// Whether an event means messages of the session may have been lost, so history-based
/// checks can no longer tell a missing message from one never sent.
fn loses_messages(ev: &SessionEvent) -> bool {
    match ev {
        SessionEvent::Resynced { .. } => true,
        SessionEvent::Issue { issue, .. } => matches!(
            issue.rule,
            "tcp.gap"
                | "chunk.resync"
                | "chunk.undecoded-bytes"
                | "chunk.message-interrupted"
                | "chunk.message-incomplete"
                | "chunk.unknown-chunk-stream"
                | "limits.in-flight-bytes"
                | "limits.open-chunk-streams"
        ),
        SessionEvent::Message(m) => matches!(m.body, MessageBody::Raw { reason: "body-not-kept", .. }),
        _ => false,
    }
}

/// An issue found by a stateful check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckIssue {
    pub direction: Direction,
    pub issue: Issue,
    /// The message the issue is about, when there is one.
    pub message_index: Option<u64>,
}

impl CheckIssue {
    pub fn new(
        direction: Direction,
        offset: u64,
        rule: &'static str,
        detail: impl Into<String>,
        message_index: Option<u64>,
    ) -> Self {
        CheckIssue { direction, issue: Issue::new(offset, rule, detail), message_index }
    }
}

/// All stateful checks of one session.
#[derive(Debug, Default)]
pub struct Checker {
    control: control::ControlChecks,
    commands: commands::CommandChecks,
    media: media::MediaChecks,
    ertmp: ertmp::ErtmpChecks,
    shared_objects: shared_objects::SharedObjectChecks,
}

impl Checker {
    pub fn new() -> Self {
        Checker::default()
    }

    /// Looks at the next event of the session.
    pub fn on_event(&mut self, ev: &SessionEvent, out: &mut Vec<CheckIssue>) {
        self.control.on_event(ev, out);
        self.commands.on_event(ev, out);
        self.media.on_event(ev, out);
        self.ertmp.on_event(ev, out);
        self.shared_objects.on_event(ev, out);
    }

    /// The session is over: report what never happened (answers never sent, …).
    pub fn finish(&mut self, out: &mut Vec<CheckIssue>) {
        self.control.finish(out);
        self.commands.finish(out);
        self.media.finish(out);
        self.ertmp.finish(out);
    }
}

/// Everything a scripted conversation produces: decoder issues and stateful issues alike, in
/// order, as `(direction, rule, offset)` plus the detail. For tests of rules.
pub fn evaluate(script: &Script) -> Vec<CheckIssue> {
    let mut session = Session::new(SessionConfig::default(), Start::Handshake);
    let mut checker = Checker::new();
    let mut out = Vec::new();
    let drain = |session: &mut Session, checker: &mut Checker, out: &mut Vec<CheckIssue>| {
        while let Some(ev) = session.poll_event() {
            if let SessionEvent::Issue { direction, issue, message_index } = &ev {
                out.push(CheckIssue { direction: *direction, issue: issue.clone(), message_index: *message_index });
            }
            checker.on_event(&ev, out);
        }
    };
    for (dir, bytes) in script.writes() {
        session.handle_bytes(*dir, bytes);
        drain(&mut session, &mut checker, &mut out);
    }
    session.handle_close(Direction::ClientToServer);
    session.handle_close(Direction::ServerToClient);
    drain(&mut session, &mut checker, &mut out);
    checker.finish(&mut out);
    out
}

#[cfg(test)]
mod commands_tests;
#[cfg(test)]
mod ertmp_tests;
#[cfg(test)]
mod media_tests;
#[cfg(test)]
mod shared_objects_tests;
#[cfg(test)]
mod tests;

#[cfg(test)]
mod coverage_tests;
