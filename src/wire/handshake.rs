//! RTMP handshake: version byte, C1/S1 ("hello") and C2/S2 ("response") packets.
//!
//! Sans-IO helpers: the session layer buffers the fixed-size packets and hands them over whole.
//! Two handshake forms exist in practice:
//! - the plain form of RTMP 1.0 §5.2: C1/S1 = time, four zero bytes, 1528 random bytes; C2/S2
//!   echo the peer's time and random bytes;
//! - the undocumented Flash Player 9 "digest" form: bytes 4–7 of C1/S1 carry a product version,
//!   and a 32-byte HMAC-SHA256 digest hides in the random area at one of two positions. The
//!   response then ends in a signature derived from the peer's digest instead of echoing it.
//!
//! Digest positions are named by the offset of the block they live in: `offset-8` (digest
//! block first) and `offset-772` (key block first). Projects number these two layouts in
//! opposite ways, so numbers are never used here.

use super::{hex_window, Direction, Issue};
use hmac::{Hmac, Mac};
use serde::{Serialize, Serializer};
use sha2::Sha256;

/// Length of C1, S1, C2 and S2 (RTMP 1.0 §5.2.3, §5.2.4).
pub const HANDSHAKE_SIZE: usize = 1536;
/// Length of a digest or signature (SHA-256 output).
pub const DIGEST_SIZE: usize = 32;
/// The only version byte plain RTMP uses (RTMP 1.0 §5.2.2).
pub const RTMP_VERSION: u8 = 3;
/// Bytes in C0+C1+C2 (and in S0+S1+S2).
pub const HANDSHAKE_TOTAL: u64 = 1 + 2 * HANDSHAKE_SIZE as u64;

/// Offset of the signature in a digest-form response: the last 32 bytes.
const SIGNATURE_AT: usize = HANDSHAKE_SIZE - DIGEST_SIZE;

/// ASCII prefix of the Flash Player key; the C1 digest is keyed by this prefix alone.
pub const PLAYER_KEY_PREFIX: &[u8; 30] = b"Genuine Adobe Flash Player 001";
/// ASCII prefix of the Flash Media Server key; the S1 digest is keyed by this prefix alone.
pub const SERVER_KEY_PREFIX: &[u8; 36] = b"Genuine Adobe Flash Media Server 001";
/// Constant tail shared by both full keys (public, widely published).
const KEY_SUFFIX: [u8; 32] = [
    0xf0, 0xee, 0xc2, 0x4a, 0x80, 0x68, 0xbe, 0xe8, 0x2e, 0x00, 0xd0, 0xd1, 0x02, 0x9e, 0x7e, 0x57, 0x6e, 0xec, 0x5d,
    0x2d, 0x29, 0x80, 0x6f, 0xab, 0x93, 0xb8, 0xe6, 0x36, 0xcf, 0xeb, 0x31, 0xae,
];

/// Which side of the connection produced a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Client,
    Server,
}

impl Role {
    /// The direction this side sends in.
    pub fn sends(self) -> Direction {
        match self {
            Role::Client => Direction::ClientToServer,
            Role::Server => Direction::ServerToClient,
        }
    }

    /// The key prefix that signs this side's hello digest (30 bytes client, 36 bytes server).
    pub fn key_prefix(self) -> &'static [u8] {
        match self {
            Role::Client => PLAYER_KEY_PREFIX,
            Role::Server => SERVER_KEY_PREFIX,
        }
    }

    /// The full key (prefix + constant tail: 62 bytes client, 68 bytes server) that this side
    /// uses to sign its response.
    pub fn full_key(self) -> Vec<u8> {
        let mut k = self.key_prefix().to_vec();
        k.extend_from_slice(&KEY_SUFFIX);
        k
    }

    fn hello_name(self) -> &'static str {
        match self {
            Role::Client => "C1",
            Role::Server => "S1",
        }
    }

    fn response_name(self) -> &'static str {
        match self {
            Role::Client => "C2",
            Role::Server => "S2",
        }
    }
}

/// What a C0/S0 version byte means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VersionClass {
    /// 3: plain RTMP.
    Plain,
    /// 6, 8, 9: RTMPE (encrypted after the handshake); the stream cannot be decoded.
    Encrypted,
    /// 0–2: versions used by early proprietary products.
    Deprecated,
    /// 4–31 other than the RTMPE values: reserved for future versions.
    Reserved,
    /// 32–255: never an RTMP version; the connection speaks something else.
    NotRtmp,
}

/// Classifies a C0/S0 byte (RTMP 1.0 §5.2.2; RTMPE values are de-facto).
pub fn classify_version(v: u8) -> VersionClass {
    match v {
        3 => VersionClass::Plain,
        6 | 8 | 9 => VersionClass::Encrypted,
        0..=2 => VersionClass::Deprecated,
        4..=31 => VersionClass::Reserved,
        _ => VersionClass::NotRtmp,
    }
}

/// A non-RTMP protocol recognised from the first bytes of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForeignProtocol {
    /// RTMPT: RTMP tunnelled in HTTP POST requests (/open, /idle, /send, /close, /fcs/ident).
    Rtmpt,
    /// Some other HTTP request.
    Http,
    /// A TLS record carrying a handshake (RTMPS or plain HTTPS).
    Tls,
}

impl ForeignProtocol {
    pub fn describe(self) -> &'static str {
        match self {
            ForeignProtocol::Rtmpt => "an RTMPT (RTMP over HTTP) request",
            ForeignProtocol::Http => "an HTTP request",
            ForeignProtocol::Tls => "a TLS handshake record (RTMPS?)",
        }
    }
}

