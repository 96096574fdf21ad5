//! Stateful checks: commands and their sequencing (RTMP 1.0 §7.2, RTMP errata §8).
//!
//! Tracks the connect exchange, outstanding transactions of each direction, the message
//! streams createStream returned, and the object encoding both sides agreed on. Checks that
//! need the whole history (what was asked before, which streams exist) only run while the
//! session is known to be complete: seen from its handshake, with no bytes or messages lost.

use super::{CheckIssue, Completeness};
use crate::session::{Message, MessageBody, SessionEvent};
use crate::wire::amf::AmfValue;
use crate::wire::message::command::Command;
use crate::wire::message::MessageType;
use crate::wire::Direction;
use std::collections::VecDeque;

/// Requests of one direction waiting for an answer. A peer that never answers (or a flood of
/// calls) would otherwise grow this without end; past the cap, matching stops for the
/// direction and one `command.tracking-limit` finding says so.
const MAX_OUTSTANDING: usize = 256;
/// Recently answered transaction ids per direction, to tell a duplicate answer from a stray one.
const MAX_ANSWERED: usize = 64;
/// Message streams remembered (live and ever created).
const MAX_STREAMS: usize = 1024;
/// Command names kept for reports are cut to this many characters.
const MAX_NAME: usize = 64;

/// Commands that act on a NetStream and ride its message stream (RTMP 1.0 §7.2.2).
const NETSTREAM_COMMANDS: &[&str] =
    &["play", "play2", "publish", "closeStream", "receiveAudio", "receiveVideo", "seek", "pause"];

/// Requests that need no `_result`: NetStream commands are answered with onStatus (RTMP 1.0
/// §7.2.2), deleteStream has no answer (§7.2.2.3), and the de-facto FMLE/Limelight calls may go
/// unanswered.
const NO_ANSWER_NEEDED: &[&str] = &[
    "play",
    "play2",
    "publish",
    "closeStream",
    "receiveAudio",
    "receiveVideo",
    "seek",
    "pause",
    "deleteStream",
    "releaseStream",
    "FCPublish",
    "FCUnpublish",
    "FCSubscribe",
    "FCUnsubscribe",
    "_checkbw",
];

/// Code suffixes that report a failure; their onStatus level is not `status`.
const FAILURE_SUFFIXES: &[&str] = &[
    ".Failed",
    ".BadName",
    ".StreamNotFound",
    ".Rejected",
    ".InvalidApp",
    ".NoAccess",
    ".Prohibited",
    ".BadVersion",
    ".InsufficientBW",
    ".FileStructureInvalid",
    ".NoSupportedTrackFound",
    ".InvalidTime",
];
/// Code suffixes that report success; their onStatus level is not `error`.
const SUCCESS_SUFFIXES: &[&str] = &[".Start", ".Success"];

fn short(name: &str) -> String {
    name.chars().take(MAX_NAME).collect()
}

fn issue(m: &Message, rule: &'static str, detail: String) -> CheckIssue {
    CheckIssue::new(m.direction, m.offset, rule, detail, Some(m.index))
}

#[derive(Debug)]
struct Request {
    txn: f64,
    name: String,
    offset: u64,
    index: u64,
}

#[derive(Debug, Default)]
struct Side {
    /// Requests this direction sent that may still be answered.
    outstanding: Vec<Request>,
    /// (transaction id, offset of the answer) of requests of this direction already answered.
    answered: VecDeque<(f64, u64)>,
    /// The outstanding list hit its cap: matching for this direction stopped.
    overflowed: bool,
}

#[derive(Debug)]
struct Connect {
    offset: u64,
    /// objectEncoding the client offered (absent means 0).
    offered_encoding: f64,
}

#[derive(Debug, Default)]
pub(crate) struct CommandChecks {
    /// Seen from the handshake on, with nothing lost since.
    complete: Completeness,
    connect: Option<Connect>,
    /// Both sides agreed on objectEncoding 3.
    amf3_negotiated: bool,
    /// The connect got its _result or _error.
    connect_answered: bool,
    sides: [Side; 2],
    /// Stream ids createStream returned and deleteStream has not removed.
    live_streams: Vec<u32>,
    /// Every stream id createStream returned.
    created_streams: Vec<u32>,
    limit_reported: bool,
}

