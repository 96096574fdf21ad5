//! The context a case runs in: one connection to the server, the strict decoder of what the
//! server sends, the chunk encoder of what we send, and the wire log of both.
//!
//! Helpers return [`Step`]: `Err(outcome)` ends the case early with that outcome (a missing
//! precondition, the connection lost while setting up), so a case reads as a sequence of `?`.

use super::conn::{Conn, ConnError};
use super::runner::Target;
use super::{Outcome, Reaction};
use crate::session::script::{n, s, CSID_COMMAND, CSID_CONTROL};
use crate::session::{Message, MessageBody, Session, SessionConfig, SessionEvent, Start};
use crate::wire::amf::{amf0, AmfValue};
use crate::wire::chunk::encoder::ChunkEncoder;
use crate::wire::chunk::{ChunkDecoder, ChunkEvent, ChunkLimits};
use crate::wire::handshake::{
    check_response, make_hello, make_response, parse_hello, ResponseCheck, Role, Scheme, HANDSHAKE_SIZE, RTMP_VERSION,
};
use crate::wire::message::command::Command;
use crate::wire::message::control::{encode_control, ControlMessage};
use crate::wire::message::user_control::{encode_user_control, EventData, UserControlEvent};
use crate::wire::message::MessageType;
use crate::wire::{hex_window, Direction};
use serde::Serialize;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// A helper's result: `Err` carries the outcome the case ends with.
pub type Step<T> = Result<T, Outcome>;

/// Bytes shown in a wire log hex excerpt.
pub const HEX_EXCERPT: usize = 32;
/// Wire log entries kept per case; later ones are counted, not stored.
pub const MAX_WIRE_ENTRIES: usize = 400;
/// Server events kept in the history, and waiting in the inbox.
pub const MAX_EVENTS: usize = 10_000;
/// Server bytes kept to cut hex excerpts of received messages from.
const RECV_TAIL: usize = 256 * 1024;
/// Bytes read from the socket at once.
const READ_BUF: usize = 64 * 1024;
/// Random bytes of our C1.
pub const C1_RANDOM: &[u8] = b"rtmpscope check client random bytes ";

/// How the client shapes its C1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeForm {
    /// RTMP 1.0 §5.2: zero version field, echo responses.
    Plain,
    /// Flash Player 9 form: a version field and an HMAC digest in C1 at the scheme's position.
    Digest(Scheme),
}

/// Payload bytes of server messages kept by [`Ctx::keep_payloads`], at most.
pub const MAX_KEPT_PAYLOAD_BYTES: usize = 4 << 20;

/// A server message of type audio, video or data, with its exact payload (kept by
/// [`Ctx::keep_payloads`], for cases that compare relayed bytes with what was published).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    pub type_id: MessageType,
    pub stream_id: u32,
    pub timestamp: u32,
    pub bytes: Vec<u8>,
}

/// A second chunk decoder over the server's bytes that keeps media payloads whole.
#[derive(Debug)]
struct Capture {
    dec: ChunkDecoder,
    kept: Vec<Payload>,
    bytes: usize,
}

/// One line of a case's wire log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WireEntry {
    pub dir: Direction,
    /// Stream offset (in `dir`) of the first byte the entry is about.
    pub offset: u64,
    /// `bytes` (raw bytes sent), `message`, `issue` (the decoder's finding), `chunk-size`,
    /// `abort`, `resync`, `end` (closed, reset, timeout), `note`.
    pub kind: &'static str,
    pub summary: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub hex: String,
}

/// What the handshake helper saw from the server.
#[derive(Debug, Clone)]
pub struct ServerHello {
    pub s0: u8,
    pub s1: [u8; HANDSHAKE_SIZE],
    pub s2: [u8; HANDSHAKE_SIZE],
    pub c1: [u8; HANDSHAKE_SIZE],
    /// S2 compared with our C1.
    pub s2_check: ResponseCheck,
    /// Whether S1 carries a valid server digest.
    pub s1_digest: bool,
}

/// The answer to a command with a transaction id.
#[derive(Debug, Clone)]
pub enum Answer {
    Result(Box<Message>),
    Error(Box<Message>),
}

/// The context of one case (or one liveness probe).
#[derive(Debug)]
pub struct Ctx {
    pub target: Target,
    /// How long one wait may last.
    pub timeout: Duration,
    /// No I/O happens after this instant.
    case_deadline: Instant,
    conn: Option<Conn>,
    session: Session,
    /// The encoder of our chunks (its chunk size is what we announced).
    pub enc: ChunkEncoder,
    sent: u64,
    received: u64,
    recv_tail: VecDeque<u8>,
    recv_tail_start: u64,
    /// Server events not yet consumed by a `wait_*`.
    inbox: VecDeque<SessionEvent>,
    /// Every server event so far, consumed or not (for cases that look back).
    history: Vec<SessionEvent>,
    wire: Vec<WireEntry>,
    wire_dropped: u64,
    /// How the connection ended, once it did.
    ended: Option<ConnError>,
    local_port: Option<u16>,
    next_txn: u32,
    reaction: Option<Reaction>,
    connected: bool,
    capture: Option<Capture>,
}

impl Ctx {
    /// A fresh context; nothing is sent until a helper needs the connection. `budget` bounds
    /// the whole case.
    pub fn new(target: Target, timeout: Duration, budget: Duration) -> Ctx {
        Ctx {
            target,
            timeout,
            case_deadline: Instant::now() + budget,
            conn: None,
            session: Session::new(SessionConfig::default(), Start::Handshake),
            enc: ChunkEncoder::new(128),
            sent: 0,
            received: 0,
            recv_tail: VecDeque::new(),
            recv_tail_start: 0,
            inbox: VecDeque::new(),
            history: Vec::new(),
            wire: Vec::new(),
            wire_dropped: 0,
            ended: None,
            local_port: None,
            next_txn: 2,
            reaction: None,
            connected: false,
            capture: None,
        }
    }