/// Recognises the start of an HTTP request or a TLS ClientHello record. Needs the first 4
/// bytes for HTTP and 2 for TLS; fewer bytes give `None`.
pub fn sniff_foreign(start: &[u8]) -> Option<ForeignProtocol> {
    // TLS record: content type 22 (handshake), protocol major version 3.
    if start.len() >= 2 && start[0] == 0x16 && start[1] == 0x03 {
        return Some(ForeignProtocol::Tls);
    }
    const METHODS: [&[u8]; 7] = [b"GET ", b"POST", b"HEAD", b"PUT ", b"OPTI", b"CONN", b"DELE"];
    if start.len() < 4 || !METHODS.iter().any(|m| start.starts_with(m)) {
        return None;
    }
    const RTMPT_PATHS: [&[u8]; 5] =
        [b"POST /open/", b"POST /idle/", b"POST /send/", b"POST /close/", b"POST /fcs/ident"];
    if RTMPT_PATHS.iter().any(|p| start.starts_with(p)) {
        Some(ForeignProtocol::Rtmpt)
    } else {
        Some(ForeignProtocol::Http)
    }
}

/// Where the digest of a digest-form C1/S1 sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Scheme {
    /// Digest block first: the digest lies in bytes 8..772, its position derived from bytes 8–11.
    #[serde(rename = "offset-8")]
    Offset8,
    /// Key block first: the digest lies in bytes 772..1536, its position derived from bytes
    /// 772–775.
    #[serde(rename = "offset-772")]
    Offset772,
}

impl Scheme {
    /// Both schemes, in the order servers commonly try them.
    pub const ALL: [Scheme; 2] = [Scheme::Offset772, Scheme::Offset8];

    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Offset8 => "offset-8",
            Scheme::Offset772 => "offset-772",
        }
    }

    /// Start of the 764-byte block holding the digest.
    fn block(self) -> usize {
        match self {
            Scheme::Offset8 => 8,
            Scheme::Offset772 => 772,
        }
    }

    /// Position of the 32 digest bytes inside `packet`: the sum of the block's first four bytes
    /// modulo 728, past those four bytes. Always within the packet.
    pub fn digest_position(self, packet: &[u8; HANDSHAKE_SIZE]) -> usize {
        let b = self.block();
        let sum: usize = packet[b..b + 4].iter().map(|&x| usize::from(x)).sum();
        b + 4 + sum % 728
    }
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; DIGEST_SIZE] {
    // HMAC accepts keys of any length, so construction cannot fail.
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return [0; DIGEST_SIZE],
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// The digest a hello of `role` should carry at `pos`: HMAC-SHA256 keyed by the role's key
/// prefix over the packet without the 32 digest bytes.
fn hello_digest(packet: &[u8; HANDSHAKE_SIZE], pos: usize, role: Role) -> [u8; DIGEST_SIZE] {
    hmac_sha256(role.key_prefix(), &[&packet[..pos], &packet[pos + DIGEST_SIZE..]])
}

/// The signature a response from `responder` should end with, given the peer's hello digest.
fn response_signature(
    response: &[u8; HANDSHAKE_SIZE],
    peer_digest: &[u8; DIGEST_SIZE],
    responder: Role,
) -> [u8; DIGEST_SIZE] {
    let key = hmac_sha256(&responder.full_key(), &[peer_digest]);
    hmac_sha256(&key, &[&response[..SIGNATURE_AT]])
}

fn serialize_hex<S: Serializer>(bytes: &[u8; DIGEST_SIZE], s: S) -> Result<S::Ok, S::Error> {
    let mut out = String::with_capacity(DIGEST_SIZE * 2);
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    s.serialize_str(&out)
}

/// A digest found in a C1/S1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Digest {
    pub scheme: Scheme,
    /// Position of the first digest byte within the packet (0-based, from the packet start).
    pub position: usize,
    #[serde(serialize_with = "serialize_hex")]
    pub bytes: [u8; DIGEST_SIZE],
}

/// Decoded C1 or S1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hello {
    pub role: Role,
    /// Bytes 0–3: the sender's epoch for chunk timestamps.
    pub time: u32,
    /// Bytes 4–7, zero in plain RTMP; a product version in the digest form.
    pub version_field: u32,
    /// The same four bytes as a dotted version, e.g. "9.0.124.2".
    pub version: String,
    /// Bytes 8..1536 are all zero.
    pub random_all_zero: bool,
    /// The digest that validated, if any (tried at offset 772 first, then offset 8).
    pub digest: Option<Digest>,
}

/// Decodes a C1 (`Role::Client`) or S1 (`Role::Server`) and looks for a valid digest.
pub fn parse_hello(bytes: &[u8; HANDSHAKE_SIZE], role: Role) -> Hello {
    let time = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let version_field = u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    Hello {
        role,
        time,
        version_field,
        version: format!("{}.{}.{}.{}", bytes[4], bytes[5], bytes[6], bytes[7]),
        random_all_zero: bytes[8..].iter().all(|&b| b == 0),
        digest: find_digest(bytes, role),
    }
}

/// Tries both digest positions with `role`'s key prefix; returns the first that validates.
pub fn find_digest(bytes: &[u8; HANDSHAKE_SIZE], role: Role) -> Option<Digest> {
    Scheme::ALL.into_iter().find_map(|scheme| {
        let pos = scheme.digest_position(bytes);
        let want = hello_digest(bytes, pos, role);
        let have = &bytes[pos..pos + DIGEST_SIZE];
        (have == want).then_some(Digest { scheme, position: pos, bytes: want })
    })
}

