//! The catalogue. Sorted by area; within an area, by id.

use super::Nature::{Capture, Malformed, Misbehaviour, Notable};
use super::Rule;
use super::Severity::{Error, Info, Warning};

macro_rules! rule {
    ($id:literal, $sev:ident, $nature:ident, $spec:literal, $title:literal, $expl:literal) => {
        Rule { id: $id, severity: $sev, nature: $nature, spec: $spec, title: $title, explanation: $expl }
    };
}

pub static CATALOGUE: &[Rule] = &[
    // capture and TCP
    rule!("capture.ip-fragment", Warning, Capture, "RFC 791 §2.3; RFC 8200 §4.5", "IP fragment not reassembled", "The packet is an IP fragment; fragments are counted but not reassembled, so its bytes are missing from the TCP stream."),
    rule!("capture.snaplen-truncated", Warning, Capture, "pcap snaplen", "Packet cut by the snap length", "The capture kept only part of the packet; the missing TCP payload is treated as a gap."),
    rule!("capture.unsupported-link-type", Warning, Capture, "pcap LINKTYPE registry", "Unsupported link type", "Packets of this link-layer type cannot be decoded and were skipped."),
    rule!("capture.malformed-packet", Warning, Capture, "RFC 791; RFC 8200; RFC 9293", "Malformed packet headers", "A link, IP or TCP header could not be decoded; the packet was skipped."),
    rule!("capture.truncated-file", Error, Capture, "pcap / pcapng file format", "Capture file cut short", "The file ends inside a record or block; everything before it was analysed."),
    rule!("tcp.gap", Warning, Capture, "RFC 9293 §3.4", "Bytes missing from the capture", "Part of a TCP stream was never captured; decoding skips it and says whether framing survived."),
    rule!("tcp.overlap-differs", Error, Capture, "RFC 9293 §3.4", "Retransmitted bytes differ", "The same TCP sequence range was captured twice with different content; the first copy was used."),
    rule!("tcp.retransmission", Info, Capture, "RFC 9293 §3.4", "TCP retransmission", "Bytes already seen were sent again with the same content."),
    rule!("tcp.out-of-order", Info, Capture, "RFC 9293 §3.4", "Out-of-order segments", "Segments arrived ahead of a hole and were held until it filled."),
    rule!("tcp.buffer-limit", Warning, Capture, "rtmpscope limits", "Out-of-order buffer limit reached", "Too many bytes waited for a hole to fill; the hole was declared a gap."),
    rule!("tcp.mid-stream-start", Info, Capture, "RFC 9293 §3.5", "Capture starts mid-connection", "No SYN was captured for this direction; stream offsets count from the first byte captured."),
    rule!("tcp.data-after-close", Warning, Misbehaviour, "RFC 9293 §3.6", "Data after FIN or RST", "The side sent data after closing its direction."),
    rule!("limits.in-flight-bytes", Warning, Capture, "rtmpscope limits", "Partial-message memory limit reached", "A message would have made the partial messages held for one direction exceed the limit; its body was skipped, its header kept."),
    // handshake
    rule!("handshake.truncated", Error, Malformed, "RTMP 1.0 §5.2.3", "Handshake cut short", "C0+C1+C2 and S0+S1+S2 are exactly 1 + 1536 + 1536 bytes; the direction ended before that."),
    // chunk stream
    rule!("chunk.extended-timestamp-unneeded", Info, Notable, "RTMP 1.0 §5.3.1.3", "Extended timestamp that would fit 24 bits", "The timestamp field announced an extended timestamp whose value is below 0xFFFFFF; legal but wasteful."),
    rule!("chunk.first-chunk-not-type0", Error, Misbehaviour, "RTMP 1.0 §5.3.1.2.1", "First chunk of a chunk stream is not type 0", "The first chunk on a chunk stream must carry a full type-0 header; there is no earlier header to inherit from."),
    rule!("chunk.message-incomplete", Warning, Malformed, "RTMP 1.0 §5.3.1.2.5", "Message never completed", "A message declared more bytes than arrived before the stream ended or lost framing."),
    rule!("chunk.message-interrupted", Error, Misbehaviour, "RTMP 1.0 §5.3.1.2.4", "New message header in the middle of a message", "Until a message is complete, the next chunk on its chunk stream must be a type-3 continuation; the partial message was discarded."),
    rule!("chunk.negative-delta", Error, Misbehaviour, "RTMP 1.0 §5.3.1.2.1", "Timestamp delta of 2^31 or more", "A type-1/2 delta this large is a timestamp going back; that needs a type-0 header with the absolute timestamp."),
    rule!("chunk.non-minimal-basic-header", Info, Notable, "RTMP 1.0 §5.3.1.1", "Longer basic header than needed", "The chunk stream id fits a shorter basic header form; legal but unusual."),
    rule!("chunk.resync", Warning, Capture, "RTMP 1.0 §5.3.1", "Chunk framing recovered", "Framing was lost (a capture starting mid-connection, a gap, or undecodable bytes) and found again at a header confirmed by the chunks that follow it."),
    rule!("chunk.truncated-header", Warning, Malformed, "RTMP 1.0 §5.3.1", "Chunk header cut off", "The stream ended inside a chunk header."),
    rule!("chunk.type3-missing-extended-timestamp", Error, Malformed, "RTMP errata §5.1; RTMP 1.0 §5.3.1.3", "Type-3 chunk without the extended timestamp", "While the last type-0/1/2 header on a chunk stream used an extended timestamp, every type-3 chunk on it repeats the 4 bytes; this one does not (a habit of older librtmp-based peers)."),
    rule!("chunk.undecoded-bytes", Error, Malformed, "RTMP 1.0 §5.3.1", "Bytes that are not chunks", "Bytes where no chunk header could be confirmed; they were skipped."),
    rule!("chunk.unknown-chunk-stream", Info, Capture, "RTMP 1.0 §5.3.1.2", "Chunk stream whose type-0 header was not captured", "After a resynchronisation, a chunk stream continued with a header that inherits from a type-0 header the capture does not have."),
    // messages
    rule!("message.not-decoded", Info, Notable, "RTMP 1.0 §7.1", "Message body not decoded", "The message type is known but this version does not decode its body; the bytes are accounted for and summarised."),
    rule!("message.unknown-type", Warning, Malformed, "RTMP 1.0 §5.4, §6, §7.1", "Unknown message type", "The message type id is not defined by RTMP; the body was skipped."),
    // commands
    rule!("command.empty", Error, Malformed, "RTMP 1.0 §7.1.1", "Command with no values", "A command message starts with its name and transaction id; this body holds no AMF values."),
    rule!("command.format-selector", Error, Malformed, "RTMP errata §7.2", "AMF3 message without the 0 format selector", "Type 17 and 15 bodies start with a format-selector byte that must be 0."),
    rule!("command.missing-transaction-id", Error, Malformed, "RTMP 1.0 §7.1.1", "Command without a transaction id", "A command name must be followed by a transaction id."),
    rule!("command.name-not-string", Error, Malformed, "RTMP 1.0 §7.1.1", "Command name is not a string", "The first value of a command message is the command name, an AMF string."),
    rule!("command.transaction-id-not-number", Error, Malformed, "RTMP 1.0 §7.1.1", "Transaction id is not a number", "The second value of a command message is the transaction id, an AMF number."),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut seen = HashSet::new();
        for r in CATALOGUE {
            assert!(seen.insert(r.id), "duplicate rule id {}", r.id);
            let (area, slug) = r.id.split_once('.').expect("area.slug");
            assert!(!area.is_empty() && !slug.is_empty(), "{}", r.id);
            assert!(r.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-'), "{}", r.id);
            assert!(!r.title.is_empty() && !r.spec.is_empty() && r.explanation.ends_with('.'), "{}", r.id);
        }
    }
}
