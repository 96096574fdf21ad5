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
    rule!("handshake.digest-missing", Warning, Misbehaviour, "RTMP 1.0 §5.2.3; Flash digest handshake (de facto)", "Version field set but no digest", "C1/S1 bytes 4-7 announce a digest handshake, but no HMAC digest validates at either position; FFmpeg and librtmp players reject such a server."),
    rule!("handshake.digest-signature-invalid", Warning, Misbehaviour, "Flash digest handshake (de facto)", "Digest handshake response not signed", "The peer sent a digest hello, but the response is neither signed with the key derived from that digest nor an echo."),
    rule!("handshake.echo-random-mismatch", Warning, Misbehaviour, "RTMP 1.0 §5.2.4; RTMP errata §3", "C2/S2 does not echo the peer's random bytes", "In the plain handshake, C2 and S2 repeat the random field of S1 and C1."),
    rule!("handshake.echo-time-mismatch", Warning, Misbehaviour, "RTMP 1.0 §5.2.4; RTMP errata §3", "C2/S2 does not echo the peer's time", "In the plain handshake, the first field of C2/S2 repeats the time of S1/C1."),
    rule!("handshake.encrypted", Info, Notable, "RTMPE (de facto)", "Encrypted RTMP (RTMPE)", "Version 6, 8 or 9 announces RTMPE: everything after the handshake is encrypted and cannot be decoded."),
    rule!("handshake.not-rtmp", Error, Malformed, "RTMP 1.0 §5.2.2", "Not RTMP", "Version bytes of 32 and above are forbidden so RTMP can be told apart from text protocols; the stream looks like something else (HTTP, RTMPT or TLS when recognised)."),
    rule!("handshake.random-all-zero", Warning, Misbehaviour, "RTMP 1.0 §5.2.3", "Handshake random field all zeros", "C1/S1 carry random bytes so each side can tell its own handshake from its peer's; this one is all zeros."),
    rule!("handshake.s1-copies-c1", Warning, Misbehaviour, "RTMP 1.0 §5.2.3", "S1 is a copy of C1", "The server sent the client's own C1 back as S1 (a habit of nginx-rtmp in the plain handshake); S1 should carry the server's own time and random bytes."),
    rule!("handshake.truncated", Error, Malformed, "RTMP 1.0 §5.2.3", "Handshake cut short", "C0+C1+C2 and S0+S1+S2 are exactly 1 + 1536 + 1536 bytes; the direction ended before that."),
    rule!("handshake.version-deprecated", Error, Malformed, "RTMP 1.0 §5.2.2", "Deprecated handshake version", "Versions 0-2 are deprecated; plain RTMP is version 3."),
    rule!("handshake.version-mismatch", Warning, Misbehaviour, "RTMP 1.0 §5.2.2", "S0 answers another version", "The server's version byte neither equals the client's nor is 3."),
    rule!("handshake.version-reserved", Warning, Misbehaviour, "RTMP 1.0 §5.2.2", "Reserved handshake version", "Versions 4-31 are reserved; plain RTMP is version 3."),
    rule!("handshake.zero-field-nonzero", Info, Notable, "RTMP 1.0 §5.2.3; Flash digest handshake (de facto)", "Digest handshake in use", "C1/S1 bytes 4-7 must be zero in the plain handshake; here they carry a version and a valid digest, the de-facto Flash handshake."),
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
    // protocol control
    rule!("control.abort-chunk-stream-invalid", Warning, Misbehaviour, "RTMP 1.0 §5.4.2, §5.3.1.1", "Abort names an impossible chunk stream", "Chunk stream ids are 2 to 65599; an Abort naming another id cannot refer to anything."),
    rule!("control.bad-length", Error, Malformed, "RTMP 1.0 §5.4.1-5.4.5", "Control message of the wrong length", "Set Chunk Size, Abort, Acknowledgement and Window Acknowledgement Size carry exactly 4 bytes, Set Peer Bandwidth 5."),
    rule!("control.chunk-size-huge", Info, Notable, "RTMP 1.0 §5.4.1", "Chunk size above 0xFFFFFF", "No message is longer than 0xFFFFFF bytes, so a larger chunk size acts as 0xFFFFFF."),
    rule!("control.chunk-size-invalid", Error, Malformed, "RTMP 1.0 §5.4.1", "Invalid chunk size", "The chunk size is 1 to 0x7FFFFFFF: the top bit must be 0 and the value not 0."),
    rule!("control.chunk-size-small", Warning, Misbehaviour, "RTMP 1.0 §5.4.1", "Chunk size below 128", "Chunk sizes under the default 128 are legal but wasteful, and some receivers refuse them."),
    rule!("control.peer-bandwidth-limit-type", Error, Malformed, "RTMP 1.0 §5.4.5", "Unknown Set Peer Bandwidth limit type", "The limit type is 0 (hard), 1 (soft) or 2 (dynamic)."),
    rule!("control.peer-bandwidth-short", Warning, Malformed, "RTMP 1.0 §5.4.5", "Set Peer Bandwidth without limit type", "Set Peer Bandwidth carries a 4-byte window and a 1-byte limit type; this one has no limit type."),
    rule!("control.window-zero", Error, Misbehaviour, "RTMP 1.0 §5.4.4-5.4.5", "Window of zero bytes", "A window acknowledgement size or peer bandwidth of 0 leaves no valid window."),
    // user control
    rule!("user-control.too-long", Warning, Malformed, "RTMP 1.0 §7.1.7", "User control event data too long", "The event carries more data than its type defines."),
    rule!("user-control.too-short", Error, Malformed, "RTMP 1.0 §6.2, §7.1.7", "User control event data too short", "A user control message has a 2-byte event type and the data its type defines (4 bytes for most, 8 for SetBufferLength)."),
    rule!("user-control.unknown-event", Info, Notable, "RTMP 1.0 §7.1.7", "Unknown user control event", "The event type is not defined by RTMP nor a known de-facto extension; it is kept raw."),
    rule!("user-control.wrong-direction", Warning, Misbehaviour, "RTMP 1.0 §7.1.7", "User control event sent the wrong way", "Stream and ping-request events go from server to client; SetBufferLength and ping responses from client to server."),
    // media tags
    rule!("media.aac-config-esds", Error, Malformed, "FLV 10.1 §E.4.2.2; ISO 14496-3 §1.6.2.1", "esds or ADTS header instead of AudioSpecificConfig", "The AAC sequence header must be a bare AudioSpecificConfig; this one is an MP4 esds payload or starts with an ADTS header."),
    rule!("media.aac-config-invalid", Error, Malformed, "ISO 14496-3 §1.6.2.1", "Invalid AudioSpecificConfig", "The AudioSpecificConfig is too short or names object type 0, a reserved sampling frequency index or a zero explicit rate."),
    rule!("media.adts-in-flv", Error, Malformed, "FLV 10.1 §E.4.2.2", "ADTS header in a raw AAC frame", "Raw AAC frames in FLV carry no ADTS header; the configuration travels in the sequence header."),
    rule!("media.aggregate-back-pointer", Warning, Malformed, "RTMP 1.0 §7.1.6", "Aggregate back-pointer mismatch", "The 4 bytes after each sub-message should equal its length plus the 11-byte sub-header."),
    rule!("media.aggregate-leftover", Error, Malformed, "RTMP 1.0 §7.1.6", "Bytes left over in an aggregate", "Bytes remain after the last sub-message that cannot hold an 11-byte sub-header."),
    rule!("media.aggregate-overrun", Error, Malformed, "RTMP 1.0 §7.1.6", "Aggregate sub-message runs past the end", "A sub-message length (or its back-pointer) runs past the end of the aggregate body."),
    rule!("media.aggregate-sub-stream-id", Info, Notable, "RTMP 1.0 §7.1.6", "Sub-message with its own stream id", "Sub-message stream ids are replaced by the aggregate's stream id, so non-zero values are ignored."),
    rule!("media.aggregate-sub-type", Warning, Misbehaviour, "RTMP 1.0 §7.1.6", "Unexpected message type in an aggregate", "Aggregates carry audio, video and data messages (types 8, 9 and 18); other types are not expected there."),
    rule!("media.aggregate-timestamp-offset", Info, Notable, "RTMP 1.0 §7.1.6", "Aggregate timestamp differs from its first sub-message", "Sub-message timestamps are shifted by the difference between the aggregate timestamp and the first sub-message timestamp, which is usually 0."),
    rule!("media.annexb-in-flv", Error, Malformed, "FLV 10.1 §E.4.3.2; ISO 14496-15 §5.3.2", "Annex-B start codes in FLV video", "AVC and HEVC units in FLV are prefixed with their length, never with 00 00 01 start codes."),
    rule!("media.av1-config-invalid", Error, Malformed, "AV1-ISOBMFF §2.3.3", "Invalid AV1CodecConfigurationRecord", "The record is shorter than 4 bytes, its marker and version are not 1, or its reserved or bit-depth fields are inconsistent."),
    rule!("media.avc-config-invalid", Error, Malformed, "ISO 14496-15 §5.3.3.1; FLV 10.1 §E.4.3.2", "Invalid AVCDecoderConfigurationRecord", "The record has a configurationVersion other than 1, no SPS, or parameter sets that run past its end."),
    rule!("media.avc-length-size-invalid", Error, Malformed, "ISO 14496-15 §5.3.3.1.2, §8.3.3.1.2", "Invalid NAL length size", "lengthSizeMinusOne is 0, 1 or 3; a 3-byte NAL unit length is not allowed."),
    rule!("media.coded-frame-empty", Warning, Misbehaviour, "FLV 10.1 §E.4.3.1 (derived)", "Coded frame without NAL units", "A coded-frames packet carries no NAL unit at all."),
    rule!("media.config-trailing-bytes", Warning, Malformed, "ISO 14496-15; AV1-ISOBMFF; VP codec binding; RFC 7845 (derived)", "Bytes after a codec configuration record", "The configuration record ended before the sequence header did; the extra bytes mean nothing."),
    rule!("media.flac-header-invalid", Error, Malformed, "E-RTMP v2 Enhanced Audio; FLAC format STREAMINFO", "Invalid FLAC sequence start", "A FLAC sequence start is \"fLaC\" followed by the 34-byte STREAMINFO block and any further metadata blocks, each complete."),
    rule!("media.hevc-config-invalid", Error, Malformed, "ISO 14496-15 §8.3.3.1", "Invalid HEVCDecoderConfigurationRecord", "The record is shorter than its 23-byte header, has a configurationVersion other than 1, or NAL arrays that run past its end."),
    rule!("media.idr-in-inter-frame", Warning, Misbehaviour, "FLV 10.1 §E.4.3.1 (derived)", "IDR picture in an inter frame", "A packet flagged as an inter frame carries an IDR / IRAP picture, so players seeking to key frames miss it."),
    rule!("media.keyframe-without-idr", Warning, Misbehaviour, "FLV 10.1 §E.4.3.1 (derived)", "Key frame without an IDR picture", "A packet flagged as a key frame carries no IDR / IRAP picture, so decoding cannot start there."),
    rule!("media.nal-forbidden-bit", Error, Malformed, "H.264 §7.4.1; H.265 §7.4.2.1", "NAL forbidden_zero_bit set", "The first bit of every NAL unit header must be 0."),
    rule!("media.nalu-length-invalid", Error, Malformed, "FLV 10.1 §E.4.3.2; ISO 14496-15 §5.3.2", "NAL unit length does not fit", "A NAL unit length is zero, runs past the end of the packet, or is cut off."),
    rule!("media.opus-header-invalid", Error, Malformed, "RFC 7845 §5.1; E-RTMP v2 Enhanced Audio", "Invalid Opus ID header", "The Opus sequence start is not a complete \"OpusHead\" identification header with a consistent channel mapping."),
    rule!("media.sps-invalid", Error, Malformed, "H.264 §7.3.2.1.1; H.265 §7.3.2.2", "Sequence parameter set does not decode", "The first SPS of the configuration is not an SPS or ends (or goes out of range) before its picture size."),
    rule!("media.vp-config-invalid", Error, Malformed, "VP Codec ISO Media File Format Binding §2.2", "Invalid VPCodecConfigurationRecord", "The record is shorter than 8 bytes or has an out-of-range profile, bit depth, chroma subsampling or initialization data size."),
    rule!("ertmp.composition-time-mismatch", Error, Malformed, "E-RTMP v2 Enhanced Video", "Composition time present or missing against the packet type", "CodedFrames of avc1, hvc1 and vvc1 carry a 3-byte composition time and CodedFramesX do not; the NAL units only line up when counted the other way."),
    rule!("ertmp.metadata-invalid", Warning, Misbehaviour, "E-RTMP v1/v2 Metadata Frame", "Unexpected video metadata pair", "A Metadata packet holds AMF name/value pairs and colorInfo with an object is the only pair defined."),
    rule!("ertmp.modex-invalid", Error, Malformed, "E-RTMP v2 ModEx", "ModEx cut short", "A ModEx wrapper needs its size, that many data bytes and a type byte, and TimestampOffsetNano data at least 3 bytes."),
    rule!("ertmp.modex-type-unknown", Error, Malformed, "E-RTMP v2 ModEx", "Unknown ModEx type", "Only ModExType 0 (TimestampOffsetNano) is defined; the data of other types is skipped."),
    rule!("ertmp.mpeg2ts-sequence-start-not-av1", Error, Malformed, "E-RTMP v1 Enhanced Video", "MPEG2TSSequenceStart for a codec other than AV1", "MPEG2TSSequenceStart carries an AV1 video descriptor and is defined for av01 only."),
    rule!("ertmp.multichannel-config-invalid", Error, Malformed, "E-RTMP v2 Enhanced Audio", "Invalid MultichannelConfig", "MultichannelConfig holds an order of 0-2, a channel count and exactly a 4-byte mask (native) or one defined speaker per channel (custom)."),
    rule!("ertmp.multitrack-nested", Error, Malformed, "E-RTMP v2 Multitrack", "Multitrack inside multitrack", "The packet type a multitrack header names for its tracks must not be Multitrack (or ModEx) again."),
    rule!("ertmp.multitrack-size-overrun", Error, Malformed, "E-RTMP v2 Multitrack", "Track size runs past the message", "A track's UI24 size must end on the next track or the end of the message; this one runs past it."),
    rule!("ertmp.multitrack-size-underrun", Error, Malformed, "E-RTMP v2 Multitrack", "Bytes after the last track", "Bytes are left where another track would start, too few for its header, so the track sizes do not add up to the message."),
    rule!("ertmp.multitrack-type-unknown", Error, Malformed, "E-RTMP v2 Multitrack", "Unknown multitrack type", "AvMultitrackType is 0 (one track), 1 (many tracks) or 2 (many tracks, many codecs)."),
    rule!("ertmp.nano-offset-range", Error, Malformed, "E-RTMP v2 ModEx", "TimestampOffsetNano out of range", "The nanosecond offset is at most 999,999; larger values belong in the millisecond timestamp."),
    rule!("media.aac-packet-type", Error, Malformed, "FLV 10.1 §E.4.2.2", "Unknown AAC packet type", "AACPacketType is 0 (AudioSpecificConfig) or 1 (raw frame)."),
    rule!("media.audio-empty", Info, Notable, "E-RTMP v2 Enhanced Audio", "Empty audio message", "An audio message with no bytes; some peers use it to signal silence."),
    rule!("media.audio-packet-type-unknown", Error, Malformed, "E-RTMP v2 Enhanced Audio", "Unknown audio packet type", "In an enhanced audio header, AudioPacketType 3, 6 and 8-15 are not defined."),
    rule!("media.avc-packet-type", Error, Malformed, "FLV 10.1 §E.4.3.1", "Unknown AVC packet type", "AVCPacketType is 0 (sequence header), 1 (NAL units) or 2 (end of sequence)."),
    rule!("media.codec-id-unknown", Error, Malformed, "FLV 10.1 §E.4.3.1", "Unknown video codec id", "Legacy video codec ids are 2-7 (12 and 13 are de-facto HEVC and AV1)."),
    rule!("media.composition-time-nonzero", Warning, Misbehaviour, "FLV 10.1 §E.4.3.1", "Composition time on a sequence header", "The composition time is 0 unless the packet carries coded frames."),
    rule!("media.fourcc-unknown", Error, Malformed, "E-RTMP v2 Enhanced Audio/Video", "Unknown FourCC", "The codec FourCC of an enhanced header is not one E-RTMP defines."),
    rule!("media.frame-type-invalid", Error, Malformed, "FLV 10.1 §E.4.3.1; E-RTMP v2 Enhanced Video", "Invalid video frame type", "Video frame types are 1-5."),
    rule!("media.header-short", Error, Malformed, "FLV 10.1 §E.4.2-E.4.3; E-RTMP v2", "Media tag header cut short", "The audio or video message is shorter than its tag header (codec byte, packet type, composition time, FourCC)."),
    rule!("media.legacy-av1-codec-id", Warning, Misbehaviour, "FLV 10.1 §E.4.3.1; E-RTMP v1", "AV1 under legacy codec id 13", "Codec id 13 for AV1 is a non-standard extension; E-RTMP signals AV1 with the av01 FourCC."),
    rule!("media.legacy-hevc-codec-id", Warning, Misbehaviour, "FLV 10.1 §E.4.3.1; E-RTMP v1", "HEVC under legacy codec id 12", "Codec id 12 for HEVC is a non-standard extension; E-RTMP signals HEVC with the hvc1 FourCC."),
    rule!("media.sound-format-undefined", Warning, Misbehaviour, "FLV 10.1 §E.4.2.1", "Undefined sound format", "Sound formats 12 and 13 are not defined by FLV (some forks use them for Opus)."),
    rule!("media.video-command-invalid", Error, Malformed, "FLV 10.1 §E.4.3.1; E-RTMP v2", "Invalid video command frame", "A video info/command frame carries exactly one byte: 0 (start of seek) or 1 (end of seek)."),
    rule!("media.video-packet-type-unknown", Error, Malformed, "E-RTMP v2 Enhanced Video", "Unknown video packet type", "In an enhanced video header, VideoPacketType 8-15 are not defined."),
    // AMF0
    rule!("amf0.amf3-not-decoded", Info, Notable, "AMF0 §3.1", "AMF3 value not decoded", "An AVM+ marker switched to AMF3; this version keeps the AMF3 bytes raw and stops decoding the body there."),
    rule!("amf0.bad-object-end", Error, Malformed, "AMF0 §2.5, §2.11", "Empty property name not followed by object end", "Inside an object, an empty property name is only legal as part of the end marker 00 00 09."),
    rule!("amf0.bad-reference", Error, Malformed, "AMF0 §2.9", "Reference to a missing value", "A reference names an index of the complex values decoded so far in the body; this index does not exist."),
    rule!("amf0.date-timezone", Warning, Misbehaviour, "AMF0 §2.13", "Date with a non-zero time zone", "The time zone field of a date is reserved and should be 0."),
    rule!("amf0.duplicate-key", Warning, Misbehaviour, "AMF0 §2.5 (derived)", "Property name repeated", "The same property name appears twice in one object; decoders keep different copies."),
    rule!("amf0.ecma-count-mismatch", Warning, Misbehaviour, "AMF0 §2.10", "ECMA array count differs from its entries", "The count before an ECMA array should equal the number of entries that follow."),
    rule!("amf0.ecma-missing-end", Info, Notable, "AMF0 §2.10", "ECMA array without end marker", "The ECMA array held exactly its declared entries and the body ended without the object-end marker (a legacy form readers accept)."),
    rule!("amf0.empty-class-name", Warning, Misbehaviour, "AMF0 §2.18", "Typed object with an empty class name", "A typed object names its class; an empty name is an anonymous object written the wrong way."),
    rule!("amf0.invalid-utf8", Error, Malformed, "AMF0 §1.3.1, §2.4", "String is not valid UTF-8", "AMF0 strings are UTF-8; invalid sequences were replaced for display."),
    rule!("amf0.long-string-could-be-short", Info, Notable, "AMF0 §2.14", "Long string that fits a short string", "A string under 65536 bytes was written with the long-string marker; legal but unusual."),
    rule!("amf0.non-canonical-boolean", Info, Notable, "AMF0 §2.3", "Boolean byte other than 0 or 1", "Any non-zero byte means true, but encoders write 1."),
    rule!("amf0.object-end-outside-object", Error, Malformed, "AMF0 §2.11", "Object-end marker where a value belongs", "The object-end marker 0x09 only closes an object, typed object or ECMA array."),
    rule!("amf0.reserved-marker", Error, Malformed, "AMF0 §2.6, §2.16", "Reserved AMF0 marker", "Markers 0x04 (movieclip) and 0x0E (recordset) are reserved and never serialised."),
    rule!("amf0.strict-array-count", Error, Malformed, "AMF0 §2.12", "Strict array count larger than the body", "The strict array declares more values than the remaining bytes could hold."),
    rule!("amf0.too-deep", Warning, Capture, "rtmpscope limits (AMF0 §2.5)", "AMF nesting limit reached", "Containers nest deeper than the limit; decoding stopped there."),
    rule!("amf0.too-many-values", Warning, Capture, "rtmpscope limits", "AMF value limit reached", "The body holds more values than the limit; decoding stopped there."),
    rule!("amf0.truncated", Error, Malformed, "AMF0 §2.2-2.18", "AMF0 value cut short", "A value or its declared length runs past the end of the message body."),
    rule!("amf0.unknown-marker", Error, Malformed, "AMF0 §2.1", "Unknown AMF0 marker", "AMF0 type markers are 0x00 to 0x11."),
    rule!("amf0.unterminated-object", Error, Malformed, "AMF0 §2.5, §2.10, §2.18", "Object without end marker", "An object, typed object or ECMA array ends with 00 00 09; the body ended first."),
    // stateful: chunk stream, protocol control and user control (rules/checks/control.rs)
    rule!("chunk.csid-multiple-streams", Info, Notable, "RTMP 1.0 §5.3.1.2.1", "Chunk stream shared by several message streams", "A type-0 header moved the chunk stream to another message stream; legal, but most senders keep one message stream per chunk stream."),
    rule!("chunk.extended-timestamp-inconsistent", Error, Misbehaviour, "RTMP 1.0 §5.3.1.2.2-5.3.1.2.3, §5.3.1.3", "Absolute timestamp in a type-1/2 extended field", "The extended timestamp of a type-1 or type-2 header is a delta, but this one equals roughly the previous absolute timestamp, so the sender wrote an absolute value where the delta belongs."),
    rule!("chunk.timestamp-backwards", Warning, Misbehaviour, "RTMP errata §5.2; RTMP 1.0 §5.3.1", "Timestamp goes backwards", "Within one direction, message stream and message type, a timestamp is earlier (in serial arithmetic) than the one before it without a seek or play asking for it."),
    rule!("chunk.timestamp-jump", Warning, Misbehaviour, "RTMP 1.0 §5.3.1; RFC 1982 §3.2", "Timestamps 2^31 or more apart", "Two consecutive timestamps of one track are so far apart that serial arithmetic cannot tell a jump forward from a step back."),
    rule!("control.ack-overdue", Warning, Misbehaviour, "RTMP 1.0 §5.4.3-5.4.4", "Acknowledgement overdue", "The receiver got more than the announced window (plus one message) since the announcement or its last Acknowledgement without sending one."),
    rule!("control.ack-sequence-backwards", Error, Misbehaviour, "RTMP 1.0 §5.4.3", "Acknowledgement sequence number decreased", "The sequence number counts the bytes received so far, so it never decreases except when the 32-bit counter wraps."),
    rule!("control.ack-beyond-received", Error, Misbehaviour, "RTMP 1.0 §5.4.3", "Acknowledgement of bytes never sent", "An Acknowledgement carries the number of bytes received so far; this one counts more bytes than the peer has sent, often a Window Acknowledgement Size sent with the Acknowledgement type id."),
    rule!("control.ack-sequence-mismatch", Warning, Misbehaviour, "RTMP 1.0 §5.4.3", "Acknowledgement does not match the bytes received", "The sequence number is far from the number of bytes that had arrived in that direction, whether or not the handshake is counted."),
    rule!("control.chunk-size-mid-message", Warning, Misbehaviour, "RTMP 1.0 §5.4.1", "Chunk size changed in the middle of a message", "Set Chunk Size came while another message of the same sender was still being chunked, so that message uses two chunk sizes, a case receivers handle differently."),
    rule!("control.not-on-chunk-stream-2", Warning, Misbehaviour, "RTMP 1.0 §5.4", "Protocol control message off chunk stream 2", "Protocol control messages are sent on chunk stream 2; other chunk streams decode fine but strict receivers reject them."),
    rule!("control.not-on-stream-0", Error, Misbehaviour, "RTMP 1.0 §5.4", "Protocol control message off message stream 0", "Protocol control messages must use message stream 0."),
    rule!("control.window-ack-size-not-answered", Info, Notable, "RTMP 1.0 §5.4.5", "Set Peer Bandwidth not answered", "A Set Peer Bandwidth changed the window in effect but the receiver never sent a Window Acknowledgement Size with it."),
    rule!("user-control.not-on-chunk-stream-2", Warning, Misbehaviour, "RTMP 1.0 §6.2", "User control message off chunk stream 2", "User control messages are sent on chunk stream 2, like the protocol control messages."),
    rule!("user-control.not-on-stream-0", Warning, Misbehaviour, "RTMP 1.0 §6.2", "User control message off message stream 0", "User control messages should use message stream 0; the stream an event is about is carried in its data."),
    rule!("user-control.ping-response-mismatch", Warning, Misbehaviour, "RTMP 1.0 §7.1.7", "Ping response does not echo the request", "A PingResponse carries the same 4 bytes as the PingRequest it answers; this one matches no outstanding request."),
    rule!("user-control.ping-unanswered", Warning, Misbehaviour, "RTMP 1.0 §7.1.7", "Ping request never answered", "The peer kept sending messages after a PingRequest but never sent the PingResponse echoing it."),
    rule!("user-control.unknown-stream", Warning, Misbehaviour, "RTMP 1.0 §7.1.7", "User control event for an unknown stream", "The event names a message stream that no createStream result created (stream 0 is always accepted)."),
    // stateful: commands and their sequencing (rules/checks/commands.rs)
    rule!("command.amf3-not-negotiated", Error, Misbehaviour, "RTMP errata §8.1.1", "AMF3 message without objectEncoding 3", "Command and data messages of types 17 and 15 may only be used once the connect exchange agreed on objectEncoding 3."),
    rule!("command.answer-to-txn-zero", Warning, Misbehaviour, "RTMP 1.0 §7.2.1.2 (derived)", "Answer with transaction id 0", "Transaction id 0 marks a request that expects no answer, so a _result or _error carrying it answers nothing."),
    rule!("command.before-connect", Error, Misbehaviour, "RTMP 1.0 §7.2.1.1 (derived)", "Command before connect", "The connect command opens the NetConnection and must come before every other command."),
    rule!("command.call-unanswered", Info, Notable, "RTMP 1.0 §7.2.1.2", "Call never answered", "A call with a non-zero transaction id got neither _result nor _error before the session ended; peers often ignore calls they do not know."),
    rule!("command.connect-missing-field", Error, Misbehaviour, "RTMP 1.0 §7.2.1.1; RTMP errata §8.1.2-8.1.3", "connect without app or tcUrl", "The connect command object must carry the application name app and the server URL tcUrl as strings."),
    rule!("command.connect-repeated", Error, Misbehaviour, "RTMP 1.0 §7.2.1.1 (derived)", "Second connect", "A connection is connected once; a second connect on the same connection has no defined meaning."),
    rule!("command.connect-result-status", Error, Misbehaviour, "RTMP 1.0 §7.2.1.1", "connect _result without the success status", "A _result to connect reports code NetConnection.Connect.Success with level status; failures are sent as _error."),
    rule!("command.connect-stream-nonzero", Error, Misbehaviour, "RTMP 1.0 §7.2.1; RTMP errata §8", "connect on a message stream other than 0", "NetConnection commands such as connect travel on message stream 0."),
    rule!("command.connect-transaction-id", Warning, Misbehaviour, "RTMP 1.0 §7.2.1.1", "connect transaction id is not 1", "The specification fixes the transaction id of connect at 1; servers still have to answer with the id actually used."),
    rule!("command.create-stream-id-invalid", Error, Misbehaviour, "RTMP 1.0 §7.2.1.3; RTMP errata §7", "createStream returned an invalid stream id", "The _result to createStream carries a new message stream id, an integer from 1 to 16777215 not already in use."),
    rule!("command.netstream-transaction-id", Info, Notable, "RTMP 1.0 §7.2.2.1, §7.2.2.6", "play or publish with a non-zero transaction id", "The specification lists transaction id 0 for play and publish; FFmpeg and librtmp number them like calls, which servers accept."),
    rule!("command.netstream-unknown-stream", Error, Misbehaviour, "RTMP 1.0 §7.2.2", "NetStream command on a stream that does not exist", "play, play2, publish, closeStream, receiveAudio, receiveVideo, seek and pause travel on a message stream returned by createStream and not deleted since."),
    rule!("command.no-answer", Warning, Misbehaviour, "RTMP 1.0 §7.2.1.1, §7.2.1.3", "connect or createStream never answered", "The server answers connect and createStream with _result or _error; none arrived before the session ended."),
    rule!("command.object-encoding-upgraded", Error, Misbehaviour, "RTMP errata §8.1.1", "Server chose a higher objectEncoding than offered", "The objectEncoding in the connect _result may not exceed what the client offered (0 when it offered none)."),
    rule!("command.onstatus-header", Error, Malformed, "RTMP 1.0 §7.2.2", "onStatus with a transaction id or command object", "onStatus carries transaction id 0 and a null command object, followed by the info object."),
    rule!("command.onstatus-info-object", Error, Malformed, "RTMP 1.0 §7.2.2", "onStatus info object incomplete", "The onStatus info object carries a level string (status, warning or error) and a code string."),
    rule!("command.onstatus-level-mismatch", Warning, Misbehaviour, "RTMP 1.0 §7.2.2 (derived)", "onStatus level contradicts its code", "A code naming a failure (Failed, BadName, StreamNotFound, Rejected and the like) should not have level status, nor a Start or Success code level error."),
    rule!("command.onstatus-no-description", Warning, Misbehaviour, "RTMP 1.0 §7.2.2", "onStatus without description", "The onStatus info object should carry a human-readable description next to level and code."),
    rule!("command.onstatus-wrong-stream", Error, Misbehaviour, "RTMP 1.0 §7.2.2 (derived)", "onStatus on the wrong message stream", "NetStream status travels on the message stream of that NetStream, NetConnection status on stream 0."),
    rule!("command.response-unmatched", Error, Misbehaviour, "RTMP 1.0 §7.2 (derived)", "Answer matching no request", "Every _result and _error repeats the transaction id of one outstanding request of the peer and answers it exactly once."),
    rule!("command.tracking-limit", Info, Capture, "rtmpscope limits", "Too many requests waiting for answers", "More requests waited for an answer than the limit; answers in that direction are no longer matched to requests."),
    // stateful: media (rules/checks/media.rs)
    rule!("media.before-stream-start", Warning, Misbehaviour, "RTMP 1.0 §7.2.2.1, §7.2.2.6 (derived)", "Media before the stream started", "Audio and video flow on a stream once the server has reported NetStream.Publish.Start to the publisher or NetStream.Play.Start to the player."),
    rule!("media.coded-before-sequence-header", Error, Misbehaviour, "FLV 10.1 §E.4.2.2, §E.4.3.2 (derived); E-RTMP v1", "Coded frames before the sequence header", "AAC, AVC and E-RTMP codecs need their decoder configuration (the sequence header) before the first coded frame of the stream."),
    rule!("media.first-video-not-keyframe", Warning, Misbehaviour, "FLV 10.1 §E.4.3.1 (derived)", "First video frame is not a key frame", "After a video sequence header, decoding can only start at a key frame, so the first coded frame should be one."),
    rule!("media.metadata-dimensions-mismatch", Warning, Misbehaviour, "FLV 10.1 §E.5", "Metadata picture size differs from the coded one", "The width and height that onMetaData declares should be the picture size the video sequence header codes."),
    rule!("media.metadata-codec-mismatch", Warning, Misbehaviour, "FLV 10.1 §E.5 (onMetaData); E-RTMP v1", "Metadata names another codec", "The videocodecid or audiocodecid in onMetaData differs from the codec the stream's media actually uses."),
    rule!("media.negative-pts", Error, Misbehaviour, "FLV 10.1 §E.4.3.1 (derived)", "Presentation time before zero", "The message timestamp plus the composition time offset is the presentation time, which cannot be negative."),
    rule!("media.sequence-header-mid-stream", Info, Notable, "FLV 10.1 §E.4.2.2, §E.4.3.2 (derived)", "Sequence header after coded frames", "A new decoder configuration arrived after coded frames of the same track, a codec or resolution change or a repeat."),
    // stateful: E-RTMP capabilities and signalling (rules/checks/ertmp.rs)
    rule!("ertmp.capabilities-unknown-bits", Warning, Misbehaviour, "E-RTMP v2 Enhancing NetConnection connect Command", "Undefined capability flag bits", "FourCcInfoMask defines bits 0x07 (CanDecode, CanEncode, CanForward) and CapsExMask bits 0x0F (Reconnect, Multitrack, ModEx, TimestampNanoOffset); other bits mean nothing yet."),
    rule!("ertmp.caps-ex-not-announced", Warning, Misbehaviour, "E-RTMP v2 Enhancing NetConnection connect Command", "Multitrack, ModEx or nano offset sent to a client that did not announce it", "The server sent media using a capsEx feature (Multitrack 0x02, ModEx 0x04, TimestampNanoOffset 0x08) that the client's connect capsEx does not include."),
    rule!("ertmp.connect-capabilities-invalid", Error, Malformed, "E-RTMP v2 Enhancing NetConnection connect Command", "E-RTMP capability property of the wrong type", "fourCcList is a strict array of FourCC strings or \"*\", the FourCcInfoMaps are objects of FourCC keys with whole-number flags, and capsEx is a whole number."),
    rule!("ertmp.fourcc-not-announced", Warning, Misbehaviour, "E-RTMP v2 Enhancing NetConnection connect Command", "Codec sent to a client that did not announce it", "The server sent enhanced media with a FourCC that the client's connect named in neither fourCcList nor the FourCcInfoMap of that media kind (nor through the \"*\" wildcard)."),
    rule!("ertmp.metadata-codec-id-string", Warning, Misbehaviour, "E-RTMP v2 Enhancing onMetaData; FLV 10.1 §E.5", "onMetaData codec id written as a string", "videocodecid and audiocodecid are numbers; an enhanced codec is written as its FourCC read as a big-endian integer, not as the FourCC string."),
    rule!("ertmp.mixed-signalling", Warning, Misbehaviour, "E-RTMP v1/v2 Enhanced Audio/Video (derived)", "Legacy and enhanced headers for one codec on one track", "One codec of a message stream's audio or video was signalled both with legacy headers (AVC, AAC, MP3, de-facto HEVC/AV1 ids) and with E-RTMP enhanced headers; decoders may lose the configuration on the switch."),
    rule!("ertmp.reconnect-not-announced", Warning, Misbehaviour, "E-RTMP v2 Reconnect Request", "ReconnectRequest sent to a client that did not announce it", "A client announces that it handles NetConnection.Connect.ReconnectRequest with capsEx Reconnect (0x01); this client did not."),
    rule!("ertmp.reconnect-request-invalid", Error, Malformed, "E-RTMP v2 Reconnect Request", "Malformed ReconnectRequest", "A NetConnection.Connect.ReconnectRequest status must have level status, and its optional tcUrl is a URI reference string."),
    rule!("ertmp.server-capabilities-absent", Info, Notable, "E-RTMP v2 Enhancing NetConnection connect Command", "Server states no E-RTMP support", "The client announced E-RTMP capabilities but the connect _result properties state none of the server's (videoFourCcInfoMap, audioFourCcInfoMap, capsEx or fourCcList)."),
    // messages
    rule!("message.not-decoded", Info, Notable, "RTMP 1.0 §7.1", "Message body not decoded", "The message type is known but this version does not decode its body; the bytes are accounted for and summarised."),
    rule!("message.unknown-type", Warning, Malformed, "RTMP 1.0 §5.4, §6, §7.1", "Unknown message type", "The message type id is not defined by RTMP; the body was skipped."),
    // shared objects
    rule!("shared-object.amf3-layout", Info, Notable, "RTMP 1.0 §7.1.3", "Layout of an AMF3 shared object message", "The specification does not say whether a type-16 body starts with a format-selector byte as types 17 and 15 do; the layout whose events fit the body was used."),
    rule!("shared-object.event-data-invalid", Error, Malformed, "RTMP 1.0 §7.1.3", "Shared object event data does not decode", "Status carries a code and a level string, Remove, RequestRemove and Success a property name, Change and RequestChange name/value pairs; this data does not fit its event."),
    rule!("shared-object.event-overrun", Error, Malformed, "RTMP 1.0 §7.1.3", "Shared object event runs past the message", "Each event has a type byte, a 4-byte data length and that many data bytes, all inside the message body."),
    rule!("shared-object.event-type-unknown", Warning, Misbehaviour, "RTMP 1.0 §7.1.3", "Unknown shared object event type", "Shared object event types are 1 (Use) to 11 (UseSuccess); the data of other types is skipped."),
    rule!("shared-object.header-short", Error, Malformed, "RTMP 1.0 §7.1.3", "Shared object header cut short", "A shared object message starts with the object's name, a 4-byte version and 8 flag bytes; the body ended first."),
    rule!("shared-object.wrong-direction", Warning, Misbehaviour, "RTMP 1.0 §7.1.3", "Shared object event sent the wrong way", "Use, Release, RequestChange and RequestRemove go from client to server; Change, Success, Status, Clear, Remove and UseSuccess from server to client; SendMessage goes both ways."),
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
            assert!(
                r.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-'),
                "{}",
                r.id
            );
            assert!(!r.title.is_empty() && !r.spec.is_empty() && r.explanation.ends_with('.'), "{}", r.id);
        }
    }
}
