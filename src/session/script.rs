//! Scripted RTMP conversations: byte-exact client and server streams built message by message.
//! Tests use them to craft sessions that follow or break a rule; the check client uses the same
//! encoders to talk to servers.

use crate::wire::amf::{amf0, AmfValue};
use crate::wire::chunk::encoder::ChunkEncoder;
use crate::wire::handshake::{make_echo_response, make_hello, Role};
use crate::wire::message::control::{encode_control, ControlMessage, LimitType};
use crate::wire::message::user_control::{encode_user_control, UserControlEvent};
use crate::wire::message::MessageType;
use crate::wire::Direction;

/// Chunk stream ids conventionally used by encoders.
pub const CSID_CONTROL: u32 = 2;
pub const CSID_COMMAND: u32 = 3;
pub const CSID_AUDIO: u32 = 4;
pub const CSID_VIDEO: u32 = 6;
pub const CSID_STREAM_COMMAND: u32 = 8;

/// A conversation: the bytes of each write, in the order they were sent.
#[derive(Debug)]
pub struct Script {
    writes: Vec<(Direction, Vec<u8>)>,
    enc: [ChunkEncoder; 2],
    offsets: [u64; 2],
}

impl Default for Script {
    fn default() -> Self {
        Script::new()
    }
}

/// Shorthand for an AMF string.
pub fn s(v: &str) -> AmfValue {
    AmfValue::String(v.into())
}

/// Shorthand for an AMF number.
pub fn n(v: f64) -> AmfValue {
    AmfValue::Number(v)
}