/// How a C2/S2 relates to the hello it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResponseOutcome {
    /// Time and random bytes echo the hello exactly (plain form).
    Echo,
    /// Random bytes echo the hello but the time (bytes 0–3) differs.
    EchoTimeMismatch,
    /// The random bytes (8..1536) do not echo the hello.
    EchoRandomMismatch,
    /// Digest form: the last 32 bytes are the expected signature.
    DigestSignatureValid,
    /// Digest form expected (the hello carried a valid digest) but the response is neither
    /// correctly signed nor an echo.
    DigestSignatureInvalid,
}

impl ResponseOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseOutcome::Echo => "echo",
            ResponseOutcome::EchoTimeMismatch => "echo-time-mismatch",
            ResponseOutcome::EchoRandomMismatch => "echo-random-mismatch",
            ResponseOutcome::DigestSignatureValid => "digest-signature-valid",
            ResponseOutcome::DigestSignatureInvalid => "digest-signature-invalid",
        }
    }
}

/// Result of comparing a C2/S2 with the hello it answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResponseCheck {
    pub outcome: ResponseOutcome,
    /// Bytes 0–3 equal the hello's time.
    pub time_echoed: bool,
    /// Bytes 8..1536 equal the hello's.
    pub random_echoed: bool,
    /// Bytes 4–7: when the responder read the hello (plain form).
    pub time2: u32,
    /// Index (within the packet) of the first random byte that differs from the hello.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_random_mismatch: Option<usize>,
    /// Whether the trailing signature validated; `None` when the hello had no digest.
    pub signature_valid: Option<bool>,
}

/// Checks a C2 (`responder = Client`, answering S1) or S2 (`responder = Server`, answering C1).
pub fn check_response(
    hello: &[u8; HANDSHAKE_SIZE],
    hello_info: &Hello,
    response: &[u8; HANDSHAKE_SIZE],
    responder: Role,
) -> ResponseCheck {
    let time_echoed = response[..4] == hello[..4];
    let first_random_mismatch = response[8..].iter().zip(&hello[8..]).position(|(a, b)| a != b);
    let random_echoed = first_random_mismatch.is_none();
    let time2 = u32::from_be_bytes([response[4], response[5], response[6], response[7]]);
    let signature_valid =
        hello_info.digest.map(|d| response[SIGNATURE_AT..] == response_signature(response, &d.bytes, responder));
    let outcome = match (signature_valid, time_echoed, random_echoed) {
        (Some(true), _, _) => ResponseOutcome::DigestSignatureValid,
        (_, true, true) => ResponseOutcome::Echo,
        (Some(false), _, _) => ResponseOutcome::DigestSignatureInvalid,
        (None, false, true) => ResponseOutcome::EchoTimeMismatch,
        (None, _, false) => ResponseOutcome::EchoRandomMismatch,
    };
    ResponseCheck {
        outcome,
        time_echoed,
        random_echoed,
        time2,
        first_random_mismatch: first_random_mismatch.map(|i| i + 8),
        signature_valid,
    }
}

/// The plain-form habit of nginx-rtmp and node-media-server: they answer with the client's own C1 as S1 (and S2).
pub fn s1_copies_c1(c1: &[u8; HANDSHAKE_SIZE], s1: &[u8; HANDSHAKE_SIZE]) -> bool {
    c1 == s1
}

fn fill_random(out: &mut [u8], random: &[u8]) {
    if random.is_empty() {
        return;
    }
    for (o, r) in out.iter_mut().zip(random.iter().cycle()) {
        *o = *r;
    }
}

/// Builds a C1 (client hello). `random` fills bytes 8.. (repeated; all zero when empty);
/// with `digest`, a valid client digest is placed at that scheme's position.
pub fn make_c1(time: u32, version: u32, digest: Option<Scheme>, random: &[u8]) -> [u8; HANDSHAKE_SIZE] {
    make_hello(Role::Client, time, version, digest, random)
}

/// Builds a C1 or S1 for `role` (see [`make_c1`]).
pub fn make_hello(role: Role, time: u32, version: u32, digest: Option<Scheme>, random: &[u8]) -> [u8; HANDSHAKE_SIZE] {
    let mut p = [0u8; HANDSHAKE_SIZE];
    p[..4].copy_from_slice(&time.to_be_bytes());
    p[4..8].copy_from_slice(&version.to_be_bytes());
    fill_random(&mut p[8..], random);
    if let Some(scheme) = digest {
        let pos = scheme.digest_position(&p);
        let d = hello_digest(&p, pos, role);
        p[pos..pos + DIGEST_SIZE].copy_from_slice(&d);
    }
    p
}

/// Builds the plain-form answer to `hello`: its time, `time2`, then its random bytes.
pub fn make_echo_response(hello: &[u8; HANDSHAKE_SIZE], time2: u32) -> [u8; HANDSHAKE_SIZE] {
    let mut p = *hello;
    p[4..8].copy_from_slice(&time2.to_be_bytes());
    p
}

/// Builds a digest-form answer: `time`, `time2`, `random` (repeated) up to byte 1504, then the
/// signature derived from the peer's hello digest under `responder`'s full key.
pub fn make_signed_response(
    peer_digest: &[u8; DIGEST_SIZE],
    responder: Role,
    time: u32,
    time2: u32,
    random: &[u8],
) -> [u8; HANDSHAKE_SIZE] {
    let mut p = [0u8; HANDSHAKE_SIZE];
    p[..4].copy_from_slice(&time.to_be_bytes());
    p[4..8].copy_from_slice(&time2.to_be_bytes());
    fill_random(&mut p[8..SIGNATURE_AT], random);
    let sig = response_signature(&p, peer_digest, responder);
    p[SIGNATURE_AT..].copy_from_slice(&sig);
    p
}

