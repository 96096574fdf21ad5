//! Acknowledgements, Window Acknowledgement Size and Set Peer Bandwidth (RTMP 1.0 §5.4.3-5.4.5).
//!
//! Everything is kept per data direction `d`: the window is what the sender of `d` announced
//! with Window Acknowledgement Size, and the acknowledgements about `d` travel the other way.

use super::super::CheckIssue;
use super::{sender, Context};
use crate::session::{Message, MessageBody};
use crate::wire::handshake::HANDSHAKE_TOTAL;
use crate::wire::message::control::ControlMessage;
use crate::wire::Direction;

/// Extra bytes an acknowledgement may be ahead of the last complete message: the receiver
/// counts bytes as they arrive, so parts of messages still in progress count too.
const AHEAD_SLACK: u64 = 4096;
/// How far behind an acknowledgement may be at least, for the time it takes to reach the capture.
const MIN_BEHIND_SLACK: u64 = 64 * 1024;
/// How far behind, when no window was announced.
const UNKNOWN_WINDOW_BEHIND_SLACK: u64 = 1 << 20;

/// A Set Peer Bandwidth waiting for its Window Acknowledgement Size.
#[derive(Debug, Clone, Copy)]
struct PendingWindow {
    expected: u32,
    announced: u32,
    offset: u64,
    index: u64,
}

#[derive(Debug, Default, Clone, Copy)]
struct DirState {
    /// Bytes of this direction received by its receiver: the end of the last complete message.
    received: u64,
    /// Largest message seen in this direction, headers included.
    max_message: u64,
    /// The window the sender of this direction announced.
    window: Option<u32>,
    /// Where the receiver's counting restarts: the window announcement or the last ack.
    ack_base: u64,
    /// An overdue finding was made since the last acknowledgement.
    overdue_reported: bool,
    /// Sequence number of the last acknowledgement about this direction.
    last_ack: Option<u32>,
    /// Output limit set on the receiver of this direction by Set Peer Bandwidth, and whether
    /// the last one was hard.
    peer_limit: Option<u32>,
    peer_limit_hard: bool,
    /// The last Set Peer Bandwidth sent in this direction, whatever its limit type.
    last_peer_bandwidth: Option<u32>,
    /// Set Peer Bandwidth sent in this direction, not yet answered.
    pending_window: Option<PendingWindow>,
}

#[derive(Debug, Default)]
pub(super) struct Acks {
    dirs: [DirState; 2],
}

impl Acks {
    pub(super) fn on_message(&mut self, ctx: &Context, m: &Message, out: &mut Vec<CheckIssue>) {
        let d = m.direction;
        {
            let s = &mut self.dirs[d.index()];
            s.received = s.received.max(m.end_offset);
            s.max_message = s.max_message.max(m.end_offset.saturating_sub(m.offset));
        }
        self.check_overdue(m, out);
        let MessageBody::Control(c) = &m.body else { return };
        match *c {
            ControlMessage::WindowAckSize { size } => self.window_ack_size(d, size, m),
            ControlMessage::Acknowledgement { sequence_number } => self.acknowledgement(ctx, sequence_number, m, out),
            ControlMessage::SetPeerBandwidth { size, limit_type } => {
                self.set_peer_bandwidth(d, size, limit_type.map(|l| l.0), m)
            }
            _ => {}
        }
    }

    /// RTMP 1.0 §5.4.4: "The sender expects acknowledgment from its peer after the sender sends
    /// window size bytes." Counting restarts at the announcement and at every acknowledgement;
    /// one message of slack allows for a receiver that acknowledges at message boundaries.
    fn check_overdue(&mut self, m: &Message, out: &mut Vec<CheckIssue>) {
        let d = m.direction;
        let s = &mut self.dirs[d.index()];
        let Some(w) = s.window else { return };
        if s.overdue_reported || w == 0 {
            return;
        }
        let limit = s.ack_base.saturating_add(u64::from(w)).saturating_add(s.max_message);
        if m.end_offset > limit {
            s.overdue_reported = true;
            let since = m.end_offset - s.ack_base;
            // SPEC-NOTES QUIRK-008: librtmp acknowledges every Set Peer Bandwidth / 10 bytes.
            let habit = match s.last_peer_bandwidth {
                Some(b) if b / 10 > w => {
                    format!("; an acknowledgement every {} bytes (Set Peer Bandwidth / 10) is librtmp's habit", b / 10)
                }
                _ => String::new(),
            };
            out.push(CheckIssue::new(
                d,
                m.offset,
                "control.ack-overdue",
                format!(
                    "the {} has received {since} bytes of this direction since offset {} without an Acknowledgement; the window is {w} bytes (plus {} bytes of slack for one message){habit}",
                    sender(d.reverse()),
                    s.ack_base,
                    s.max_message
                ),
                Some(m.index),
            ));
        }
    }