/// Shorthand for an AMF object.
pub fn obj(entries: &[(&str, AmfValue)]) -> AmfValue {
    AmfValue::Object(entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
}

impl Script {
    /// An empty conversation (no handshake).
    pub fn new() -> Self {
        Script { writes: Vec::new(), enc: [ChunkEncoder::new(128), ChunkEncoder::new(128)], offsets: [0, 0] }
    }

    /// A conversation that starts with a plain handshake (C0 C1, S0 S1 S2, C2).
    pub fn with_handshake() -> Self {
        let mut sc = Script::new();
        let c1 = make_hello(Role::Client, 0, 0, None, b"rtmpscope client random");
        let s1 = make_hello(Role::Server, 0, 0, None, b"rtmpscope server random");
        let mut c = vec![3];
        c.extend_from_slice(&c1);
        let mut sv = vec![3];
        sv.extend_from_slice(&s1);
        sv.extend_from_slice(&make_echo_response(&c1, 0));
        sc.raw(Direction::ClientToServer, &c);
        sc.raw(Direction::ServerToClient, &sv);
        sc.raw(Direction::ClientToServer, &make_echo_response(&s1, 0));
        sc
    }

    /// The encoder of a direction (to change its chunk size without telling the peer, or how
    /// it writes extended timestamps).
    pub fn encoder(&mut self, dir: Direction) -> &mut ChunkEncoder {
        &mut self.enc[dir.index()]
    }

    /// Stream offset the next byte of `dir` will have.
    pub fn offset(&self, dir: Direction) -> u64 {
        self.offsets[dir.index()]
    }

    /// Appends raw bytes.
    pub fn raw(&mut self, dir: Direction, bytes: &[u8]) -> &mut Self {
        self.offsets[dir.index()] += bytes.len() as u64;
        match self.writes.last_mut() {
            Some((d, b)) if *d == dir => b.extend_from_slice(bytes),
            _ => self.writes.push((dir, bytes.to_vec())),
        }
        self
    }

    /// A message with the most compact headers the chunk stream allows.
    pub fn message(
        &mut self,
        dir: Direction,
        csid: u32,
        timestamp: u32,
        ty: MessageType,
        stream_id: u32,
        payload: &[u8],
    ) -> &mut Self {
        let mut out = Vec::new();
        self.enc[dir.index()].write(&mut out, csid, timestamp, ty, stream_id, payload);
        self.after(dir, ty, payload, out)
    }

    /// A message whose first chunk header has format `fmt`.
    #[allow(clippy::too_many_arguments)]
    pub fn message_fmt(
        &mut self,
        dir: Direction,
        fmt: u8,
        csid: u32,
        timestamp: u32,
        ty: MessageType,
        stream_id: u32,
        payload: &[u8],
    ) -> &mut Self {
        let mut out = Vec::new();
        self.enc[dir.index()].write_with(&mut out, fmt, csid, timestamp, ty, stream_id, payload);
        self.after(dir, ty, payload, out)
    }

    fn after(&mut self, dir: Direction, ty: MessageType, payload: &[u8], out: Vec<u8>) -> &mut Self {
        self.raw(dir, &out);
        // The sender's own chunk size changes once its Set Chunk Size is out.
        if ty == MessageType::SET_CHUNK_SIZE && payload.len() >= 4 {
            let v = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]) & 0x7FFF_FFFF;
            if v > 0 {
                self.enc[dir.index()].chunk_size = v;
            }
        }
        self
    }

    /// A protocol control message on chunk stream 2, message stream 0.
    pub fn control(&mut self, dir: Direction, msg: ControlMessage) -> &mut Self {
        let (ty, body) = encode_control(&msg);
        self.message(dir, CSID_CONTROL, 0, ty, 0, &body)
    }

    /// A user control event on chunk stream 2, message stream 0.
    pub fn user_control(&mut self, dir: Direction, ev: &UserControlEvent) -> &mut Self {
        let body = encode_user_control(ev);
        self.message(dir, CSID_CONTROL, 0, MessageType::USER_CONTROL, 0, &body)
    }

    /// An AMF0 command (type 20).
    pub fn command(&mut self, dir: Direction, csid: u32, stream_id: u32, values: &[AmfValue]) -> &mut Self {
        let mut body = Vec::new();
        amf0::encode_values(values, &mut body);
        self.message(dir, csid, 0, MessageType::COMMAND_AMF0, stream_id, &body)
    }

    /// An AMF0 data message (type 18).
    pub fn data(
        &mut self,
        dir: Direction,
        csid: u32,
        stream_id: u32,
        timestamp: u32,
        values: &[AmfValue],
    ) -> &mut Self {
        let mut body = Vec::new();
        amf0::encode_values(values, &mut body);
        self.message(dir, csid, timestamp, MessageType::DATA_AMF0, stream_id, &body)
    }

    /// A video message on chunk stream 6.
    pub fn video(&mut self, dir: Direction, stream_id: u32, timestamp: u32, payload: &[u8]) -> &mut Self {
        self.message(dir, CSID_VIDEO, timestamp, MessageType::VIDEO, stream_id, payload)
    }

    /// An audio message on chunk stream 4.
    pub fn audio(&mut self, dir: Direction, stream_id: u32, timestamp: u32, payload: &[u8]) -> &mut Self {
        self.message(dir, CSID_AUDIO, timestamp, MessageType::AUDIO, stream_id, payload)
    }

    /// The writes in order.
    pub fn writes(&self) -> &[(Direction, Vec<u8>)] {
        &self.writes
    }

    /// Everything one direction sent.
    pub fn bytes(&self, dir: Direction) -> Vec<u8> {
        self.writes.iter().filter(|(d, _)| *d == dir).flat_map(|(_, b)| b.iter().copied()).collect()
    }

    /// connect with transaction id 1 and the usual command object.
    pub fn connect(&mut self, app: &str) -> &mut Self {
        self.connect_with(app, &[])
    }

    /// connect with transaction id 1, the usual command object and `extra` properties after it
    /// (E-RTMP capabilities, objectEncoding, …).
    pub fn connect_with(&mut self, app: &str, extra: &[(&str, AmfValue)]) -> &mut Self {
        let tc_url = format!("rtmp://127.0.0.1:1935/{app}");
        let mut props = vec![
            ("app".to_string(), s(app)),
            ("type".to_string(), s("nonprivate")),
            ("flashVer".to_string(), s("FMLE/3.0 (compatible; rtmpscope)")),
            ("tcUrl".to_string(), s(&tc_url)),
        ];
        props.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
        self.command(Direction::ClientToServer, CSID_COMMAND, 0, &[s("connect"), n(1.0), AmfValue::Object(props)])
    }

    /// The server's usual answer to connect: Window Ack Size, Set Peer Bandwidth, Set Chunk
    /// Size 4096, StreamBegin 0, then _result.
    pub fn connect_result(&mut self) -> &mut Self {
        self.connect_result_with(&[])
    }

    /// `connect_result` with `extra` properties in the _result properties object (the server's
    /// E-RTMP capabilities, …).
    pub fn connect_result_with(&mut self, extra: &[(&str, AmfValue)]) -> &mut Self {
        use crate::wire::message::user_control::{EventData, EventType};
        let d = Direction::ServerToClient;
        self.control(d, ControlMessage::WindowAckSize { size: 2_500_000 });
        self.control(d, ControlMessage::SetPeerBandwidth { size: 2_500_000, limit_type: Some(LimitType(2)) });
        self.control(d, ControlMessage::SetChunkSize { size: 4096 });
        self.user_control(d, &UserControlEvent::new(EventType(0), EventData::Stream { stream_id: 0 }));
        let mut props = vec![("fmsVer".to_string(), s("FMS/3,0,1,123")), ("capabilities".to_string(), n(31.0))];
        props.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
        self.command(
            d,
            CSID_COMMAND,
            0,
            &[
                s("_result"),
                n(1.0),
                AmfValue::Object(props),
                obj(&[
                    ("level", s("status")),
                    ("code", s("NetConnection.Connect.Success")),
                    ("description", s("Connection succeeded.")),
                    ("objectEncoding", n(0.0)),
                ]),
            ],
        )
    }

    /// A complete, clean publish: handshake, connect, createStream, publish, metadata,
    /// sequence headers and `frames` video and audio frames, then deleteStream.
    pub fn publish_session(frames: u32) -> Script {
        let c = Direction::ClientToServer;
        let sv = Direction::ServerToClient;
        let mut sc = Script::with_handshake();
        sc.connect("live").connect_result();
        sc.control(c, ControlMessage::SetChunkSize { size: 4096 });
        sc.command(c, CSID_COMMAND, 0, &[s("createStream"), n(2.0), AmfValue::Null]);
        sc.command(sv, CSID_COMMAND, 0, &[s("_result"), n(2.0), AmfValue::Null, n(1.0)]);
        sc.command(c, CSID_STREAM_COMMAND, 1, &[s("publish"), n(0.0), AmfValue::Null, s("test"), s("live")]);
        sc.command(
            sv,
            5,
            1,
            &[
                s("onStatus"),
                n(0.0),
                AmfValue::Null,
                obj(&[
                    ("level", s("status")),
                    ("code", s("NetStream.Publish.Start")),
                    ("description", s("Start publishing")),
                ]),
            ],
        );
        sc.data(
            c,
            CSID_AUDIO,
            1,
            0,
            &[
                s("@setDataFrame"),
                s("onMetaData"),
                AmfValue::EcmaArray {
                    declared_count: 4,
                    entries: vec![
                        ("width".into(), n(320.0)),
                        ("height".into(), n(240.0)),
                        ("videocodecid".into(), n(7.0)),
                        ("audiocodecid".into(), n(10.0)),
                    ],
                },
            ],
        );
        // AVC sequence header (libx264's baseline 320x240 record) and AAC config.
        let avcc: &[u8] = include_bytes!("../../tests/fixtures/media/avcC-baseline.bin");
        sc.video(c, 1, 0, &[&[0x17, 0, 0, 0, 0][..], avcc].concat());
        sc.audio(c, 1, 0, &[0xaf, 0, 0x12, 0x10]);
        for i in 0..frames {
            let key = i % 25 == 0;
            let nal_type = if key { 0x65 } else { 0x41 };
            let mut v = vec![if key { 0x17 } else { 0x27 }, 1, 0, 0, 0, 0, 0, 0, 204, nal_type, 0x88, 0x84, 0x21];
            v.extend(std::iter::repeat_n(i as u8, 200));
            sc.video(c, 1, i * 40, &v);
            sc.audio(c, 1, i * 23, &[0xaf, 1, 0x21, 0x10, i as u8]);
        }
        sc.command(c, CSID_COMMAND, 0, &[s("deleteStream"), n(4.0), AmfValue::Null, n(1.0)]);
        sc
    }
}