/// Builds the answer a well-behaved peer gives: signed when the hello carried a valid digest,
/// an echo otherwise.
pub fn make_response(
    hello: &[u8; HANDSHAKE_SIZE],
    hello_info: &Hello,
    responder: Role,
    time2: u32,
    random: &[u8],
) -> [u8; HANDSHAKE_SIZE] {
    match hello_info.digest {
        Some(d) => make_signed_response(&d.bytes, responder, hello_info.time, time2, random),
        None => make_echo_response(hello, time2),
    }
}

/// The handshake form the server chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HandshakeForm {
    /// RTMP 1.0 §5.2 echo handshake.
    Plain,
    /// Flash Player 9 digest handshake.
    Digest,
}

/// What the handshake looked like, for the report. Fields are `None` for packets not seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HandshakeSummary {
    pub c0_version: Option<u8>,
    pub c0_class: Option<VersionClass>,
    pub s0_version: Option<u8>,
    pub s0_class: Option<VersionClass>,
    /// `digest` when S1 carries a valid server digest; otherwise `plain` (when S1 was seen), or
    /// the form C1 offered when no S1 was seen.
    pub form: Option<HandshakeForm>,
    pub c1: Option<Hello>,
    pub s1: Option<Hello>,
    pub s2: Option<ResponseCheck>,
    pub c2: Option<ResponseCheck>,
    /// Known implementation habits recognised, e.g. `"s1-copies-c1"` (nginx-rtmp, node-media-server).
    pub quirks: Vec<&'static str>,
}

/// Stream offsets of the handshake packets (identical in both directions).
const OFF_HELLO: u64 = 1;
const OFF_RESPONSE: u64 = 1 + HANDSHAKE_SIZE as u64;

type Packet<'a> = Option<&'a [u8; HANDSHAKE_SIZE]>;

/// Checks a whole (or partial) handshake. Offsets in the returned issues are absolute stream
/// offsets in the direction they are paired with: C0 at 0, C1 at 1, C2 at 1537 of the
/// client→server stream; S0 at 0, S1 at 1, S2 at 1537 of the server→client stream.
pub fn check_handshake(
    c0: Option<u8>,
    c1: Packet<'_>,
    s0: Option<u8>,
    s1: Packet<'_>,
    s2: Packet<'_>,
    c2: Packet<'_>,
) -> (HandshakeSummary, Vec<(Direction, Issue)>) {
    let mut sum = HandshakeSummary::default();
    let mut issues = Vec::new();

    let c0_class = c0.map(classify_version);
    let s0_class = s0.map(classify_version);
    sum.c0_version = c0;
    sum.c0_class = c0_class;
    sum.s0_version = s0;
    sum.s0_class = s0_class;

    // Foreign protocols are recognised from C0 and the start of C1.
    let mut head = Vec::with_capacity(16);
    head.extend(c0);
    if let Some(c1) = c1 {
        head.extend_from_slice(&c1[..15]);
    }
    if let (Some(v), Some(class)) = (c0, c0_class) {
        version_issue(Direction::ClientToServer, "C0", v, class, sniff_foreign(&head), &mut issues);
    }
    if let (Some(v), Some(class)) = (s0, s0_class) {
        version_issue(Direction::ServerToClient, "S0", v, class, None, &mut issues);
    }
    if let (Some(c), Some(s)) = (c0, s0) {
        // RTMP 1.0 §5.2.2: a server answers with the client's version, or with 3 when it does
        // not recognise the client's one. Any other answer means the sides disagree.
        if c != s && s != RTMP_VERSION {
            issues.push((
                Direction::ServerToClient,
                Issue::new(0, "handshake.version-mismatch", format!("S0 is version {s} but C0 asked for version {c}")),
            ));
        }
    }

    // Beyond the version byte, an encrypted or foreign stream is not checked.
    let decodable =
        |class: Option<VersionClass>| !matches!(class, Some(VersionClass::Encrypted | VersionClass::NotRtmp));
    let checkable = decodable(c0_class) && decodable(s0_class);

    let c1_info = c1.map(|p| parse_hello(p, Role::Client));
    let s1_info = s1.map(|p| parse_hello(p, Role::Server));

    if let (Some(c1), Some(s1)) = (c1, s1) {
        // nginx-rtmp and node-media-server habit: S1 is the client's C1 byte for byte. RTMP 1.0 §5.2.3 has each side
        // generate its own random bytes so that the two hellos can be told apart.
        if s1_copies_c1(c1, s1) {
            sum.quirks.push("s1-copies-c1");
            if checkable {
                issues.push((
                    Direction::ServerToClient,
                    Issue::new(
                        OFF_HELLO,
                        "handshake.s1-copies-c1",
                        "S1 is a byte-for-byte copy of C1 (the plain handshake of nginx-rtmp and \
                         node-media-server); the server's hello carries no random bytes of its own",
                    ),
                ));
            }
        }
    }

    if checkable {
        for (info, dir) in [(&c1_info, Direction::ClientToServer), (&s1_info, Direction::ServerToClient)] {
            if let Some(h) = info {
                hello_issues(h, dir, &mut issues);
            }
        }
    }

    sum.form = match (&s1_info, &c1_info) {
        (Some(s), _) if s.digest.is_some() => Some(HandshakeForm::Digest),
        (Some(_), _) => Some(HandshakeForm::Plain),
        (None, Some(c)) if c.digest.is_some() => Some(HandshakeForm::Digest),
        (None, Some(_)) => Some(HandshakeForm::Plain),
        (None, None) => None,
    };

    if let (Some(c1), Some(c1i), Some(s2)) = (c1, &c1_info, s2) {
        let check = check_response(c1, c1i, s2, Role::Server);
        if checkable {
            response_issues(&check, c1i, s2, Role::Server, &mut issues);
        }
        sum.s2 = Some(check);
    }
    if let (Some(s1), Some(s1i), Some(c2)) = (s1, &s1_info, c2) {
        let check = check_response(s1, s1i, c2, Role::Client);
        if checkable {
            response_issues(&check, s1i, c2, Role::Client, &mut issues);
        }
        sum.c2 = Some(check);
    }

    sum.c1 = c1_info;
    sum.s1 = s1_info;
    (sum, issues)
}