    fn window_ack_size(&mut self, d: Direction, size: u32, m: &Message) {
        let s = &mut self.dirs[d.index()];
        if s.window != Some(size) {
            s.window = Some(size);
            s.ack_base = s.ack_base.max(m.end_offset);
            s.overdue_reported = false;
        }
        // RTMP 1.0 §5.4.5: this answers a Set Peer Bandwidth received from the peer.
        self.dirs[d.reverse().index()].pending_window = None;
    }

    fn acknowledgement(&mut self, ctx: &Context, seq: u32, m: &Message, out: &mut Vec<CheckIssue>) {
        // The acknowledgement is about the bytes of the other direction.
        let about = m.direction.reverse();
        let s = &mut self.dirs[about.index()];
        s.ack_base = s.received;
        s.overdue_reported = false;
        // RTMP 1.0 §5.4.3: the sequence number is the number of bytes received so far, so it
        // only grows; the 32-bit counter may wrap (serial arithmetic, RFC 1982).
        if let Some(prev) = s.last_ack {
            let step = i64::from(seq.wrapping_sub(prev) as i32);
            if step < 0 {
                out.push(CheckIssue::new(
                    m.direction,
                    m.offset,
                    "control.ack-sequence-backwards",
                    format!("Acknowledgement sequence number {seq} is {} below the previous one ({prev})", -step),
                    Some(m.index),
                ));
            }
        }
        s.last_ack = Some(seq);
        // RTMP 1.0 §5.4.3: compare with the bytes that really arrived, when the whole
        // connection was captured; the receiver may or may not count the handshake.
        if !ctx.from_start || ctx.lossy {
            return;
        }
        let received = s.received;
        let diff = i64::from(seq.wrapping_sub(received as u32) as i32);
        let ahead = AHEAD_SLACK + 2 * s.max_message;
        let behind = match s.window {
            Some(w) => u64::from(w).max(MIN_BEHIND_SLACK),
            None => UNKNOWN_WINDOW_BEHIND_SLACK,
        } + 2 * s.max_message
            + HANDSHAKE_TOTAL;
        if diff > ahead as i64 {
            // Nobody can acknowledge bytes that were never sent. A value equal to a window
            // size is the typical sign of a Window Acknowledgement Size sent with the wrong
            // type id.
            let window_like = self.dirs.iter().any(|x| x.window == Some(seq))
                || [2_500_000, 5_000_000, 2_048_000, 1_048_576, 250_000].contains(&seq);
            let hint = if window_like {
                "; the value looks like a window size, i.e. a Window Acknowledgement Size (type 5) sent as an Acknowledgement (type 3)"
            } else {
                ""
            };
            out.push(CheckIssue::new(
                m.direction,
                m.offset,
                "control.ack-beyond-received",
                format!(
                    "Acknowledgement sequence number {seq} exceeds the {received} bytes the {} had sent so far (handshake included){hint}",
                    sender(about)
                ),
                Some(m.index),
            ));
        } else if diff < -(behind as i64) {
            out.push(CheckIssue::new(
                m.direction,
                m.offset,
                "control.ack-sequence-mismatch",
                format!(
                    "Acknowledgement sequence number {seq} does not match the bytes the {} had sent so far: {received} with the handshake, {} without it (mod 2^32)",
                    sender(about),
                    received.saturating_sub(HANDSHAKE_TOTAL)
                ),
                Some(m.index),
            ));
        }
    }

    /// RTMP 1.0 §5.4.5: the limit type decides whether the new limit applies; when it does and
    /// the window differs from the last Window Acknowledgement Size the receiver sent, the
    /// receiver SHOULD answer with Window Acknowledgement Size.
    fn set_peer_bandwidth(&mut self, d: Direction, size: u32, limit_type: Option<u8>, m: &Message) {
        let last_sent = self.dirs[d.reverse().index()].window;
        let s = &mut self.dirs[d.index()];
        s.last_peer_bandwidth = Some(size);
        let effective = match limit_type {
            // Hard, or the 4-byte form without a limit type, read as hard.
            Some(0) | None => {
                s.peer_limit_hard = true;
                size
            }
            // Soft: the smaller of this and the limit in effect.
            Some(1) => {
                s.peer_limit_hard = false;
                s.peer_limit.map_or(size, |l| l.min(size))
            }
            // Dynamic: hard when the previous limit was hard, otherwise ignored.
            Some(2) if s.peer_limit_hard => size,
            _ => return,
        };
        s.peer_limit = Some(effective);
        s.pending_window = if last_sent == Some(effective) {
            None
        } else {
            Some(PendingWindow { expected: effective, announced: size, offset: m.offset, index: m.index })
        };
    }

    pub(super) fn finish(&mut self, out: &mut Vec<CheckIssue>) {
        for d in Direction::BOTH {
            let s = &mut self.dirs[d.index()];
            if let Some(p) = s.pending_window.take() {
                out.push(CheckIssue::new(
                    d,
                    p.offset,
                    "control.window-ack-size-not-answered",
                    format!(
                        "the {} never answered this Set Peer Bandwidth ({} bytes, window in effect {}) with a Window Acknowledgement Size",
                        sender(d.reverse()),
                        p.announced,
                        p.expected
                    ),
                    Some(p.index),
                ));
            }
        }
    }
}
