//! Streaming pcap / pcapng reader.
//!
//! [`CaptureReader`] reads one record at a time through pcap-parser's streaming readers, with a
//! buffer of [`INITIAL_BUFFER`] bytes that grows only when one record needs more, and never past
//! [`MAX_RECORD_LEN`]: a record declaring more is an error, not an allocation. The buffer grows
//! by doubling as bytes actually arrive, so a truncated file declaring a large record does not
//! make the reader allocate what the file does not contain.
//!
//! Before asking pcap-parser to parse a record, the reader checks the record's declared length
//! itself and makes sure the whole record is buffered; so "needs more bytes" from the parser can
//! only mean the record contradicts itself, and it is reported as malformed with its offset.
//!
//! Frames are numbered from 1 in file order; every packet record (pcap record, pcapng enhanced,
//! simple or obsolete packet block) takes a number, as Wireshark numbers frames.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Chain, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{Block, LegacyPcapReader, OptionCode, PcapBlockOwned, PcapError, PcapNGReader};

use super::{LinkType, Packet, Timestamp};

/// Buffer size the reader starts with.
pub const INITIAL_BUFFER: usize = 256 * 1024;
/// Largest record (pcap record with its header, or pcapng block) the reader accepts.
pub const MAX_RECORD_LEN: usize = 64 * 1024 * 1024;

const PCAPNG_SHB: u32 = 0x0A0D_0D0A;
const PCAPNG_IDB: u32 = 1;
const PCAPNG_OPB: u32 = 2;
const PCAPNG_SPB: u32 = 3;
const PCAPNG_EPB: u32 = 6;

/// Byte order of a capture file's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    Little,
    Big,
}

/// Timestamp precision of a classic pcap file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TsPrecision {
    Micro,
    Nano,
}

/// Which kind of file is being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaptureFormat {
    /// Classic pcap. `modified` is the old Kuznetzov variant (24-byte record headers).
    Pcap { byte_order: ByteOrder, precision: TsPrecision, snaplen: u32, modified: bool },
    /// pcapng (byte order can change from section to section).
    PcapNg,
}

/// What kind of record an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    /// The 24-byte header of a classic pcap file.
    PcapFileHeader,
    /// A classic pcap packet record (header and data).
    PcapRecord,
    /// A pcapng block, with its type number.
    PcapNgBlock(u32),
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            RecordKind::PcapFileHeader => f.write_str("pcap file header"),
            RecordKind::PcapRecord => f.write_str("pcap packet record"),
            RecordKind::PcapNgBlock(t) => {
                let name = match t {
                    PCAPNG_SHB => "section header",
                    PCAPNG_IDB => "interface description",
                    PCAPNG_OPB => "obsolete packet",
                    PCAPNG_SPB => "simple packet",
                    4 => "name resolution",
                    5 => "interface statistics",
                    PCAPNG_EPB => "enhanced packet",
                    _ => "unknown",
                };
                write!(f, "pcapng {name} block (type 0x{t:08x})")
            }
        }
    }
}

/// Why reading a capture failed. Every variant but [`CaptureError::Open`] and
/// [`CaptureError::Empty`] carries the byte offset in the file where the problem starts.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("cannot open capture file {path}: {source}")]
    Open { path: PathBuf, source: io::Error },
    #[error("the input is empty: it holds no capture file header")]
    Empty,
    #[error(
        "not a pcap or pcapng file: the first bytes at offset 0 are {found:02x?}, which is no \
         known magic number{hint}"
    )]
    NotACapture {
        found: Vec<u8>,
        /// A hint such as " (it looks like text)"; empty when there is none.
        hint: &'static str,
    },
    #[error(
        "the capture is cut short: the {kind} at byte {offset} needs {needed} bytes but the \
         input ends after {available}"
    )]
    Truncated { offset: u64, kind: RecordKind, needed: u64, available: u64 },
    #[error(
        "the {kind} at byte {offset} declares a length of {declared} bytes, above the limit of \
         {limit}"
    )]
    RecordTooLong { offset: u64, kind: RecordKind, declared: u64, limit: u64 },
    #[error("the {kind} at byte {offset} is malformed: {reason}")]
    Malformed { offset: u64, kind: RecordKind, reason: String },
    #[error(
        "the {kind} at byte {offset} (frame {frame}) names interface {interface}, but its section \
         describes only {known} interface(s); the packet is skipped"
    )]
    UnknownInterface { offset: u64, kind: RecordKind, frame: u64, interface: u32, known: u32 },
    #[error("reading the capture failed at byte {offset}: {source}")]
    Io { offset: u64, source: io::Error },
}