impl CommandChecks {
    pub(crate) fn on_event(&mut self, ev: &SessionEvent, out: &mut Vec<CheckIssue>) {
        if let Some(m) = self.complete.follow(ev) {
            self.on_message(m, out);
        }
    }

    pub(crate) fn finish(&mut self, out: &mut Vec<CheckIssue>) {
        if !self.complete.is_complete() {
            return;
        }
        for dir in Direction::BOTH {
            let side = &mut self.sides[dir.index()];
            if side.overflowed {
                continue;
            }
            for r in side.outstanding.drain(..) {
                if NO_ANSWER_NEEDED.contains(&r.name.as_str()) {
                    continue;
                }
                // RTMP 1.0 §7.2.1.1, §7.2.1.3: the server answers connect and createStream with
                // _result or _error.
                let (rule, what) = if r.name == "connect" || r.name == "createStream" {
                    ("command.no-answer", "the peer must answer it with _result or _error")
                } else {
                    // RTMP 1.0 §7.2.1.2: a call with a non-zero transaction id expects an answer.
                    ("command.call-unanswered", "a call with a non-zero transaction id expects _result or _error")
                };
                out.push(CheckIssue::new(
                    dir,
                    r.offset,
                    rule,
                    format!("{}({}) was never answered before the session ended; {what}", r.name, fmt_num(r.txn)),
                    Some(r.index),
                ));
            }
        }
    }

    fn on_message(&mut self, m: &Message, out: &mut Vec<CheckIssue>) {
        self.check_amf3_envelope(m, out);
        let MessageBody::Command(c) = &m.body else { return };
        let Some(name) = c.name.as_deref() else { return };
        match name {
            "connect" => self.on_connect(m, c, out),
            "_result" | "_error" => self.on_answer(m, c, name, out),
            "onStatus" => self.on_status(m, c, out),
            _ => {}
        }
        if !matches!(name, "connect" | "_result" | "_error" | "onStatus") {
            self.check_after_connect(m, name, out);
            if NETSTREAM_COMMANDS.contains(&name) && m.direction == Direction::ClientToServer {
                self.on_netstream_command(m, c, name, out);
            }
            if name == "deleteStream" {
                if let Some(id) = c.arguments.first().and_then(AmfValue::as_number) {
                    self.live_streams.retain(|s| f64::from(*s) != id);
                }
            }
            if let Some(txn) = c.transaction_id {
                if txn != 0.0 && !txn.is_nan() {
                    self.add_request(m, txn, name, out);
                }
            }
        }
    }

    /// RTMP 1.0 §7.2.1.1 (derived): connect opens the NetConnection; nothing is asked before it.
    fn check_after_connect(&mut self, m: &Message, name: &str, out: &mut Vec<CheckIssue>) {
        if self.complete.is_complete() && self.connect.is_none() {
            out.push(issue(
                m,
                "command.before-connect",
                format!("{name} was sent before any connect; connect is the first command of a connection"),
            ));
        }
    }

    fn on_connect(&mut self, m: &Message, c: &Command, out: &mut Vec<CheckIssue>) {
        // RTMP 1.0 §7.2.1.1 (derived): one connect per connection.
        if let Some(first) = &self.connect {
            out.push(issue(
                m,
                "command.connect-repeated",
                format!("a second connect, after the one at offset {}; a connection is connected once", first.offset),
            ));
        }
        // RTMP 1.0 §7.2.1.1: the transaction id of connect is always 1.
        match c.transaction_id {
            Some(1.0) => {}
            Some(t) => out.push(issue(
                m,
                "command.connect-transaction-id",
                format!("connect has transaction id {}; RTMP 1.0 sets it to 1", fmt_num(t)),
            )),
            None => {}
        }
        // RTMP 1.0 §7.2.1.1; RTMP errata §8.1.2-8.1.3: the command object names app and tcUrl.
        let obj = c.command_object.as_ref();
        for key in ["app", "tcUrl"] {
            let found = obj.and_then(|o| o.get(key));
            let problem = match found {
                Some(AmfValue::String(_)) => None,
                Some(v) => Some(format!("connect property {key} is a {}, not a string", v.type_name())),
                None => Some(format!(
                    "connect command object has no {key} property{}",
                    if obj.and_then(AmfValue::entries).is_none() { " (no command object at all)" } else { "" }
                )),
            };
            if let Some(d) = problem {
                out.push(issue(m, "command.connect-missing-field", d));
            }
        }
        // RTMP 1.0 §7.2.1: NetConnection commands ride message stream 0.
        if m.stream_id != 0 {
            out.push(issue(
                m,
                "command.connect-stream-nonzero",
                format!("connect was sent on message stream {}; NetConnection commands use stream 0", m.stream_id),
            ));
        }
        if self.connect.is_none() {
            let offered = obj.and_then(|o| o.get("objectEncoding")).and_then(AmfValue::as_number).unwrap_or(0.0);
            self.connect = Some(Connect { offset: m.offset, offered_encoding: offered });
        }
        if let Some(txn) = c.transaction_id {
            if txn != 0.0 && !txn.is_nan() {
                self.add_request(m, txn, "connect", out);
            }
        }
    }

