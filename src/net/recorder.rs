//! Records a relayed connection as pcapng: synthesized Ethernet/IPv4 (or IPv6)/TCP framing
//! around exactly the bytes the proxy read from each side, with their real read times.
//!
//! Frames are numbered the way `analyze` (and Wireshark) numbers them: 1 SYN, 2 SYN-ACK, 3 ACK,
//! then one frame per read, then FIN or RST. The numbering is kept even when nothing is
//! written, so live events name the frame a recording would have.

use crate::capture::file::ByteOrder;
use crate::capture::synth::{PcapNgWriter, SegmentSpec, SynthLink, TsResolution};
use crate::capture::{LinkType, TcpFlags, Timestamp};
use crate::wire::Direction;
use std::io::{self, Write};
use std::net::SocketAddr;

/// Initial sequence numbers of the client and the server.
const ISN: [u32; 2] = [0x1000_0000, 0x2000_0000];
/// Snap length announced for the interface (no record is cut: reads are far smaller).
const SNAPLEN: u32 = 262_144;
/// Most payload bytes in one synthesized segment (an IPv4 packet is at most 65535 bytes).
pub const MAX_SEGMENT_PAYLOAD: usize = 65_495;

/// Frame numbering and, when given a writer, the pcapng recording.
#[derive(Debug)]
pub struct Recorder<W: Write> {
    out: Option<PcapNgWriter<W>>,
    /// Client, server.
    addrs: [SocketAddr; 2],
    next_seq: [u32; 2],
    frames: u64,
    frame: Vec<u8>,
}

fn flags(syn: bool, ack: bool, fin: bool, rst: bool) -> TcpFlags {
    TcpFlags { syn, ack, fin, rst }
}

impl<W: Write> Recorder<W> {
    /// Starts the recording with the connection's three-way handshake at `ts`.
    pub fn new(out: Option<W>, client: SocketAddr, server: SocketAddr, ts: Timestamp) -> io::Result<Self> {
        let out = match out {
            Some(w) => {
                let mut ng = PcapNgWriter::new(w, ByteOrder::Little)?;
                ng.add_interface(LinkType::ETHERNET, SNAPLEN, TsResolution::Decimal(9), 0)?;
                Some(ng)
            }
            None => None,
        };
        let mut r = Recorder { out, addrs: [client, server], next_seq: ISN, frames: 0, frame: Vec::new() };
        r.packet(0, flags(true, false, false, false), &[], ts, 0)?;
        r.packet(1, flags(true, true, false, false), &[], ts, 0)?;
        r.packet(0, flags(false, true, false, false), &[], ts, 0)?;
        Ok(r)
    }

    fn packet(&mut self, from: usize, f: TcpFlags, payload: &[u8], ts: Timestamp, advance: u32) -> io::Result<u64> {
        self.frames += 1;
        let seq = self.next_seq[from];
        let ack = if f.ack { self.next_seq[1 - from] } else { 0 };
        let syn_fin = u32::from(f.syn) + u32::from(f.fin);
        self.next_seq[from] = seq.wrapping_add(payload.len() as u32).wrapping_add(syn_fin).wrapping_add(advance);
        if let Some(out) = &mut self.out {
            let spec = SegmentSpec {
                src: self.addrs[from],
                dst: self.addrs[1 - from],
                seq,
                ack,
                flags: f,
                window: 65535,
                payload: payload.to_vec(),
            };
            SynthLink::Ethernet.frame_into(&spec, &mut self.frame);
            out.write_epb(0, ts, &self.frame, self.frame.len() as u32)?;
        }
        Ok(self.frames)
    }

    /// Whether a file is being written.
    pub fn is_recording(&self) -> bool {
        self.out.is_some()
    }

    /// Stops writing (after a write error); frame numbering goes on.
    pub fn stop_recording(&mut self) {
        self.out = None;
    }

    /// Records bytes `dir`'s sender sent at `ts` (at most [`MAX_SEGMENT_PAYLOAD`] bytes);
    /// returns their frame number.
    pub fn data(&mut self, dir: Direction, ts: Timestamp, bytes: &[u8]) -> io::Result<u64> {
        let n = bytes.len().min(MAX_SEGMENT_PAYLOAD);
        self.packet(dir.index(), flags(false, true, false, false), &bytes[..n], ts, 0)
    }

    /// `len` bytes of `dir` that are not recorded: the sequence numbers jump over them, so a
    /// reader of the recording sees a gap exactly where the live analysis had one.
    pub fn skip(&mut self, dir: Direction, len: u64) {
        let i = dir.index();
        self.next_seq[i] = self.next_seq[i].wrapping_add(len as u32);
    }

    /// `dir`'s sender closed (FIN) or reset (RST) its side.
    pub fn close(&mut self, dir: Direction, reset: bool, ts: Timestamp) -> io::Result<u64> {
        self.packet(dir.index(), flags(false, !reset, !reset, reset), &[], ts, 0)
    }

    /// Flushes and returns the writer.
    pub fn finish(self) -> io::Result<Option<W>> {
        match self.out {
            Some(out) => {
                let mut w = out.into_inner();
                w.flush()?;
                Ok(Some(w))
            }
            None => Ok(None),
        }
    }
}