impl CaptureError {
    /// True when the reader skipped the offending record and can go on: call
    /// [`CaptureReader::next_packet`] again. Every other error ends the capture (later calls
    /// return `Ok(None)`).
    pub fn is_recoverable(&self) -> bool {
        matches!(self, CaptureError::UnknownInterface { .. })
    }

    /// Byte offset in the file where the problem starts, when there is one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            CaptureError::Open { .. } | CaptureError::Empty => None,
            CaptureError::NotACapture { .. } => Some(0),
            CaptureError::Truncated { offset, .. }
            | CaptureError::RecordTooLong { offset, .. }
            | CaptureError::Malformed { offset, .. }
            | CaptureError::UnknownInterface { offset, .. }
            | CaptureError::Io { offset, .. } => Some(*offset),
        }
    }
}

/// Counters of a [`CaptureReader`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaptureStats {
    /// Packets returned.
    pub packets: u64,
    /// Captured bytes of the packets returned.
    pub bytes: u64,
    /// Packets returned per link type.
    pub link_types: BTreeMap<LinkType, u64>,
    /// pcapng blocks that carry no packet and no information the reader uses (name resolution,
    /// statistics, unknown types, …).
    pub skipped_blocks: u64,
    /// pcapng sections seen.
    pub sections: u64,
    /// pcapng interfaces described, over all sections.
    pub interfaces: u64,
    /// Bytes of the file consumed so far.
    pub file_bytes: u64,
}

/// Keeps the `io::Error` that pcap-parser's readers reduce to `ReadError`, and retries reads
/// that were interrupted.
#[derive(Debug)]
struct Source<R> {
    inner: R,
    error: Arc<Mutex<Option<io::Error>>>,
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.inner.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let copy = io::Error::new(e.kind(), e.to_string());
                    if let Ok(mut slot) = self.error.lock() {
                        *slot = Some(e);
                    }
                    return Err(copy);
                }
                Ok(n) => return Ok(n),
            }
        }
    }
}

type Input<R> = Chain<Cursor<Vec<u8>>, Source<R>>;

enum Inner<R: Read> {
    Legacy(LegacyPcapReader<Input<R>>),
    Ng(PcapNGReader<Input<R>>),
}

impl<R: Read> fmt::Debug for Inner<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Inner::Legacy(_) => f.write_str("LegacyPcapReader"),
            Inner::Ng(_) => f.write_str("PcapNGReader"),
        }
    }
}

impl<R: Read> Inner<R> {
    fn it(&mut self) -> &mut dyn PcapReaderIterator {
        match self {
            Inner::Legacy(r) => r,
            Inner::Ng(r) => r,
        }
    }
}

/// Timestamp rule of one pcapng interface.
#[derive(Debug, Clone, Copy)]
struct Interface {
    link_type: LinkType,
    snaplen: u32,
    /// Timestamp units per second.
    units_per_sec: u64,
    offset_secs: i64,
}

/// A packet record found by [`CaptureReader::read_record`], described by values only so the
/// buffer borrow can be taken again afterwards.
#[derive(Debug, Clone, Copy)]
struct Found {
    ts: Timestamp,
    link_type: LinkType,
    start: usize,
    len: usize,
    orig_len: u32,
}