    /// Another connection to the same server for the same case (a player next to a
    /// publisher), sharing this case's deadline.
    pub fn peer(&self) -> Ctx {
        let mut c = Ctx::new(self.target.clone(), self.timeout, Duration::ZERO);
        c.case_deadline = self.case_deadline;
        c
    }

    /// Appends `other`'s wire log to this one, each summary prefixed with `who`.
    pub fn adopt_wire(&mut self, other: &mut Ctx, who: &str) {
        for mut e in other.take_wire() {
            e.summary = format!("{who}: {}", e.summary);
            self.log(e);
        }
    }

    /// From now on, keeps the exact payloads of the server's audio, video and data messages
    /// (up to [`MAX_KEPT_PAYLOAD_BYTES`]); call before the handshake.
    pub fn keep_payloads(&mut self) {
        let limits =
            ChunkLimits { max_in_flight_bytes: 32 << 20, max_resync_window: 1 << 16, ..ChunkLimits::default() };
        let mut dec = ChunkDecoder::new(limits);
        dec.set_offset(1 + 2 * HANDSHAKE_SIZE as u64);
        self.capture = Some(Capture { dec, kept: Vec::new(), bytes: 0 });
    }

    /// The payloads kept since [`Ctx::keep_payloads`].
    pub fn payloads(&self) -> &[Payload] {
        self.capture.as_ref().map(|c| c.kept.as_slice()).unwrap_or(&[])
    }

    /// Whether this connection has been answered `_result` to connect.
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    // ----- bookkeeping -----

    pub fn local_port(&self) -> Option<u16> {
        self.local_port
    }

    /// The reaction the connection showed last (`None`: nothing notable yet).
    pub fn reaction(&self) -> Option<Reaction> {
        self.reaction.clone()
    }

    pub fn set_reaction(&mut self, r: Reaction) {
        self.reaction = Some(r);
    }

    /// How the connection ended, if it did.
    pub fn ended(&self) -> Option<&ConnError> {
        self.ended.as_ref()
    }

    /// Takes the wire log (with a final note when entries were dropped).
    pub fn take_wire(&mut self) -> Vec<WireEntry> {
        let mut w = std::mem::take(&mut self.wire);
        if self.wire_dropped > 0 {
            w.push(WireEntry {
                dir: Direction::ServerToClient,
                offset: self.received,
                kind: "note",
                summary: format!("{} more wire entries not kept", self.wire_dropped),
                hex: String::new(),
            });
        }
        w
    }

    /// The last `n` wire entries.
    pub fn last_wire(&self, n: usize) -> &[WireEntry] {
        &self.wire[self.wire.len().saturating_sub(n)..]
    }

    /// Every server event seen so far.
    pub fn history(&self) -> &[SessionEvent] {
        &self.history
    }

    /// Bytes sent and received so far on this connection (handshake included).
    pub fn sent_bytes(&self) -> u64 {
        self.sent
    }
    pub fn received_bytes(&self) -> u64 {
        self.received
    }

    /// The server's first `n` bytes, while they are still kept (the first 256 KiB are).
    pub fn received_prefix(&self, n: usize) -> Option<Vec<u8>> {
        (self.recv_tail_start == 0 && self.recv_tail.len() >= n).then(|| self.recv_tail.range(..n).copied().collect())
    }

    /// Adds a note to the wire log.
    pub fn note(&mut self, summary: impl Into<String>) {
        let (dir, offset) = (Direction::ClientToServer, self.sent);
        self.log(WireEntry { dir, offset, kind: "note", summary: summary.into(), hex: String::new() });
    }

    fn log(&mut self, e: WireEntry) {
        if self.wire.len() < MAX_WIRE_ENTRIES {
            self.wire.push(e);
        } else {
            self.wire_dropped += 1;
        }
    }

    /// The deadline of a wait starting now.
    pub fn deadline(&self) -> Instant {
        self.deadline_in(self.timeout)
    }

    /// The deadline of a wait of `d` starting now, never past the case budget.
    pub fn deadline_in(&self, d: Duration) -> Instant {
        (Instant::now() + d).min(self.case_deadline)
    }

    /// Allocates a transaction id (1 is connect's).
    pub fn txn(&mut self) -> f64 {
        let t = self.next_txn;
        self.next_txn += 1;
        f64::from(t)
    }

    fn end(&mut self, e: ConnError) -> ConnError {
        if matches!(e, ConnError::Closed | ConnError::Reset) && self.ended.is_none() {
            self.ended = Some(e.clone());
            self.reaction = Some(if e == ConnError::Reset { Reaction::Reset } else { Reaction::Closed });
            let (dir, offset) = (Direction::ServerToClient, self.received);
            self.log(WireEntry { dir, offset, kind: "end", summary: e.to_string(), hex: String::new() });
            self.session.handle_close(Direction::ServerToClient);
            self.drain_session();
        }
        e
    }

    // ----- connection -----

    /// Opens the connection if it is not open.
    pub fn open(&mut self) -> Step<()> {
        if self.conn.is_some() {
            return Ok(());
        }
        let deadline = self.deadline();
        let conn = self.target.open(deadline).map_err(|e| {
            Outcome::error("a connection to the server", format!("could not connect to {}: {e}", self.target.addr()))
        })?;
        self.local_port = Some(conn.local_port());
        self.conn = Some(conn);
        Ok(())
    }