    fn add_request(&mut self, m: &Message, txn: f64, name: &str, out: &mut Vec<CheckIssue>) {
        let side = &mut self.sides[m.direction.index()];
        if side.overflowed {
            return;
        }
        // A reused id replaces the older request: the answer can only be matched to one.
        side.outstanding.retain(|r| r.txn != txn);
        side.answered.retain(|(t, _)| *t != txn);
        if side.outstanding.len() >= MAX_OUTSTANDING {
            side.overflowed = true;
            side.outstanding.clear();
            if !self.limit_reported {
                self.limit_reported = true;
                out.push(issue(
                    m,
                    "command.tracking-limit",
                    format!(
                        "more than {MAX_OUTSTANDING} requests of this direction wait for an answer; answers to \
                         them are no longer matched"
                    ),
                ));
            }
            return;
        }
        side.outstanding.push(Request { txn, name: short(name), offset: m.offset, index: m.index });
    }

    fn on_answer(&mut self, m: &Message, c: &Command, name: &str, out: &mut Vec<CheckIssue>) {
        let Some(txn) = c.transaction_id else { return };
        if txn == 0.0 {
            // RTMP 1.0 §7.2.1.2 (derived): transaction id 0 asks for no answer.
            out.push(issue(
                m,
                "command.answer-to-txn-zero",
                format!("{name} carries transaction id 0, which marks requests that expect no answer"),
            ));
            return;
        }
        let requester = m.direction.reverse();
        let side = &mut self.sides[requester.index()];
        if side.overflowed {
            return;
        }
        let Some(pos) = side.outstanding.iter().position(|r| r.txn == txn) else {
            // RTMP 1.0 §7.2 (derived): an answer repeats the id of one request of the peer, once.
            if self.complete.is_complete() {
                let detail = match side.answered.iter().find(|(t, _)| *t == txn) {
                    Some((_, at)) => format!(
                        "{name}({}) answers a request already answered at offset {at}; each request gets one answer",
                        fmt_num(txn)
                    ),
                    None => format!("{name}({}) matches no request of the peer with that transaction id", fmt_num(txn)),
                };
                out.push(issue(m, "command.response-unmatched", detail));
            }
            return;
        };
        let req = side.outstanding.remove(pos);
        if side.answered.len() >= MAX_ANSWERED {
            side.answered.pop_front();
        }
        side.answered.push_back((txn, m.offset));
        match req.name.as_str() {
            "connect" => self.on_connect_answer(m, c, name, out),
            "createStream" if name == "_result" => self.on_create_stream_result(m, c, out),
            _ => {}
        }
    }

    fn on_connect_answer(&mut self, m: &Message, c: &Command, name: &str, out: &mut Vec<CheckIssue>) {
        self.connect_answered = true;
        if name != "_result" {
            return;
        }
        let info = c.arguments.first();
        let code = info.and_then(|i| i.get("code")).and_then(AmfValue::as_str);
        let level = info.and_then(|i| i.get("level")).and_then(AmfValue::as_str);
        // RTMP 1.0 §7.2.1.1: a successful connect answers with code NetConnection.Connect.Success.
        if code != Some("NetConnection.Connect.Success") || level != Some("status") {
            out.push(issue(
                m,
                "command.connect-result-status",
                format!(
                    "connect _result has code {} and level {}; success is code NetConnection.Connect.Success with \
                     level status",
                    code.map_or("(none)".to_string(), |s| format!("{s:?}")),
                    level.map_or("(none)".to_string(), |s| format!("{s:?}")),
                ),
            ));
        }
        // RTMP errata §8.1.1: the server answers with an encoding no higher than the client's.
        let offered = self.connect.as_ref().map_or(0.0, |c| c.offered_encoding);
        let answered = info.and_then(|i| i.get("objectEncoding")).and_then(AmfValue::as_number);
        if let Some(enc) = answered {
            if enc > offered {
                out.push(issue(
                    m,
                    "command.object-encoding-upgraded",
                    format!(
                        "connect _result selects objectEncoding {} but the client offered {}",
                        fmt_num(enc),
                        fmt_num(offered)
                    ),
                ));
            }
        }
        self.amf3_negotiated = offered == 3.0 && answered == Some(3.0);
    }

