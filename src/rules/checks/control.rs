//! Stateful checks: chunk stream, protocol control and user control.
//!
//! Each part keeps a fixed amount of state per direction (or a capped map), so a session of any
//! length costs the same memory.

mod acks;
mod placement;
mod timestamps;
mod user;

use super::CheckIssue;
use crate::session::{Message, SessionEvent};
use crate::wire::Direction;

/// Who sends a direction, for detail sentences.
pub(super) fn sender(dir: Direction) -> &'static str {
    match dir {
        Direction::ClientToServer => "client",
        Direction::ServerToClient => "server",
    }
}

/// What the checks know about the session as a whole.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Context {
    /// The handshake was seen, so stream offsets count every byte of the connection.
    pub(super) from_start: bool,
    /// Some bytes were not captured or framing was lost: earlier messages may be missing.
    pub(super) lossy: bool,
}

#[derive(Debug, Default)]
pub(crate) struct ControlChecks {
    ctx: Context,
    placement: placement::Placement,
    acks: acks::Acks,
    timestamps: timestamps::Timestamps,
    user: user::UserControl,
}

impl ControlChecks {
    pub(crate) fn on_event(&mut self, ev: &SessionEvent, out: &mut Vec<CheckIssue>) {
        match ev {
            // Only sessions captured from their first byte report a handshake.
            SessionEvent::Handshake(_) => self.ctx.from_start = true,
            SessionEvent::Issue { issue, .. } => {
                if matches!(issue.rule, "tcp.gap" | "chunk.resync" | "chunk.undecoded-bytes") {
                    self.ctx.lossy = true;
                }
            }
            SessionEvent::Resynced { .. } => self.ctx.lossy = true,
            SessionEvent::Message(m) => self.on_message(m, out),
            SessionEvent::ChunkSizeChanged { .. } | SessionEvent::Aborted { .. } => {}
        }
    }

    fn on_message(&mut self, m: &Message, out: &mut Vec<CheckIssue>) {
        let ctx = self.ctx;
        self.placement.on_message(m, out);
        self.acks.on_message(&ctx, m, out);
        self.timestamps.on_message(m, out);
        self.user.on_message(&ctx, m, out);
    }

    pub(crate) fn finish(&mut self, out: &mut Vec<CheckIssue>) {
        self.acks.finish(out);
        self.user.finish(out);
    }
}

#[cfg(test)]
mod tests;