    /// Sends raw bytes, logged with `summary`.
    pub fn send_raw(&mut self, bytes: &[u8], summary: impl Into<String>) -> Result<(), ConnError> {
        self.open().map_err(|o| ConnError::Io(o.actual))?;
        let (dir, offset) = (Direction::ClientToServer, self.sent);
        self.log(WireEntry {
            dir,
            offset,
            kind: "bytes",
            summary: summary.into(),
            hex: hex_window(bytes, HEX_EXCERPT),
        });
        if let Some(e) = self.ended.clone() {
            return Err(e);
        }
        let deadline = self.deadline();
        let Some(conn) = self.conn.as_mut() else { return Err(ConnError::Closed) };
        match conn.write_all(bytes, deadline) {
            Ok(()) => {
                self.sent += bytes.len() as u64;
                Ok(())
            }
            Err(e) => {
                // Whatever the server said before it went away is still worth reading.
                let _ = self.pump_until(Instant::now() + Duration::from_millis(50).min(self.timeout));
                Err(self.end(e))
            }
        }
    }

    /// `send_raw` for setup steps: a failure ends the case as a tool error naming the step.
    pub fn send_raw_step(&mut self, bytes: &[u8], what: &str) -> Step<()> {
        self.send_raw(bytes, what).map_err(|e| self.lost(what, e))
    }

    /// The outcome of a setup step that failed on the connection.
    pub fn lost(&self, step: &str, e: ConnError) -> Outcome {
        Outcome::error(format!("{step} to go through"), format!("{step}: {e}"))
    }

    /// Closes our sending side.
    pub fn shutdown_write(&mut self) {
        if let Some(c) = self.conn.as_mut() {
            c.shutdown_write();
        }
    }