fn version_issue(
    dir: Direction,
    name: &str,
    v: u8,
    class: VersionClass,
    foreign: Option<ForeignProtocol>,
    out: &mut Vec<(Direction, Issue)>,
) {
    // RTMP 1.0 §5.2.2: version 3 is the defined one; 0–2 were used by earlier proprietary
    // products and are deprecated; 4–31 are reserved for future use; 32–255 are not allowed,
    // so that RTMP can be told apart from text-based protocols.
    let (rule, detail) = match class {
        VersionClass::Plain => return,
        VersionClass::Encrypted => (
            "handshake.encrypted",
            format!("{name} is version {v}: RTMPE (encrypted RTMP); the stream cannot be decoded"),
        ),
        VersionClass::Deprecated => (
            "handshake.version-deprecated",
            format!("{name} is version {v}, a deprecated pre-RTMP-1.0 version (expected 3)"),
        ),
        VersionClass::Reserved => {
            ("handshake.version-reserved", format!("{name} is version {v}, reserved for future use (expected 3)"))
        }
        VersionClass::NotRtmp => {
            let what = match foreign {
                Some(f) => format!("; the bytes look like {}", f.describe()),
                None => String::new(),
            };
            ("handshake.not-rtmp", format!("{name} is 0x{v:02x}, which no RTMP version uses{what}"))
        }
    };
    out.push((dir, Issue::new(0, rule, detail)));
}

fn hello_issues(h: &Hello, dir: Direction, out: &mut Vec<(Direction, Issue)>) {
    let name = h.role.hello_name();
    // RTMP 1.0 §5.2.3: bytes 4–7 of C1/S1 must be zero. The Flash Player 9 handshake puts a
    // product version there and signs the packet; with a valid digest that is the well-known
    // digest form (notable only), without one the field is simply wrong.
    if h.version_field != 0 {
        match h.digest {
            Some(d) => out.push((
                dir,
                Issue::new(
                    OFF_HELLO + 4,
                    "handshake.zero-field-nonzero",
                    format!(
                        "{name} bytes 4-7 carry version {} (0x{:08x}) instead of zero; a valid \
                         {} digest marks the Flash Player 9 digest handshake",
                        h.version,
                        h.version_field,
                        d.scheme.as_str()
                    ),
                ),
            )),
            None => out.push((
                dir,
                Issue::new(
                    OFF_HELLO + 4,
                    "handshake.digest-missing",
                    format!(
                        "{name} bytes 4-7 carry version {} (0x{:08x}) instead of zero, but no \
                         digest validates at offset 8 or offset 772 with the {} key; peers that \
                         verify digests (e.g. FFmpeg when playing) will fail",
                        h.version,
                        h.version_field,
                        match h.role {
                            Role::Client => "Flash Player",
                            Role::Server => "Flash Media Server",
                        }
                    ),
                ),
            )),
        }
    }
    // RTMP 1.0 §5.2.3: the 1528 bytes after the zero field should be random enough for each
    // side to tell its own handshake from its peer's.
    if h.random_all_zero {
        out.push((
            dir,
            Issue::new(
                OFF_HELLO + 8,
                "handshake.random-all-zero",
                format!("{name} random field (bytes 8-1535) is all zero"),
            ),
        ));
    }
}

fn response_issues(
    check: &ResponseCheck,
    hello: &Hello,
    response: &[u8; HANDSHAKE_SIZE],
    responder: Role,
    out: &mut Vec<(Direction, Issue)>,
) {
    let dir = responder.sends();
    let name = responder.response_name();
    let peer = hello.role.hello_name();
    match check.outcome {
        ResponseOutcome::Echo | ResponseOutcome::DigestSignatureValid => {}
        // RTMP 1.0 §5.2.4: C2/S2 bytes 0-3 repeat the time the peer sent in S1/C1.
        ResponseOutcome::EchoTimeMismatch => out.push((
            dir,
            Issue::new(
                OFF_RESPONSE,
                "handshake.echo-time-mismatch",
                format!("{name} bytes 0-3 do not repeat the {peer} time {}", hello.time),
            ),
        )),
        // RTMP 1.0 §5.2.4: C2/S2 bytes 8-1535 repeat the random bytes the peer sent in S1/C1.
        ResponseOutcome::EchoRandomMismatch => {
            let at = check.first_random_mismatch.unwrap_or(8);
            out.push((
                dir,
                Issue::new(
                    OFF_RESPONSE + at as u64,
                    "handshake.echo-random-mismatch",
                    format!(
                        "{name} does not echo the {peer} random bytes (first difference at \
                         packet byte {at}){}",
                        if check.time_echoed { "" } else { "; the time is not echoed either" }
                    ),
                ),
            ))
        }
        // Flash Player 9 handshake (de-facto): the response to a digest-carrying hello ends in
        // HMAC-SHA256 of its first 1504 bytes, keyed by HMAC-SHA256 of the peer's digest under
        // the responder's full key.
        ResponseOutcome::DigestSignatureInvalid => {
            let expected = hello
                .digest
                .map(|d| hex_window(&response_signature(response, &d.bytes, responder), 8))
                .unwrap_or_default();
            out.push((
                dir,
                Issue::new(
                    OFF_RESPONSE + SIGNATURE_AT as u64,
                    "handshake.digest-signature-invalid",
                    format!(
                        "{peer} carried a valid digest, but {name} is neither correctly signed \
                         nor an echo of {peer}: last 32 bytes are {}, expected {}",
                        hex_window(&response[SIGNATURE_AT..], 8),
                        expected
                    ),
                ),
            ))
        }
    }
}