/// Streaming reader over a pcap or pcapng file.
///
/// `next_packet` returns packets that borrow the reader's buffer, one at a time.
///
/// Simple packet blocks carry no timestamp: they get the timestamp of the previous packet of the
/// file (zero when there is none), so timestamps stay monotonic.
#[derive(Debug)]
pub struct CaptureReader<R: Read> {
    inner: Inner<R>,
    io_error: Arc<Mutex<Option<io::Error>>>,
    format: CaptureFormat,
    capacity: usize,
    exhausted: bool,
    /// Bytes of the record returned last, consumed at the next call.
    pending_consume: usize,
    /// Set once an unrecoverable error was returned or the end was reached.
    done: bool,
    frame: u64,
    big_endian: bool,
    interfaces: Vec<Interface>,
    last_ts: Timestamp,
    stats: CaptureStats,
}

/// Reads until `buf` holds `want` bytes or the input ends.
fn read_up_to<R: Read>(r: &mut R, buf: &mut Vec<u8>, want: usize) -> io::Result<()> {
    while buf.len() < want {
        let mut chunk = [0u8; 4096];
        let n = (want - buf.len()).min(chunk.len());
        match r.read(&mut chunk[..n]) {
            Ok(0) => break,
            Ok(k) => buf.extend_from_slice(&chunk[..k]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn u32_at(d: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let b: [u8; 4] = d.get(at..at + 4)?.try_into().ok()?;
    Some(if big_endian { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) })
}

fn u16_at(d: &[u8], at: usize, big_endian: bool) -> Option<u16> {
    let b: [u8; 2] = d.get(at..at + 2)?.try_into().ok()?;
    Some(if big_endian { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) })
}

/// Units per second of a pcapng `if_tsresol` value, or `None` when it does not fit 64 bits.
fn units_per_sec(tsresol: u8) -> Option<u64> {
    let exp = u32::from(tsresol & 0x7f);
    if tsresol & 0x80 == 0 {
        10u64.checked_pow(exp)
    } else {
        1u64.checked_shl(exp).filter(|_| exp < 64)
    }
}

fn pcapng_ts(raw: u64, iface: &Interface) -> Timestamp {
    let units = iface.units_per_sec.max(1);
    let secs = (raw / units) as i128 + iface.offset_secs as i128;
    let frac = raw % units;
    let nanos = (frac as u128 * 1_000_000_000 / units as u128) as u32;
    Timestamp { secs: secs.clamp(0, u64::MAX as i128) as u64, nanos }
}

impl CaptureReader<Box<dyn Read + Send>> {
    /// Opens a capture file, or standard input when `path` is `-`.
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        let input: Box<dyn Read + Send> = if path.as_os_str() == "-" {
            Box::new(io::stdin())
        } else {
            Box::new(
                std::fs::File::open(path).map_err(|source| CaptureError::Open { path: path.to_path_buf(), source })?,
            )
        };
        CaptureReader::new(input)
    }
}

impl<R: Read> CaptureReader<R> {
    /// Reads the file header, detects the format by its magic number and returns a reader
    /// positioned before the first packet.
    pub fn new(reader: R) -> Result<Self, CaptureError> {
        let io_error = Arc::new(Mutex::new(None));
        let mut source = Source { inner: reader, error: Arc::clone(&io_error) };
        let io_err = |source: io::Error| CaptureError::Io { offset: 0, source };
        let mut head = Vec::with_capacity(64);
        read_up_to(&mut source, &mut head, 4).map_err(io_err)?;
        if head.is_empty() {
            return Err(CaptureError::Empty);
        }
        let magic: [u8; 4] = match head.as_slice().try_into() {
            Ok(m) => m,
            Err(_) => {
                return Err(CaptureError::NotACapture {
                    found: head,
                    hint: " (the input is shorter than a magic number)",
                })
            }
        };
        let pcap = match magic {
            [0xd4, 0xc3, 0xb2, 0xa1] => Some((ByteOrder::Little, TsPrecision::Micro, false)),
            [0x4d, 0x3c, 0xb2, 0xa1] => Some((ByteOrder::Little, TsPrecision::Nano, false)),
            [0x34, 0xcd, 0xb2, 0xa1] => Some((ByteOrder::Little, TsPrecision::Micro, true)),
            [0xa1, 0xb2, 0xc3, 0xd4] => Some((ByteOrder::Big, TsPrecision::Micro, false)),
            [0xa1, 0xb2, 0x3c, 0x4d] => Some((ByteOrder::Big, TsPrecision::Nano, false)),
            _ => None,
        };
        if let Some((byte_order, precision, modified)) = pcap {
            read_up_to(&mut source, &mut head, 24).map_err(io_err)?;
            if head.len() < 24 {
                return Err(CaptureError::Truncated {
                    offset: 0,
                    kind: RecordKind::PcapFileHeader,
                    needed: 24,
                    available: head.len() as u64,
                });
            }
            let be = byte_order == ByteOrder::Big;
            let snaplen = u32_at(&head, 16, be).unwrap_or(0);
            let network = u32_at(&head, 20, be).unwrap_or(0);
            let input = Cursor::new(head).chain(source);
            let legacy = LegacyPcapReader::new(INITIAL_BUFFER, input).map_err(|e| CaptureError::Malformed {
                offset: 0,
                kind: RecordKind::PcapFileHeader,
                reason: e.to_string(),
            })?;
            let mut r = Self::with_inner(
                Inner::Legacy(legacy),
                io_error,
                CaptureFormat::Pcap { byte_order, precision, snaplen, modified },
            );
            r.big_endian = be;
            // The upper bits of the link type field carry FCS information.
            r.interfaces.push(Interface {
                link_type: LinkType(network & 0x03FF_FFFF),
                snaplen,
                units_per_sec: match precision {
                    TsPrecision::Micro => 1_000_000,
                    TsPrecision::Nano => 1_000_000_000,
                },
                offset_secs: 0,
            });
            // The legacy reader hands out the file header first.
            match r.inner.it().next() {
                Ok((n, PcapBlockOwned::LegacyHeader(_))) => r.inner.it().consume(n),
                _ => {
                    return Err(CaptureError::Malformed {
                        offset: 0,
                        kind: RecordKind::PcapFileHeader,
                        reason: "the header could not be parsed".into(),
                    })
                }
            }
            r.stats.file_bytes = 24;
            return Ok(r);
        }
        if magic == PCAPNG_SHB.to_le_bytes() {
            // The whole first section header must be in the parser's first read.
            read_up_to(&mut source, &mut head, 12).map_err(io_err)?;
            let len = match Self::pcapng_declared_len(&head, false) {
                Ok(Some(len)) => len,
                Ok(None) => {
                    return Err(CaptureError::Truncated {
                        offset: 0,
                        kind: RecordKind::PcapNgBlock(PCAPNG_SHB),
                        needed: 12,
                        available: head.len() as u64,
                    })
                }
                Err(e) => return Err(e),
            };
            read_up_to(&mut source, &mut head, len).map_err(io_err)?;
            if head.len() < len {
                return Err(CaptureError::Truncated {
                    offset: 0,
                    kind: RecordKind::PcapNgBlock(PCAPNG_SHB),
                    needed: len as u64,
                    available: head.len() as u64,
                });
            }
            let capacity = INITIAL_BUFFER.max(len.next_power_of_two());
            let input = Cursor::new(head).chain(source);
            let ng = PcapNGReader::new(capacity, input).map_err(|e| CaptureError::Malformed {
                offset: 0,
                kind: RecordKind::PcapNgBlock(PCAPNG_SHB),
                reason: e.to_string(),
            })?;
            let mut r = Self::with_inner(Inner::Ng(ng), io_error, CaptureFormat::PcapNg);
            r.capacity = capacity;
            return Ok(r);
        }
        let hint = if magic.iter().all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace()) {
            " (it looks like text)"
        } else {
            ""
        };
        Err(CaptureError::NotACapture { found: magic.to_vec(), hint })
    }

    fn with_inner(inner: Inner<R>, io_error: Arc<Mutex<Option<io::Error>>>, format: CaptureFormat) -> Self {
        CaptureReader {
            inner,
            io_error,
            format,
            capacity: INITIAL_BUFFER,
            exhausted: false,
            pending_consume: 0,
            done: false,
            frame: 0,
            big_endian: false,
            interfaces: Vec::new(),
            last_ts: Timestamp::default(),
            stats: CaptureStats::default(),
        }
    }

    pub fn format(&self) -> CaptureFormat {
        self.format
    }

    pub fn stats(&self) -> &CaptureStats {
        &self.stats
    }

    /// Byte offset in the file of the next record to read.
    pub fn offset(&self) -> u64 {
        self.stats.file_bytes + self.pending_consume as u64
    }

    /// Declared length of the pcapng block at the start of `d`: `Ok(None)` when its header is
    /// not all there yet. For a section header block the byte-order magic decides.
    fn pcapng_declared_len(d: &[u8], big_endian: bool) -> Result<Option<usize>, CaptureError> {
        let Some(raw_type) = d.get(0..4) else {
            return Ok(None);
        };
        let mut be = big_endian;
        let mut kind = RecordKind::PcapNgBlock(u32_at(d, 0, be).unwrap_or(0));
        if raw_type == PCAPNG_SHB.to_le_bytes() {
            kind = RecordKind::PcapNgBlock(PCAPNG_SHB);
            match d.get(8..12) {
                None => return Ok(None),
                Some([0x4d, 0x3c, 0x2b, 0x1a]) => be = false,
                Some([0x1a, 0x2b, 0x3c, 0x4d]) => be = true,
                Some(other) => {
                    return Err(CaptureError::Malformed {
                        offset: 0,
                        kind,
                        reason: format!("the byte-order magic is {other:02x?}"),
                    })
                }
            }
        }
        let Some(len) = u32_at(d, 4, be) else {
            return Ok(None);
        };
        let min = if kind == RecordKind::PcapNgBlock(PCAPNG_SHB) { 28 } else { 12 };
        if len < min || len % 4 != 0 {
            return Err(CaptureError::Malformed {
                offset: 0,
                kind,
                reason: format!("its total length is {len}, which is not a multiple of 4 of at least {min}"),
            });
        }
        if len as usize > MAX_RECORD_LEN {
            return Err(CaptureError::RecordTooLong {
                offset: 0,
                kind,
                declared: u64::from(len),
                limit: MAX_RECORD_LEN as u64,
            });
        }
        Ok(Some(len as usize))
    }

    /// Declared length and kind of the record at the start of the buffer; `Ok(None)` when its
    /// header is not complete. Errors carry offset 0, fixed up by the caller.
    fn declared_len(
        format: CaptureFormat,
        big_endian: bool,
        d: &[u8],
    ) -> Result<Option<(usize, RecordKind)>, CaptureError> {
        match format {
            CaptureFormat::Pcap { modified, .. } => {
                let header = if modified { 24 } else { 16 };
                let Some(caplen) = u32_at(d, 8, big_endian) else {
                    return Ok(None);
                };
                let total = header as u64 + u64::from(caplen);
                if total > MAX_RECORD_LEN as u64 {
                    return Err(CaptureError::RecordTooLong {
                        offset: 0,
                        kind: RecordKind::PcapRecord,
                        declared: total,
                        limit: MAX_RECORD_LEN as u64,
                    });
                }
                if d.len() < header {
                    return Ok(None);
                }
                Ok(Some((total as usize, RecordKind::PcapRecord)))
            }
            CaptureFormat::PcapNg => {
                let kind = RecordKind::PcapNgBlock(if d.get(0..4) == Some(&PCAPNG_SHB.to_le_bytes()) {
                    PCAPNG_SHB
                } else {
                    u32_at(d, 0, big_endian).unwrap_or(0)
                });
                Ok(Self::pcapng_declared_len(d, big_endian)?.map(|n| (n, kind)))
            }
        }
    }

    fn io_failure(&self, offset: u64) -> CaptureError {
        let source =
            self.io_error.lock().ok().and_then(|mut e| e.take()).unwrap_or_else(|| io::Error::other("read failed"));
        CaptureError::Io { offset, source }
    }

    /// Makes the buffer hold at least `want` bytes; false when the input ends first.
    fn fill(&mut self, want: usize, offset: u64) -> Result<bool, CaptureError> {
        loop {
            let have = self.inner.it().data().len();
            if have >= want {
                return Ok(true);
            }
            if self.exhausted {
                return Ok(false);
            }
            // Grow by doubling, and only once the bytes already buffered justify it.
            if want > self.capacity && have * 2 >= self.capacity {
                let new = (self.capacity * 2).min(want.max(INITIAL_BUFFER));
                self.inner.it().grow(new);
                self.capacity = new;
            }
            if self.inner.it().refill().is_err() {
                return Err(self.io_failure(offset));
            }
            self.exhausted = self.inner.it().reader_exhausted();
        }
    }

    /// Returns the next packet, `Ok(None)` at the end of the capture.
    ///
    /// An error ends the capture (later calls return `Ok(None)`) unless
    /// [`CaptureError::is_recoverable`] says the record was skipped; packets returned before an
    /// error stay valid results.
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        if self.pending_consume > 0 {
            let n = self.pending_consume;
            self.inner.it().consume(n);
            self.stats.file_bytes += n as u64;
            self.pending_consume = 0;
        }
        if self.done {
            return Ok(None);
        }
        match self.read_record() {
            Ok(Some(found)) => {
                let data = self.inner.it().data();
                let Some(bytes) = data.get(found.start..found.start + found.len) else {
                    self.done = true;
                    return Err(CaptureError::Malformed {
                        offset: self.stats.file_bytes,
                        kind: RecordKind::PcapRecord,
                        reason: "the packet data lies outside the record".into(),
                    });
                };
                self.stats.packets += 1;
                self.stats.bytes += found.len as u64;
                *self.stats.link_types.entry(found.link_type).or_insert(0) += 1;
                Ok(Some(Packet {
                    frame: self.frame,
                    ts: found.ts,
                    link_type: found.link_type,
                    data: bytes,
                    orig_len: found.orig_len,
                }))
            }
            Ok(None) => {
                self.done = true;
                Ok(None)
            }
            Err(e) => {
                if !e.is_recoverable() {
                    self.done = true;
                }
                Err(e)
            }
        }
    }

    /// Reads records until a packet (left in the buffer, to be consumed at the next call) or the
    /// end.
    fn read_record(&mut self) -> Result<Option<Found>, CaptureError> {
        loop {
            let offset = self.stats.file_bytes;
            let fix = |e: CaptureError| match e {
                CaptureError::Malformed { kind, reason, .. } => CaptureError::Malformed { offset, kind, reason },
                CaptureError::RecordTooLong { kind, declared, limit, .. } => {
                    CaptureError::RecordTooLong { offset, kind, declared, limit }
                }
                other => other,
            };
            // Header of the record.
            let header_len = match self.format {
                CaptureFormat::Pcap { modified: true, .. } => 24,
                CaptureFormat::Pcap { .. } => 16,
                CaptureFormat::PcapNg => 12,
            };
            let (format, be) = (self.format, self.big_endian);
            let mut header = Self::declared_len(format, be, self.inner_data()).map_err(fix)?;
            if header.is_none() {
                self.fill(header_len, offset)?;
                header = Self::declared_len(format, be, self.inner_data()).map_err(fix)?;
            }
            let (len, kind) = match header {
                Some(h) => h,
                None => {
                    let available = self.inner_data().len() as u64;
                    if available == 0 {
                        return Ok(None);
                    }
                    return Err(CaptureError::Truncated {
                        offset,
                        kind: match self.format {
                            CaptureFormat::Pcap { .. } => RecordKind::PcapRecord,
                            CaptureFormat::PcapNg => {
                                RecordKind::PcapNgBlock(u32_at(self.inner_data(), 0, be).unwrap_or(0))
                            }
                        },
                        needed: header_len as u64,
                        available,
                    });
                }
            };
            if !self.fill(len, offset)? {
                return Err(CaptureError::Truncated {
                    offset,
                    kind,
                    needed: len as u64,
                    available: self.inner_data().len() as u64,
                });
            }
            match self.parse_record(offset, kind)? {
                Step::Packet(found) => return Ok(Some(found)),
                Step::Skip(n) => {
                    self.inner.it().consume(n);
                    self.stats.file_bytes += n as u64;
                }
            }
        }
    }

    fn inner_data(&mut self) -> &[u8] {
        self.inner.it().data()
    }

    /// Parses the complete record at the start of the buffer.
    fn parse_record(&mut self, offset: u64, kind: RecordKind) -> Result<Step, CaptureError> {
        let malformed = |reason: String| CaptureError::Malformed { offset, kind, reason };
        let big_endian = self.big_endian;
        // pcap-parser reads the type of unknown blocks as little-endian.
        let opb_type = if big_endian { PCAPNG_OPB.swap_bytes() } else { PCAPNG_OPB };
        let (n, parsed) = match self.inner.it().next() {
            Ok((n, block)) => (n, Parsed::from_block(block, big_endian, opb_type)),
            Err(PcapError::Incomplete(_) | PcapError::UnexpectedEof | PcapError::BufferTooSmall) => {
                return Err(malformed("its contents do not fit in its declared length".into()))
            }
            Err(PcapError::ReadError) => return Err(self.io_failure(offset)),
            Err(e) => return Err(malformed(e.to_string())),
        };
        match parsed {
            Parsed::Skip => Ok(Step::Skip(n)),
            Parsed::Other => {
                self.stats.skipped_blocks += 1;
                Ok(Step::Skip(n))
            }
            Parsed::Malformed(reason) => Err(malformed(reason)),
            Parsed::Section { big_endian } => {
                self.big_endian = big_endian;
                self.interfaces.clear();
                self.stats.sections += 1;
                Ok(Step::Skip(n))
            }
            Parsed::Interface { link_type, snaplen, tsresol, offset_secs } => {
                let Some(units_per_sec) = units_per_sec(tsresol) else {
                    return Err(malformed(format!(
                        "its if_tsresol option 0x{tsresol:02x} gives more than 2^64 units per \
                         second"
                    )));
                };
                self.interfaces.push(Interface { link_type, snaplen, units_per_sec, offset_secs });
                self.stats.interfaces += 1;
                Ok(Step::Skip(n))
            }
            Parsed::Legacy { ts_sec, ts_frac, len, orig_len } => {
                let iface = self.interfaces.first().copied().unwrap_or(Interface {
                    link_type: LinkType(0),
                    snaplen: 0,
                    units_per_sec: 1_000_000,
                    offset_secs: 0,
                });
                // An out-of-range fraction is carried into the seconds rather than rejected.
                let ts = pcapng_ts(u64::from(ts_sec) * iface.units_per_sec + u64::from(ts_frac), &iface);
                self.frame += 1;
                self.last_ts = ts;
                self.pending_consume = n;
                Ok(Step::Packet(Found { ts, link_type: iface.link_type, start: n - len, len, orig_len }))
            }
            Parsed::Packet { if_id, raw_ts, start, len, orig_len } => {
                self.frame += 1;
                self.pending_consume = n;
                let Some(iface) = self.interfaces.get(if_id as usize).copied() else {
                    return Err(self.unknown_interface(offset, kind, if_id));
                };
                let ts = pcapng_ts(raw_ts, &iface);
                self.last_ts = ts;
                Ok(Step::Packet(Found { ts, link_type: iface.link_type, start, len, orig_len }))
            }
            Parsed::Simple { len, orig_len } => {
                self.frame += 1;
                self.pending_consume = n;
                let Some(iface) = self.interfaces.first().copied() else {
                    return Err(self.unknown_interface(offset, kind, 0));
                };
                let len = if iface.snaplen != 0 { len.min(iface.snaplen as usize) } else { len };
                Ok(Step::Packet(Found { ts: self.last_ts, link_type: iface.link_type, start: 12, len, orig_len }))
            }
        }
    }

    fn unknown_interface(&self, offset: u64, kind: RecordKind, interface: u32) -> CaptureError {
        CaptureError::UnknownInterface {
            offset,
            kind,
            frame: self.frame,
            interface,
            known: self.interfaces.len() as u32,
        }
    }
}