    /// Reads once (until `deadline`) and decodes what came. `Ok(false)` on timeout.
    fn pump_until(&mut self, deadline: Instant) -> Result<bool, ConnError> {
        if let Some(e) = self.ended.clone() {
            return Err(e);
        }
        let Some(conn) = self.conn.as_mut() else { return Err(ConnError::Closed) };
        let mut buf = vec![0u8; READ_BUF];
        match conn.read(&mut buf, deadline) {
            Ok(k) => {
                self.feed(&buf[..k]);
                Ok(true)
            }
            Err(ConnError::Timeout) => Ok(false),
            Err(e) => Err(self.end(e)),
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        let before = self.received;
        if let Some(cap) = self.capture.as_mut() {
            let skip = (1 + 2 * HANDSHAKE_SIZE as u64).saturating_sub(before).min(bytes.len() as u64) as usize;
            let Capture { dec, kept, bytes: kept_bytes } = cap;
            dec.feed(&bytes[skip..], &mut |ev| {
                if let ChunkEvent::Message(m) = ev {
                    if matches!(m.type_id.0, 8 | 9 | 15 | 18)
                        && m.body_complete
                        && *kept_bytes + m.payload.len() <= MAX_KEPT_PAYLOAD_BYTES
                    {
                        *kept_bytes += m.payload.len();
                        kept.push(Payload {
                            type_id: m.type_id,
                            stream_id: m.stream_id,
                            timestamp: m.timestamp,
                            bytes: m.payload.to_vec(),
                        });
                    }
                }
            });
        }
        self.received += bytes.len() as u64;
        self.recv_tail.extend(bytes.iter().copied());
        while self.recv_tail.len() > RECV_TAIL {
            self.recv_tail.pop_front();
            self.recv_tail_start += 1;
        }
        self.session.handle_bytes(Direction::ServerToClient, bytes);
        self.drain_session();
    }

    fn excerpt(&self, from: u64, to: u64) -> String {
        if from < self.recv_tail_start || to <= from {
            return String::new();
        }
        let start = (from - self.recv_tail_start) as usize;
        let end = ((to - self.recv_tail_start) as usize).min(self.recv_tail.len()).min(start + HEX_EXCERPT + 1);
        if start >= end {
            return String::new();
        }
        let bytes: Vec<u8> = self.recv_tail.range(start..end).copied().collect();
        let mut h = hex_window(&bytes[..bytes.len().min(HEX_EXCERPT)], HEX_EXCERPT);
        if (to - from) as usize > HEX_EXCERPT {
            h.push_str(" …");
        }
        h
    }

    fn drain_session(&mut self) {
        while let Some(ev) = self.session.poll_event() {
            let entry = match &ev {
                SessionEvent::Message(m) if m.direction == Direction::ServerToClient => {
                    self.note_reaction(m);
                    Some(WireEntry {
                        dir: m.direction,
                        offset: m.offset,
                        kind: "message",
                        summary: describe(m),
                        hex: self.excerpt(m.offset, m.end_offset),
                    })
                }
                SessionEvent::Issue { direction: Direction::ServerToClient, issue, .. } => Some(WireEntry {
                    dir: Direction::ServerToClient,
                    offset: issue.offset,
                    kind: "issue",
                    summary: format!("{}: {}", issue.rule, issue.detail),
                    hex: String::new(),
                }),
                SessionEvent::ChunkSizeChanged { direction: Direction::ServerToClient, offset, old, new } => {
                    Some(WireEntry {
                        dir: Direction::ServerToClient,
                        offset: *offset,
                        kind: "chunk-size",
                        summary: format!("server chunk size {old} → {new}"),
                        hex: String::new(),
                    })
                }
                SessionEvent::Aborted { direction: Direction::ServerToClient, offset, csid, discarded } => {
                    Some(WireEntry {
                        dir: Direction::ServerToClient,
                        offset: *offset,
                        kind: "abort",
                        summary: format!("server aborted chunk stream {csid} ({discarded} bytes discarded)"),
                        hex: String::new(),
                    })
                }
                SessionEvent::Resynced { direction: Direction::ServerToClient, offset, skipped, .. } => {
                    Some(WireEntry {
                        dir: Direction::ServerToClient,
                        offset: *offset,
                        kind: "resync",
                        summary: format!("chunk framing lost; found again after {skipped} bytes"),
                        hex: String::new(),
                    })
                }
                _ => None,
            };
            if let Some(e) = entry {
                self.log(e);
                // A flooding server costs bounded memory: the first events are kept in the
                // history, the latest in the inbox.
                if self.history.len() < MAX_EVENTS {
                    self.history.push(ev.clone());
                }
                if self.inbox.len() >= MAX_EVENTS {
                    self.inbox.pop_front();
                }
                self.inbox.push_back(ev);
            }
        }
    }

    /// A wait ran out: silence, unless the server already said something more telling
    /// (`_error`, onStatus) since it last answered.
    fn note_silence(&mut self) {
        if matches!(self.reaction, None | Some(Reaction::Continued)) {
            self.reaction = Some(Reaction::Silence);
        }
    }

    fn note_reaction(&mut self, m: &Message) {
        if let MessageBody::Command(c) = &m.body {
            match c.name.as_deref() {
                Some("_error") => {
                    self.reaction = Some(Reaction::ErrorResult { code: info_code(c).map(str::to_string) })
                }
                Some("onStatus") => {
                    if let Some(code) = info_code(c) {
                        self.reaction = Some(Reaction::OnStatus { code: code.to_string() })
                    }
                }
                _ => {}
            }
        }
    }

    // ----- waiting -----

    /// Waits (at most `timeout`, never past the case budget) for a server event matching
    /// `pred`; earlier events that do not match stay in the inbox. A timeout sets the reaction
    /// to silence.
    pub fn wait_for_within(
        &mut self,
        timeout: Duration,
        mut pred: impl FnMut(&SessionEvent) -> bool,
    ) -> Result<SessionEvent, ConnError> {
        let deadline = self.deadline_in(timeout);
        loop {
            if let Some(i) = self.inbox.iter().position(&mut pred) {
                if let Some(ev) = self.inbox.remove(i) {
                    return Ok(ev);
                }
            }
            match self.pump_until(deadline) {
                Ok(true) => {}
                Ok(false) => {
                    self.note_silence();
                    return Err(ConnError::Timeout);
                }
                Err(e) => {
                    // Events decoded before the end still count.
                    if let Some(i) = self.inbox.iter().position(&mut pred) {
                        if let Some(ev) = self.inbox.remove(i) {
                            return Ok(ev);
                        }
                    }
                    return Err(e);
                }
            }
        }
    }

    /// [`Ctx::wait_for_within`] with the case timeout.
    pub fn wait_for(&mut self, pred: impl FnMut(&SessionEvent) -> bool) -> Result<SessionEvent, ConnError> {
        self.wait_for_within(self.timeout, pred)
    }

    /// Waits for a whole server message matching `pred`.
    pub fn wait_message(&mut self, mut pred: impl FnMut(&Message) -> bool) -> Result<Box<Message>, ConnError> {
        match self.wait_for(|e| matches!(e, SessionEvent::Message(m) if pred(m)))? {
            SessionEvent::Message(m) => Ok(m),
            _ => Err(ConnError::Io("internal: a non-message matched".into())),
        }
    }

    /// Waits for `_result` or `_error` with transaction id `txn`.
    pub fn wait_answer(&mut self, txn: f64) -> Result<Answer, ConnError> {
        let m = self.wait_message(|m| {
            command_of(m).is_some_and(|c| {
                matches!(c.name.as_deref(), Some("_result" | "_error")) && c.transaction_id == Some(txn)
            })
        })?;
        let is_result = command_of(&m).and_then(|c| c.name.as_deref()) == Some("_result");
        if is_result {
            self.reaction = Some(Reaction::Continued);
        }
        Ok(if is_result { Answer::Result(m) } else { Answer::Error(m) })
    }

    /// Waits for the answer to `txn` and grades it: `_result` meets the requirement; `_error`,
    /// silence or a closed connection violate it. `expected` says what was expected.
    pub fn expect_result(&mut self, txn: f64, expected: &str) -> Outcome {
        let ms = self.timeout.as_millis();
        match self.wait_answer(txn) {
            Ok(Answer::Result(_)) => {
                Outcome::met(expected, format!("_result for transaction {txn}")).with_reaction(Reaction::Continued)
            }
            Ok(Answer::Error(m)) => Outcome::violated(
                expected,
                format!("_error for transaction {txn} ({})", command_of(&m).and_then(info_code).unwrap_or("no code")),
            ),
            Err(ConnError::Timeout) => {
                Outcome::violated(expected, format!("no answer to transaction {txn} within {ms} ms"))
                    .with_reaction(Reaction::Silence)
            }
            Err(e @ (ConnError::Closed | ConnError::Reset)) => {
                Outcome::violated(expected, format!("no answer to transaction {txn}: {e}"))
            }
            Err(ConnError::Io(m)) => Outcome::error(expected, m),
        }
    }

    /// The values of a createStream with transaction `txn` and `pad` bytes of extra string
    /// arguments (which servers ignore), to make a command as long as a case needs.
    pub fn create_stream_values(txn: f64, pad: usize) -> Vec<AmfValue> {
        let mut v = vec![s("createStream"), n(txn), AmfValue::Null];
        let mut left = pad;
        while left > 0 {
            // Short strings only (some servers do not read AMF0 long strings): 3 bytes of
            // marker and length per argument.
            let k = left.min(60_000);
            v.push(s(&"p".repeat(k.saturating_sub(3))));
            left -= k;
        }
        v
    }

    /// Waits for an `onStatus` (any code) on any stream.
    pub fn wait_status(&mut self) -> Result<String, ConnError> {
        let m = self.wait_message(|m| command_of(m).is_some_and(|c| c.name.as_deref() == Some("onStatus")))?;
        Ok(command_of(&m).and_then(info_code).unwrap_or("").to_string())
    }

    /// Waits until `pred` holds for the payloads kept (see [`Ctx::keep_payloads`]).
    pub fn wait_payloads(&mut self, mut pred: impl FnMut(&[Payload]) -> bool) -> Result<(), ConnError> {
        let deadline = self.deadline();
        loop {
            if pred(self.payloads()) {
                return Ok(());
            }
            match self.pump_until(deadline) {
                Ok(true) => {}
                Ok(false) => {
                    self.note_silence();
                    return Err(ConnError::Timeout);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Waits for an `onStatus` (any code) or an `_error`, and returns the message.
    pub fn wait_status_message(&mut self) -> Result<Box<Message>, ConnError> {
        self.wait_message(|m| command_of(m).is_some_and(|c| matches!(c.name.as_deref(), Some("onStatus" | "_error"))))
    }

    /// Reads and decodes whatever arrives for `d` (never past the case budget); returns how the
    /// connection ended if it did.
    pub fn linger(&mut self, d: Duration) -> Option<ConnError> {
        let deadline = self.deadline_in(d);
        loop {
            match self.pump_until(deadline) {
                Ok(true) => {}
                Ok(false) => {
                    self.note_silence();
                    return None;
                }
                Err(e) => return Some(e),
            }
        }
    }

    /// Reads exactly `n` raw bytes (fed to the decoder too) before the deadline.
    pub fn read_exact(&mut self, n: usize) -> Result<Vec<u8>, ConnError> {
        let deadline = self.deadline();
        let mut out = Vec::with_capacity(n.min(READ_BUF));
        let mut buf = vec![0u8; n.min(READ_BUF)];
        while out.len() < n {
            if let Some(e) = self.ended.clone() {
                return Err(e);
            }
            let want = (n - out.len()).min(buf.len());
            let Some(conn) = self.conn.as_mut() else { return Err(ConnError::Closed) };
            match conn.read(&mut buf[..want], deadline) {
                Ok(k) => {
                    out.extend_from_slice(&buf[..k]);
                    self.feed(&buf[..k]);
                }
                Err(ConnError::Timeout) => {
                    self.note_silence();
                    return Err(ConnError::Timeout);
                }
                Err(e) => return Err(self.end(e)),
            }
        }
        Ok(out)
    }

    /// After a stimulus: is the connection still usable? Sends a request the server must
    /// answer (createStream once connected, connect otherwise) and waits for its answer.
    /// Sets and returns the reaction.
    pub fn probe_continued(&mut self) -> Reaction {
        if let Some(e) = self.ended.clone() {
            return if e == ConnError::Reset { Reaction::Reset } else { Reaction::Closed };
        }
        let before = self.reaction.clone();
        let txn = if self.connected { self.txn() } else { 1.0 };
        let sent = if self.connected {
            self.command(CSID_COMMAND, 0, &[s("createStream"), n(txn), AmfValue::Null])
        } else {
            let v = self.connect_values(&self.target.app.clone(), &[]);
            self.command(CSID_COMMAND, 0, &v)
        };
        let r = match sent.and_then(|_| self.wait_answer(txn)) {
            Ok(Answer::Result(_)) => Reaction::Continued,
            Ok(Answer::Error(m)) => {
                Reaction::ErrorResult { code: command_of(&m).and_then(info_code).map(str::to_string) }
            }
            Err(ConnError::Timeout) => Reaction::Silence,
            Err(ConnError::Reset) => Reaction::Reset,
            Err(_) => Reaction::Closed,
        };
        // An _error the stimulus itself provoked is the more telling reaction.
        let r = match (before, r) {
            (Some(b @ Reaction::ErrorResult { .. }), Reaction::Continued) => b,
            (_, r) => r,
        };
        self.reaction = Some(r.clone());
        r
    }

    // ----- handshake -----

    /// Our C1 for `form`.
    pub fn make_c1(form: HandshakeForm) -> [u8; HANDSHAKE_SIZE] {
        match form {
            HandshakeForm::Plain => make_hello(Role::Client, 0, 0, None, C1_RANDOM),
            // Flash Player 9.0.124.2's version field, as digest-checking servers expect a
            // non-zero one.
            HandshakeForm::Digest(scheme) => make_hello(Role::Client, 0, 0x0900_7c02, Some(scheme), C1_RANDOM),
        }
    }

    /// Makes sure the server has sent at least `n` bytes in all (reading no further than
    /// that), and returns its first `n`.
    pub fn ensure_received(&mut self, n: usize) -> Result<Vec<u8>, ConnError> {
        let have = self.received as usize;
        if have < n {
            self.read_exact(n - have)?;
        }
        self.received_prefix(n).ok_or_else(|| ConnError::Io("the server's first bytes were not kept".into()))
    }

    /// Reads S0 S1 (after our C0 C1).
    pub fn read_s0s1(&mut self) -> Result<(u8, [u8; HANDSHAKE_SIZE]), ConnError> {
        let b = self.ensure_received(1 + HANDSHAKE_SIZE)?;
        let mut s1 = [0u8; HANDSHAKE_SIZE];
        s1.copy_from_slice(&b[1..]);
        Ok((b[0], s1))
    }

    /// Reads S2 (S0 S1 read before) and checks the three against our `c1`.
    pub fn read_s2(&mut self, c1: [u8; HANDSHAKE_SIZE]) -> Result<ServerHello, ConnError> {
        let b = self.ensure_received(1 + 2 * HANDSHAKE_SIZE)?;
        let mut s1 = [0u8; HANDSHAKE_SIZE];
        let mut s2 = [0u8; HANDSHAKE_SIZE];
        s1.copy_from_slice(&b[1..1 + HANDSHAKE_SIZE]);
        s2.copy_from_slice(&b[1 + HANDSHAKE_SIZE..]);
        let c1_info = parse_hello(&c1, Role::Client);
        let s2_check = check_response(&c1, &c1_info, &s2, Role::Server);
        let s1_digest = parse_hello(&s1, Role::Server).digest.is_some();
        let (dir, offset) = (Direction::ServerToClient, 0);
        self.log(WireEntry {
            dir,
            offset,
            kind: "handshake",
            summary: format!(
                "S0 version {}, S1 {}, S2 {}",
                b[0],
                if s1_digest { "with a valid server digest" } else { "plain" },
                s2_check.outcome.as_str()
            ),
            hex: hex_window(&b[..HEX_EXCERPT], HEX_EXCERPT),
        });
        Ok(ServerHello { s0: b[0], s1, s2, c1, s2_check, s1_digest })
    }

    /// Reads S0 S1 S2 after our C0 C1 and checks them (a server may withhold S2 until C2:
    /// prefer [`Ctx::finish_handshake`], which sends C2 after S1).
    pub fn read_server_hello(&mut self, c1: [u8; HANDSHAKE_SIZE]) -> Result<ServerHello, ConnError> {
        self.read_s0s1()?;
        self.read_s2(c1)
    }

    /// The C2 a conforming client sends for S1: signed when S1 carries a server digest, an
    /// echo otherwise.
    pub fn c2_for(s1: &[u8; HANDSHAKE_SIZE]) -> [u8; HANDSHAKE_SIZE] {
        let s1_info = parse_hello(s1, Role::Server);
        make_response(s1, &s1_info, Role::Client, 0, C1_RANDOM)
    }

    /// The C2 a conforming client sends for `hello`.
    pub fn make_c2(hello: &ServerHello) -> [u8; HANDSHAKE_SIZE] {
        Ctx::c2_for(&hello.s1)
    }

    /// After our C0 C1: reads S0 S1, sends C2 (`c2`, or the conforming one), reads S2. C2
    /// goes out as soon as S1 is in (RTMP 1.0 §5.2.1 lets the server wait for it before S2).
    pub fn finish_handshake(
        &mut self,
        c1: [u8; HANDSHAKE_SIZE],
        c2: Option<[u8; HANDSHAKE_SIZE]>,
    ) -> Step<ServerHello> {
        let (_, s1) = self.read_s0s1().map_err(|e| self.lost("the handshake (S0 S1)", e))?;
        let (c2, what) = match c2 {
            Some(c) => (c, "C2 (given)"),
            None => (Ctx::c2_for(&s1), "C2"),
        };
        self.send_raw_step(&c2, what)?;
        self.read_s2(c1).map_err(|e| self.lost("the handshake (S2)", e))
    }

    /// A whole handshake in `form`: C0 C1, S0 S1, C2, S2.
    pub fn handshake(&mut self, form: HandshakeForm) -> Step<ServerHello> {
        self.open()?;
        let c1 = Ctx::make_c1(form);
        let mut c0c1 = vec![RTMP_VERSION];
        c0c1.extend_from_slice(&c1);
        let what = match form {
            HandshakeForm::Plain => "C0 C1 (plain)".to_string(),
            HandshakeForm::Digest(sc) => format!("C0 C1 (digest, {})", sc.as_str()),
        };
        self.send_raw_step(&c0c1, &what)?;
        self.finish_handshake(c1, None)
    }

    // ----- messages -----

    /// Encodes (without sending) a message with the most compact header; to send several
    /// messages in one write with [`Ctx::send_raw`], so the server reads them together
    /// whatever the network does and the verdict does not depend on timing.
    pub fn encode_message(
        &mut self,
        csid: u32,
        timestamp: u32,
        ty: MessageType,
        stream_id: u32,
        payload: &[u8],
    ) -> Vec<u8> {
        let mut out = Vec::new();
        self.enc.write(&mut out, csid, timestamp, ty, stream_id, payload);
        out
    }

    /// Encodes a message whose first chunk header has format `fmt` (see [`Ctx::encode_message`]).
    pub fn encode_message_fmt(
        &mut self,
        fmt: u8,
        csid: u32,
        timestamp: u32,
        ty: MessageType,
        stream_id: u32,
        payload: &[u8],
    ) -> Vec<u8> {
        let mut out = Vec::new();
        self.enc.write_with(&mut out, fmt, csid, timestamp, ty, stream_id, payload);
        out
    }

    /// Encodes a protocol control message on chunk stream 2; Set Chunk Size changes our
    /// encoder's size as [`Ctx::control`] does.
    pub fn encode_control(&mut self, msg: ControlMessage) -> Vec<u8> {
        let (ty, body) = encode_control(&msg);
        let out = self.encode_message(CSID_CONTROL, 0, ty, 0, &body);
        if let ControlMessage::SetChunkSize { size } = msg {
            let v = size & 0x7FFF_FFFF;
            if v > 0 {
                self.enc.chunk_size = v;
            }
        }
        out
    }

    /// Encodes an AMF0 command (type 20).
    pub fn encode_command(&mut self, csid: u32, stream_id: u32, values: &[AmfValue]) -> Vec<u8> {
        let mut body = Vec::new();
        amf0::encode_values(values, &mut body);
        self.encode_message(csid, 0, MessageType::COMMAND_AMF0, stream_id, &body)
    }

    /// Sends a message with the most compact header the chunk stream allows.
    pub fn send_message(
        &mut self,
        csid: u32,
        timestamp: u32,
        ty: MessageType,
        stream_id: u32,
        payload: &[u8],
    ) -> Result<(), ConnError> {
        let mut out = Vec::new();
        self.enc.write(&mut out, csid, timestamp, ty, stream_id, payload);
        let summary = format!("{ty} csid {csid} stream {stream_id} ts {timestamp}, {} bytes", payload.len());
        self.send_raw(&out, summary)
    }

    /// Sends a message whose first chunk header has format `fmt`.
    pub fn send_message_fmt(
        &mut self,
        fmt: u8,
        csid: u32,
        timestamp: u32,
        ty: MessageType,
        stream_id: u32,
        payload: &[u8],
    ) -> Result<(), ConnError> {
        let mut out = Vec::new();
        self.enc.write_with(&mut out, fmt, csid, timestamp, ty, stream_id, payload);
        let summary = format!("{ty} fmt {fmt} csid {csid} stream {stream_id} ts {timestamp}, {} bytes", payload.len());
        self.send_raw(&out, summary)
    }

    /// Sends a protocol control message on chunk stream 2. Set Chunk Size also changes our
    /// encoder's chunk size (values with the top bit set are masked as a receiver would, and 0
    /// is not applied).
    pub fn control(&mut self, msg: ControlMessage) -> Result<(), ConnError> {
        let (ty, body) = encode_control(&msg);
        let mut out = Vec::new();
        self.enc.write(&mut out, CSID_CONTROL, 0, ty, 0, &body);
        let r = self.send_raw(&out, describe_control(&msg));
        if let ControlMessage::SetChunkSize { size } = msg {
            let v = size & 0x7FFF_FFFF;
            if v > 0 {
                self.enc.chunk_size = v;
            }
        }
        r
    }

    /// Sends a user control event on chunk stream 2.
    pub fn user_control(&mut self, ev: &UserControlEvent) -> Result<(), ConnError> {
        let body = encode_user_control(ev);
        let mut out = Vec::new();
        self.enc.write(&mut out, CSID_CONTROL, 0, MessageType::USER_CONTROL, 0, &body);
        let what = match &ev.data {
            EventData::Timestamp { timestamp } => format!("user control {} {timestamp}", ev.event_type),
            EventData::Stream { stream_id } => format!("user control {} stream {stream_id}", ev.event_type),
            other => format!("user control {} {other:?}", ev.event_type),
        };
        self.send_raw(&out, what)
    }

    /// Sends an AMF0 command (type 20).
    pub fn command(&mut self, csid: u32, stream_id: u32, values: &[AmfValue]) -> Result<(), ConnError> {
        let mut body = Vec::new();
        amf0::encode_values(values, &mut body);
        let mut out = Vec::new();
        self.enc.write(&mut out, csid, 0, MessageType::COMMAND_AMF0, stream_id, &body);
        let name = values.first().and_then(|v| v.as_str()).unwrap_or("?");
        let txn = values.get(1).and_then(|v| v.as_number()).map(|t| format!(" txn {t}")).unwrap_or_default();
        self.send_raw(&out, format!("command {name}{txn} csid {csid} stream {stream_id}"))
    }

    /// The values of a connect command (transaction 1) for `app`, with `extra` properties.
    pub fn connect_values(&self, app: &str, extra: &[(&str, AmfValue)]) -> Vec<AmfValue> {
        let mut props = vec![
            ("app".to_string(), s(app)),
            ("type".to_string(), s("nonprivate")),
            ("flashVer".to_string(), s("FMLE/3.0 (compatible; rtmpscope check)")),
            ("tcUrl".to_string(), s(&self.target.tc_url(app))),
        ];
        props.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
        vec![s("connect"), n(1.0), AmfValue::Object(props)]
    }

    /// Sends connect (transaction 1) and waits for its answer; `Ok` holds the answer, whatever
    /// it is. Marks the connection connected on `_result`.
    pub fn connect_with(&mut self, app: &str, extra: &[(&str, AmfValue)]) -> Step<Answer> {
        let v = self.connect_values(app, extra);
        self.command(CSID_COMMAND, 0, &v).map_err(|e| self.lost("connect", e))?;
        let a = self.wait_answer(1.0).map_err(|e| self.lost("the answer to connect", e))?;
        if matches!(a, Answer::Result(_)) {
            self.connected = true;
        }
        Ok(a)
    }

    /// Plain handshake and connect to the target's application; a refused connect ends the
    /// case as skipped (the precondition is missing).
    pub fn connect(&mut self) -> Step<()> {
        self.handshake(HandshakeForm::Plain)?;
        let app = self.target.app.clone();
        match self.connect_with(&app, &[])? {
            Answer::Result(_) => {
                // Set-up is over: what comes next is the reaction to the case's stimulus.
                self.reaction = Some(Reaction::Continued);
                Ok(())
            }
            Answer::Error(m) => Err(Outcome::skipped(format!(
                "the server refused connect to \"{app}\" ({}), which this case needs",
                command_of(&m).and_then(info_code).unwrap_or("no code")
            ))),
        }
    }

    /// createStream; returns the new message stream id.
    pub fn create_stream(&mut self) -> Step<u32> {
        let txn = self.txn();
        self.command(CSID_COMMAND, 0, &[s("createStream"), n(txn), AmfValue::Null])
            .map_err(|e| self.lost("createStream", e))?;
        match self.wait_answer(txn).map_err(|e| self.lost("the answer to createStream", e))? {
            Answer::Result(m) => command_of(&m)
                .and_then(|c| c.arguments.first())
                .and_then(|v| v.as_number())
                .filter(|v| v.fract() == 0.0 && *v >= 0.0 && *v <= f64::from(u32::MAX))
                .map(|v| v as u32)
                .ok_or_else(|| {
                    Outcome::error("a stream id in createStream's _result", "no numeric stream id in _result")
                }),
            Answer::Error(m) => Err(Outcome::skipped(format!(
                "createStream was refused ({}), which this case needs",
                command_of(&m).and_then(info_code).unwrap_or("no code")
            ))),
        }
    }

    /// Sends publish on `stream_id` (chunk stream 8) and returns the first onStatus code.
    pub fn publish(&mut self, stream_id: u32, name: &str) -> Step<String> {
        self.command(8, stream_id, &[s("publish"), n(0.0), AmfValue::Null, s(name), s("live")])
            .map_err(|e| self.lost("publish", e))?;
        self.wait_status().map_err(|e| self.lost("the onStatus answering publish", e))
    }

    /// Sends play on `stream_id` (chunk stream 8) and returns the first onStatus code.
    pub fn play(&mut self, stream_id: u32, name: &str) -> Step<String> {
        self.command(8, stream_id, &[s("play"), n(0.0), AmfValue::Null, s(name)]).map_err(|e| self.lost("play", e))?;
        self.wait_status().map_err(|e| self.lost("the onStatus answering play", e))
    }

    /// Connect, createStream and publish under a name unique to this connection; returns the
    /// stream id. A publish that does not start ends the case as skipped.
    pub fn start_publishing(&mut self) -> Step<u32> {
        self.connect()?;
        let sid = self.create_stream()?;
        let name = self.target.stream_name(self.local_port.unwrap_or(0));
        let code = self.publish(sid, &name)?;
        if code != "NetStream.Publish.Start" {
            return Err(Outcome::skipped(format!(
                "publish of \"{name}\" answered {code}, which this case needs to start"
            )));
        }
        self.reaction = Some(Reaction::Continued);
        Ok(sid)
    }

    /// Liveness: a fresh connection handshakes and connects within the timeout.
    pub fn alive(target: &Target, timeout: Duration) -> Result<(), String> {
        let mut c = Ctx::new(target.clone(), timeout, timeout * 3);
        c.handshake(HandshakeForm::Plain).map_err(|o| o.actual)?;
        let app = target.app.clone();
        match c.connect_with(&app, &[]).map_err(|o| o.actual)? {
            Answer::Result(_) => Ok(()),
            Answer::Error(m) => Err(format!(
                "connect to \"{app}\" was refused: {}",
                command_of(&m).and_then(info_code).unwrap_or("_error without a code")
            )),
        }
    }
}

/// The command of a message, if it is one.
pub fn command_of(m: &Message) -> Option<&Command> {
    match &m.body {
        MessageBody::Command(c) => Some(c),
        _ => None,
    }
}

/// The `code` of a command's information object (the first argument object carrying one).
pub fn info_code(c: &Command) -> Option<&str> {
    c.arguments.iter().chain(c.command_object.iter()).find_map(|v| v.get("code").and_then(|c| c.as_str()))
}

/// The `level` of a command's information object.
pub fn info_level(c: &Command) -> Option<&str> {
    c.arguments.iter().chain(c.command_object.iter()).find_map(|v| v.get("level").and_then(|c| c.as_str()))
}

/// A protocol control message in words.
pub fn describe_control(c: &ControlMessage) -> String {
    match c {
        ControlMessage::SetChunkSize { size } => format!("Set Chunk Size {size}"),
        ControlMessage::Abort { chunk_stream_id } => format!("Abort chunk stream {chunk_stream_id}"),
        ControlMessage::Acknowledgement { sequence_number } => format!("Acknowledgement {sequence_number}"),
        ControlMessage::WindowAckSize { size } => format!("Window Acknowledgement Size {size}"),
        ControlMessage::SetPeerBandwidth { size, limit_type } => match limit_type {
            Some(l) => format!("Set Peer Bandwidth {size} {l}"),
            None => format!("Set Peer Bandwidth {size} (no limit type)"),
        },
    }
}

/// One line describing a server message for the wire log.
pub fn describe(m: &Message) -> String {
    let head = format!("csid {} stream {} ts {}", m.csid, m.stream_id, m.timestamp);
    let body = match &m.body {
        MessageBody::Control(c) => describe_control(c),
        MessageBody::UserControl(u) => match &u.data {
            EventData::Stream { stream_id } => format!("User Control {} stream {stream_id}", u.event_type),
            EventData::BufferLength { stream_id, buffer_ms } => {
                format!("User Control {} stream {stream_id} {buffer_ms} ms", u.event_type)
            }
            EventData::Timestamp { timestamp } => format!("User Control {} {timestamp}", u.event_type),
            EventData::Raw { bytes } => format!("User Control {} ({} bytes)", u.event_type, bytes.len()),
        },
        MessageBody::Command(c) => {
            let mut t = format!("command {}", c.name.as_deref().unwrap_or("(no name)"));
            if let Some(x) = c.transaction_id {
                t.push_str(&format!(" txn {x}"));
            }
            if let Some(code) = info_code(c) {
                t.push_str(&format!(" {code}"));
            }
            t
        }
        MessageBody::Data(d) => format!("data {}", d.name.as_deref().unwrap_or("(no name)")),
        MessageBody::Audio(_) => format!("audio {} bytes", m.length),
        MessageBody::Video(_) => format!("video {} bytes", m.length),
        MessageBody::Aggregate(a) => format!("aggregate of {} messages", a.count),
        MessageBody::SharedObject(_) => format!("shared object message {} bytes", m.length),
        MessageBody::Raw { reason, .. } => format!("{} {} bytes ({reason})", m.type_id, m.length),
    };
    format!("{head}: {body}")
}