    fn on_create_stream_result(&mut self, m: &Message, c: &Command, out: &mut Vec<CheckIssue>) {
        // RTMP 1.0 §7.2.1.3; RTMP errata §7: the stream id is an integer 1..2^24-1.
        let problem = match c.arguments.first() {
            None => Some("createStream _result carries no stream id".to_string()),
            Some(AmfValue::Number(id)) => {
                if id.fract() != 0.0 || !(1.0..=16_777_215.0).contains(id) {
                    Some(format!("createStream _result returns stream id {}, not an integer 1..16777215", fmt_num(*id)))
                } else if self.live_streams.contains(&(*id as u32)) {
                    Some(format!("createStream _result returns stream id {}, which is already in use", fmt_num(*id)))
                } else {
                    None
                }
            }
            Some(v) => Some(format!("createStream _result returns a {} as stream id, not a number", v.type_name())),
        };
        match problem {
            Some(d) => out.push(issue(m, "command.create-stream-id-invalid", d)),
            None => {
                if let Some(id) = c.arguments.first().and_then(AmfValue::as_number) {
                    let id = id as u32;
                    // Bounded: a session creating more streams than this stops being tracked for
                    // new ones; `complete` is cleared so unknown-stream checks stay quiet.
                    if self.live_streams.len() >= MAX_STREAMS || self.created_streams.len() >= MAX_STREAMS {
                        self.complete.lose();
                        return;
                    }
                    self.live_streams.push(id);
                    if !self.created_streams.contains(&id) {
                        self.created_streams.push(id);
                    }
                }
            }
        }
    }

    fn on_netstream_command(&mut self, m: &Message, c: &Command, name: &str, out: &mut Vec<CheckIssue>) {
        // RTMP 1.0 §7.2.2: NetStream commands go on a stream createStream returned.
        if self.complete.is_complete() && !self.live_streams.contains(&m.stream_id) {
            let why = if m.stream_id == 0 {
                "stream 0 is the NetConnection's".to_string()
            } else if self.created_streams.contains(&m.stream_id) {
                "that stream was deleted".to_string()
            } else {
                "no createStream returned that id".to_string()
            };
            out.push(issue(
                m,
                "command.netstream-unknown-stream",
                format!("{name} was sent on message stream {}; {why}", m.stream_id),
            ));
        }
        // RTMP 1.0 §7.2.2.1, §7.2.2.6: play and publish carry transaction id 0.
        if matches!(name, "play" | "publish") {
            if let Some(t) = c.transaction_id {
                if t != 0.0 {
                    out.push(issue(
                        m,
                        "command.netstream-transaction-id",
                        format!(
                            "{name} has transaction id {} where RTMP 1.0 lists 0; a known habit of FFmpeg and \
                             librtmp (rtmpdump, OBS), accepted by servers",
                            fmt_num(t)
                        ),
                    ));
                }
            }
        }
    }