#[derive(Debug)]
enum Step {
    Packet(Found),
    Skip(usize),
}

/// The values of a parsed record, copied out so the buffer borrow ends.
#[derive(Debug)]
enum Parsed {
    /// The legacy reader's file header.
    Skip,
    /// A block carrying nothing the reader uses.
    Other,
    Malformed(String),
    Section {
        big_endian: bool,
    },
    Interface {
        link_type: LinkType,
        snaplen: u32,
        tsresol: u8,
        offset_secs: i64,
    },
    Legacy {
        ts_sec: u32,
        ts_frac: u32,
        len: usize,
        orig_len: u32,
    },
    /// An enhanced or obsolete packet block.
    Packet {
        if_id: u32,
        raw_ts: u64,
        start: usize,
        len: usize,
        orig_len: u32,
    },
    Simple {
        len: usize,
        orig_len: u32,
    },
}

impl Parsed {
    fn from_block(block: PcapBlockOwned<'_>, big_endian: bool, opb_type: u32) -> Parsed {
        let block = match block {
            PcapBlockOwned::Legacy(rec) => {
                return Parsed::Legacy {
                    ts_sec: rec.ts_sec,
                    ts_frac: rec.ts_usec,
                    len: rec.data.len(),
                    orig_len: rec.origlen,
                }
            }
            PcapBlockOwned::LegacyHeader(_) => return Parsed::Skip,
            PcapBlockOwned::NG(block) => block,
        };
        match block {
            Block::SectionHeader(shb) => Parsed::Section { big_endian: shb.big_endian() },
            Block::InterfaceDescription(idb) => {
                // if_tsoffset is in the section's byte order (pcap-parser reads it as
                // little-endian), so it is decoded here.
                let offset_secs = idb
                    .options
                    .iter()
                    .find(|o| o.code == OptionCode::IfTsoffset)
                    .and_then(|o| o.as_bytes().ok())
                    .and_then(|b| <[u8; 8]>::try_from(b.get(..8)?).ok())
                    .map(|b| if big_endian { i64::from_be_bytes(b) } else { i64::from_le_bytes(b) })
                    .unwrap_or(0);
                Parsed::Interface {
                    link_type: LinkType(idb.linktype.0 as u32),
                    snaplen: idb.snaplen,
                    tsresol: idb.if_tsresol,
                    offset_secs,
                }
            }
            Block::EnhancedPacket(epb) => Parsed::Packet {
                if_id: epb.if_id,
                raw_ts: (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low),
                start: 28,
                len: (epb.caplen as usize).min(epb.data.len()),
                orig_len: epb.origlen,
            },
            Block::SimplePacket(spb) => {
                Parsed::Simple { len: (spb.origlen as usize).min(spb.data.len()), orig_len: spb.origlen }
            }
            Block::Unknown(ub) if ub.block_type == opb_type => {
                // Obsolete packet block: interface (16 bits), drops (16 bits), timestamp high and
                // low, captured length, original length, data.
                let d = ub.data;
                let fields = (
                    u16_at(d, 0, big_endian),
                    u32_at(d, 4, big_endian),
                    u32_at(d, 8, big_endian),
                    u32_at(d, 12, big_endian),
                    u32_at(d, 16, big_endian),
                );
                let (Some(if_id), Some(hi), Some(lo), Some(caplen), Some(orig_len)) = fields else {
                    return Parsed::Malformed("it is shorter than its fixed fields".into());
                };
                let room = d.len().saturating_sub(20);
                if caplen as usize > room {
                    return Parsed::Malformed(format!(
                        "its captured length {caplen} exceeds the {room} bytes of the block"
                    ));
                }
                Parsed::Packet {
                    if_id: u32::from(if_id),
                    raw_ts: (u64::from(hi) << 32) | u64::from(lo),
                    start: 28,
                    len: caplen as usize,
                    orig_len,
                }
            }
            _ => Parsed::Other,
        }
    }
}