/// The `handshake.truncated` issue for a direction whose stream ended (or was cut by a gap)
/// after `received` bytes, before its three handshake packets were complete; `None` when the
/// handshake in that direction was complete.
pub fn truncation_issue(direction: Direction, received: u64) -> Option<Issue> {
    // RTMP 1.0 §5.2.3-§5.2.4: C1/S1 and C2/S2 are each exactly 1536 bytes, after the one-byte
    // C0/S0.
    if received >= HANDSHAKE_TOTAL {
        return None;
    }
    let (zero, hello, response) = match direction {
        Direction::ClientToServer => ("C0", "C1", "C2"),
        Direction::ServerToClient => ("S0", "S1", "S2"),
    };
    let (packet, start) = match received {
        0 => (zero, 0),
        r if r < OFF_RESPONSE => (hello, OFF_HELLO),
        _ => (response, OFF_RESPONSE),
    };
    let have = received - start;
    Some(Issue::new(
        received,
        "handshake.truncated",
        format!(
            "the {direction} stream ends after {received} bytes, inside {packet} ({have} of {} \
             bytes)",
            if start == 0 { 1 } else { HANDSHAKE_SIZE }
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const C2S: Direction = Direction::ClientToServer;
    const S2C: Direction = Direction::ServerToClient;

    type Found = Vec<(Direction, &'static str, u64)>;

    fn rules(issues: &[(Direction, Issue)]) -> Found {
        issues.iter().map(|(d, i)| (*d, i.rule, i.offset)).collect()
    }

    fn pattern(seed: u8) -> Vec<u8> {
        (0..251u16).map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed)).collect()
    }

    #[test]
    fn accepts_version_classes() {
        let table: [(u8, VersionClass); 10] = [
            (3, VersionClass::Plain),
            (0, VersionClass::Deprecated),
            (2, VersionClass::Deprecated),
            (4, VersionClass::Reserved),
            (6, VersionClass::Encrypted),
            (7, VersionClass::Reserved),
            (8, VersionClass::Encrypted),
            (9, VersionClass::Encrypted),
            (31, VersionClass::Reserved),
            (b'G', VersionClass::NotRtmp),
        ];
        for (v, want) in table {
            assert_eq!(classify_version(v), want, "version {v}");
        }
    }

    #[test]
    fn accepts_foreign_protocol_starts() {
        let table: [(&[u8], Option<ForeignProtocol>); 7] = [
            (b"GET / HTTP/1.1", Some(ForeignProtocol::Http)),
            (b"POST /open/1 HTTP/1.1", Some(ForeignProtocol::Rtmpt)),
            (b"POST /idle/5/1", Some(ForeignProtocol::Rtmpt)),
            (b"POST /upload", Some(ForeignProtocol::Http)),
            (&[0x16, 0x03, 0x01, 0x02], Some(ForeignProtocol::Tls)),
            (&[0x03, 0x00, 0x00, 0x00], None),
            (b"GE", None),
        ];
        for (bytes, want) in table {
            assert_eq!(sniff_foreign(bytes), want, "{bytes:?}");
        }
    }

    #[test]
    fn accepts_digest_at_both_offsets() {
        for scheme in [Scheme::Offset8, Scheme::Offset772] {
            let c1 = make_c1(1000, 0x0900_7c02, Some(scheme), &pattern(1));
            let h = parse_hello(&c1, Role::Client);
            assert_eq!(h.time, 1000);
            assert_eq!(h.version_field, 0x0900_7c02);
            assert_eq!(h.version, "9.0.124.2");
            assert!(!h.random_all_zero);
            let d = h.digest.expect("digest found");
            assert_eq!(d.scheme, scheme);
            assert_eq!(d.position, scheme.digest_position(&c1));
            assert_eq!(&c1[d.position..d.position + 32], &d.bytes);
            // The same packet does not validate under the server key.
            assert_eq!(find_digest(&c1, Role::Server), None);
        }
    }

    #[test]
    fn accepts_server_digest_with_server_key() {
        let s1 = make_hello(Role::Server, 0, 0x0d0e_0a0d, Some(Scheme::Offset8), &pattern(9));
        let h = parse_hello(&s1, Role::Server);
        assert_eq!(h.digest.map(|d| d.scheme), Some(Scheme::Offset8));
        assert_eq!(h.version, "13.14.10.13");
        assert_eq!(find_digest(&s1, Role::Client), None);
    }

    #[test]
    fn accepts_digest_positions_from_block_bytes() {
        let mut p = [0u8; HANDSHAKE_SIZE];
        p[8..12].copy_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        p[772..776].copy_from_slice(&[1, 2, 3, 4]);
        // 1020 % 728 = 292, + 12
        assert_eq!(Scheme::Offset8.digest_position(&p), 304);
        assert_eq!(Scheme::Offset772.digest_position(&p), 786);
    }

    #[test]
    fn rejects_wrong_digest() {
        let mut c1 = make_c1(5, 0x0a00_2d02, Some(Scheme::Offset772), &pattern(3));
        let pos = Scheme::Offset772.digest_position(&c1);
        c1[pos + 31] ^= 0x01;
        assert_eq!(parse_hello(&c1, Role::Client).digest, None);
        // Changing a covered byte outside the digest invalidates it too.
        let mut c1 = make_c1(5, 0x0a00_2d02, Some(Scheme::Offset8), &pattern(3));
        c1[0] ^= 0x80;
        assert_eq!(parse_hello(&c1, Role::Client).digest, None);
        // A plain C1 has none.
        let c1 = make_c1(5, 0, None, &pattern(3));
        assert_eq!(parse_hello(&c1, Role::Client).digest, None);
    }

    #[test]
    fn accepts_signed_s2_and_rejects_bad_signature() {
        let c1 = make_c1(77, 0x0900_7c02, Some(Scheme::Offset8), &pattern(4));
        let info = parse_hello(&c1, Role::Client);
        let s2 = make_response(&c1, &info, Role::Server, 12, &pattern(200));
        let check = check_response(&c1, &info, &s2, Role::Server);
        assert_eq!(check.outcome, ResponseOutcome::DigestSignatureValid);
        assert_eq!(check.signature_valid, Some(true));
        assert_eq!(check.time2, 12);

        // Signed with the client key instead of the server key.
        let digest = info.digest.expect("digest").bytes;
        let wrong = make_signed_response(&digest, Role::Client, 77, 12, &pattern(200));
        let check = check_response(&c1, &info, &wrong, Role::Server);
        assert_eq!(check.outcome, ResponseOutcome::DigestSignatureInvalid);
        assert_eq!(check.signature_valid, Some(false));

        // A correct C2 is signed with the player key over S1's digest.
        let s1 = make_hello(Role::Server, 0, 0x0d0e_0a0d, Some(Scheme::Offset772), &pattern(8));
        let s1i = parse_hello(&s1, Role::Server);
        let c2 = make_response(&s1, &s1i, Role::Client, 0, &pattern(50));
        let check = check_response(&s1, &s1i, &c2, Role::Client);
        assert_eq!(check.outcome, ResponseOutcome::DigestSignatureValid);
    }

    #[test]
    fn accepts_echo_to_digest_hello_as_fallback() {
        let c1 = make_c1(77, 0x0900_7c02, Some(Scheme::Offset8), &pattern(4));
        let info = parse_hello(&c1, Role::Client);
        let s2 = make_echo_response(&c1, 99);
        let check = check_response(&c1, &info, &s2, Role::Server);
        assert_eq!(check.outcome, ResponseOutcome::Echo);
        assert_eq!(check.signature_valid, Some(false));
    }

    #[test]
    fn accepts_simple_echo_and_rejects_mismatches() {
        let c1 = make_c1(0x0102_0304, 0, None, &pattern(5));
        let info = parse_hello(&c1, Role::Client);
        let s2 = make_response(&c1, &info, Role::Server, 4242, &[]);
        let check = check_response(&c1, &info, &s2, Role::Server);
        assert_eq!(check.outcome, ResponseOutcome::Echo);
        assert_eq!((check.time_echoed, check.random_echoed, check.time2), (true, true, 4242));
        assert_eq!(check.signature_valid, None);

        let mut bad_time = s2;
        bad_time[3] ^= 1;
        let check = check_response(&c1, &info, &bad_time, Role::Server);
        assert_eq!(check.outcome, ResponseOutcome::EchoTimeMismatch);

        let mut bad_random = s2;
        bad_random[1000] ^= 1;
        let check = check_response(&c1, &info, &bad_random, Role::Server);
        assert_eq!(check.outcome, ResponseOutcome::EchoRandomMismatch);
        assert_eq!(check.first_random_mismatch, Some(1000));
    }

    #[test]
    fn accepts_clean_plain_handshake() {
        let c1 = make_c1(0, 0, None, &pattern(1));
        let s1 = make_hello(Role::Server, 0, 0, None, &pattern(2));
        let s2 = make_echo_response(&c1, 10);
        let c2 = make_echo_response(&s1, 11);
        let (sum, issues) = check_handshake(Some(3), Some(&c1), Some(3), Some(&s1), Some(&s2), Some(&c2));
        assert_eq!(issues, vec![]);
        assert_eq!(sum.form, Some(HandshakeForm::Plain));
        assert_eq!(sum.c0_class, Some(VersionClass::Plain));
        assert_eq!(sum.s2.as_ref().map(|c| c.outcome), Some(ResponseOutcome::Echo));
        assert_eq!(sum.c2.as_ref().map(|c| c.outcome), Some(ResponseOutcome::Echo));
        assert!(sum.quirks.is_empty());
    }

    #[test]
    fn accepts_digest_handshake_with_info_issues() {
        let c1 = make_c1(0, 0x0900_7c02, Some(Scheme::Offset8), &pattern(1));
        let s1 = make_hello(Role::Server, 0, 0x0d0e_0a0d, Some(Scheme::Offset772), &pattern(2));
        let c1i = parse_hello(&c1, Role::Client);
        let s1i = parse_hello(&s1, Role::Server);
        let s2 = make_response(&c1, &c1i, Role::Server, 0, &pattern(3));
        let c2 = make_response(&s1, &s1i, Role::Client, 0, &pattern(4));
        let (sum, issues) = check_handshake(Some(3), Some(&c1), Some(3), Some(&s1), Some(&s2), Some(&c2));
        assert_eq!(
            rules(&issues),
            vec![(C2S, "handshake.zero-field-nonzero", 5), (S2C, "handshake.zero-field-nonzero", 5),]
        );
        assert_eq!(sum.form, Some(HandshakeForm::Digest));
        assert_eq!(sum.s2.as_ref().map(|c| c.outcome), Some(ResponseOutcome::DigestSignatureValid));
        assert_eq!(sum.c2.as_ref().map(|c| c.outcome), Some(ResponseOutcome::DigestSignatureValid));
        let json = serde_json::to_value(&sum).expect("serialises");
        assert_eq!(json["c1"]["digest"]["scheme"], "offset-8");
        assert_eq!(json["s1"]["digest"]["scheme"], "offset-772");
        assert_eq!(json["form"], "digest");
        assert_eq!(json["s2"]["outcome"], "digest-signature-valid");
        assert_eq!(json["c0_class"], "plain");
        assert_eq!(json["c1"]["digest"]["bytes"].as_str().map(str::len), Some(64));
    }

    #[test]
    fn rejects_bad_signature_and_missing_digest() {
        let c1 = make_c1(0, 0x0900_7c02, Some(Scheme::Offset8), &pattern(1));
        // S1 advertises a version but carries no digest.
        let s1 = make_hello(Role::Server, 0, 0x0300_0000, None, &pattern(2));
        // S2 is neither signed nor an echo.
        let s2 = make_hello(Role::Server, 0, 0, None, &pattern(3));
        let (sum, issues) = check_handshake(Some(3), Some(&c1), Some(3), Some(&s1), Some(&s2), None);
        assert_eq!(
            rules(&issues),
            vec![
                (C2S, "handshake.zero-field-nonzero", 5),
                (S2C, "handshake.digest-missing", 5),
                (S2C, "handshake.digest-signature-invalid", 1537 + 1504),
            ]
        );
        assert_eq!(sum.form, Some(HandshakeForm::Plain));
        assert_eq!(sum.c2, None);
    }

    #[test]
    fn rejects_bad_echoes() {
        let c1 = make_c1(500, 0, None, &pattern(1));
        let s1 = make_hello(Role::Server, 0, 0, None, &pattern(2));
        let mut s2 = make_echo_response(&c1, 0);
        s2[0] ^= 0xff;
        let mut c2 = make_echo_response(&s1, 0);
        c2[9] ^= 0xff;
        let (_, issues) = check_handshake(Some(3), Some(&c1), Some(3), Some(&s1), Some(&s2), Some(&c2));
        assert_eq!(
            rules(&issues),
            vec![(S2C, "handshake.echo-time-mismatch", 1537), (C2S, "handshake.echo-random-mismatch", 1537 + 9)]
        );
    }

    #[test]
    fn rejects_versions() {
        let c1 = make_c1(0, 0, None, &pattern(1));
        let table: [(u8, u8, Found); 7] = [
            (0, 3, vec![(C2S, "handshake.version-deprecated", 0)]),
            (4, 3, vec![(C2S, "handshake.version-reserved", 0)]),
            (4, 4, vec![(C2S, "handshake.version-reserved", 0), (S2C, "handshake.version-reserved", 0)]),
            (3, 31, vec![(S2C, "handshake.version-reserved", 0), (S2C, "handshake.version-mismatch", 0)]),
            (
                4,
                5,
                vec![
                    (C2S, "handshake.version-reserved", 0),
                    (S2C, "handshake.version-reserved", 0),
                    (S2C, "handshake.version-mismatch", 0),
                ],
            ),
            (6, 6, vec![(C2S, "handshake.encrypted", 0), (S2C, "handshake.encrypted", 0)]),
            (b'P', 3, vec![(C2S, "handshake.not-rtmp", 0)]),
        ];
        for (c0, s0, want) in table {
            let (_, issues) = check_handshake(Some(c0), Some(&c1), Some(s0), None, None, None);
            assert_eq!(rules(&issues), want, "C0 {c0} S0 {s0}");
        }
    }

    #[test]
    fn rejects_http_request_as_not_rtmp_with_reason() {
        let mut c1 = [b' '; HANDSHAKE_SIZE];
        c1[..11].copy_from_slice(b"OST /open/1");
        let (sum, issues) = check_handshake(Some(b'P'), Some(&c1), None, None, None, None);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].1.rule, "handshake.not-rtmp");
        assert!(issues[0].1.detail.contains("RTMPT"), "{}", issues[0].1.detail);
        assert_eq!(sum.c0_class, Some(VersionClass::NotRtmp));
    }

    #[test]
    fn rejects_all_zero_random_and_s1_copy() {
        let c1 = make_c1(0, 0, None, &[]);
        let s1 = c1;
        let s2 = c1;
        let (sum, issues) = check_handshake(Some(3), Some(&c1), Some(3), Some(&s1), Some(&s2), None);
        assert_eq!(
            rules(&issues),
            vec![
                (S2C, "handshake.s1-copies-c1", 1),
                (C2S, "handshake.random-all-zero", 9),
                (S2C, "handshake.random-all-zero", 9),
            ]
        );
        assert_eq!(sum.quirks, vec!["s1-copies-c1"]);
        assert_eq!(sum.s2.as_ref().map(|c| c.outcome), Some(ResponseOutcome::Echo));
    }

    #[test]
    fn rejects_truncated_handshake() {
        let table: [(Direction, u64, Option<&str>); 5] = [
            (C2S, 0, Some("inside C0 (0 of 1 bytes)")),
            (C2S, 1001, Some("inside C1 (1000 of 1536 bytes)")),
            (S2C, 1537, Some("inside S2 (0 of 1536 bytes)")),
            (S2C, 3072, Some("inside S2 (1535 of 1536 bytes)")),
            (S2C, 3073, None),
        ];
        for (dir, n, want) in table {
            let got = truncation_issue(dir, n);
            match want {
                None => assert_eq!(got, None),
                Some(text) => {
                    let got = got.expect("issue");
                    assert_eq!((got.rule, got.offset), ("handshake.truncated", n));
                    assert!(got.detail.contains(text), "{}", got.detail);
                }
            }
        }
    }

    #[test]
    fn accepts_full_keys_of_documented_length() {
        assert_eq!(Role::Client.full_key().len(), 62);
        assert_eq!(Role::Server.full_key().len(), 68);
    }
}