    fn on_status(&mut self, m: &Message, c: &Command, out: &mut Vec<CheckIssue>) {
        self.check_after_connect(m, "onStatus", out);
        // RTMP 1.0 §7.2.2: onStatus has transaction id 0 and a null command object.
        let txn_ok = c.transaction_id == Some(0.0);
        let obj_ok = matches!(c.command_object, Some(AmfValue::Null));
        if !txn_ok || !obj_ok {
            let mut parts = Vec::new();
            if !txn_ok {
                parts.push(format!("transaction id {}", c.transaction_id.map_or("(none)".to_string(), fmt_num)));
            }
            if !obj_ok {
                parts.push(format!("command object {}", c.command_object.as_ref().map_or("(none)", |v| v.type_name())));
            }
            out.push(issue(
                m,
                "command.onstatus-header",
                format!("onStatus has {}; it carries transaction id 0 and a null command object", parts.join(" and ")),
            ));
        }
        // RTMP 1.0 §7.2.2: the info object has level and code strings, and a description.
        let info = c.arguments.first();
        let Some(info) = info.filter(|i| i.entries().is_some()) else {
            out.push(issue(
                m,
                "command.onstatus-info-object",
                format!(
                    "onStatus carries {} where an info object with level, code and description belongs",
                    c.arguments.first().map_or("nothing", |v| v.type_name())
                ),
            ));
            return;
        };
        let level = info.get("level").and_then(AmfValue::as_str);
        let code = info.get("code").and_then(AmfValue::as_str);
        let mut problems = Vec::new();
        match level {
            Some("status" | "warning" | "error") => {}
            Some(l) => problems.push(format!("level {l:?} is not status, warning or error")),
            None => problems.push("level is missing or not a string".to_string()),
        }
        if code.is_none() {
            problems.push("code is missing or not a string".to_string());
        }
        if !problems.is_empty() {
            out.push(issue(
                m,
                "command.onstatus-info-object",
                format!("onStatus info object: {}", problems.join("; ")),
            ));
        }
        if info.get("description").is_none() {
            out.push(issue(
                m,
                "command.onstatus-no-description",
                format!("onStatus {} has no description", code.unwrap_or("(no code)")),
            ));
        }
        if let (Some(level), Some(code)) = (level, code) {
            let failure = FAILURE_SUFFIXES.iter().any(|s| code.ends_with(s));
            let success = SUCCESS_SUFFIXES.iter().any(|s| code.ends_with(s));
            if (failure && level == "status") || (success && level == "error") {
                out.push(issue(
                    m,
                    "command.onstatus-level-mismatch",
                    format!(
                        "onStatus code {code} reports {} but has level {level}",
                        if failure { "a failure" } else { "success" }
                    ),
                ));
            }
            self.check_status_stream(m, code, out);
        }
    }

    /// RTMP 1.0 §7.2.2: NetStream status travels on its stream, NetConnection status on 0.
    fn check_status_stream(&self, m: &Message, code: &str, out: &mut Vec<CheckIssue>) {
        let detail = if code.starts_with("NetStream.") {
            if m.stream_id == 0 {
                Some(format!("{code} was sent on message stream 0, not on the NetStream's own stream"))
            } else if self.complete.is_complete() && !self.created_streams.contains(&m.stream_id) {
                Some(format!("{code} was sent on message stream {}, which no createStream returned", m.stream_id))
            } else {
                None
            }
        } else if code.starts_with("NetConnection.") && m.stream_id != 0 {
            Some(format!("{code} was sent on message stream {}, not on stream 0", m.stream_id))
        } else {
            None
        };
        if let Some(d) = detail {
            out.push(issue(m, "command.onstatus-wrong-stream", d));
        }
    }

    /// RTMP errata §8.1.1: types 17 and 15 only after objectEncoding 3 was agreed.
    fn check_amf3_envelope(&mut self, m: &Message, out: &mut Vec<CheckIssue>) {
        if m.type_id != MessageType::COMMAND_AMF3 && m.type_id != MessageType::DATA_AMF3 {
            return;
        }
        if !self.complete.is_complete() {
            return;
        }
        let allowed = if self.connect_answered {
            self.amf3_negotiated
        } else {
            // Before the answer only the client's offer is known.
            self.connect.as_ref().is_some_and(|c| c.offered_encoding == 3.0)
                || (m.direction == Direction::ClientToServer && m.name() == Some("connect"))
        };
        if !allowed {
            let state = match (&self.connect, self.connect_answered) {
                (None, _) => "before any connect".to_string(),
                (Some(c), false) => {
                    format!("while the connect offering objectEncoding {} is unanswered", fmt_num(c.offered_encoding))
                }
                (Some(c), true) => {
                    format!("after connect agreed on objectEncoding 0 (client offered {})", fmt_num(c.offered_encoding))
                }
            };
            out.push(issue(
                m,
                "command.amf3-not-negotiated",
                format!("{} message (type {}) {state}; types 17 and 15 need objectEncoding 3", m.type_id, m.type_id.0),
            ));
        }
    }
}

/// A number as written in reports: integers without a fraction.
fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}
