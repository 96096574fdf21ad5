#!/usr/bin/env python3
"""Summarise the RTMP messages in a capture as decoded by tshark.

Usage: summary.py CAPTURE [--tshark PATH]

Prints JSON on stdout:

    {"flows": [
      {"client": "127.0.0.1:40000", "server": "127.0.0.1:1935",
       "c2s": {"messages": 120, "max_body_size": 4064,
               "type_counts": {"1": 1, "9": 52, "20": 5, ...},
               "commands": ["connect", "releaseStream", ...],
               "data": ["@setDataFrame"]},
       "s2c": {...}}]}

One entry per TCP connection (tcp.stream), in order of first appearance.
The client is the side that connects to port 1935 (decided by port, not by
SYN, so it also works for captures that start mid-connection). For each
direction:

* type_counts  -- number of RTMP *messages* per message type id (decimal
  string keys, sorted numerically); handshake packets are not counted;
* messages     -- total of type_counts;
* max_body_size -- largest message body length (header body size);
* commands     -- in order, the command name (first AMF0 value, a string)
  of every AMF0 command message (type 20) and AMF3 command message
  (type 17);
* data         -- in order, the first string of every AMF0 data message
  (type 18) and AMF3 data message (type 15), e.g. "@setDataFrame",
  "onMetaData".

tshark invocation (exactly)::

    tshark -n -r CAPTURE -T pdml \\
        -d tcp.port==1935,rtmpt \\
        -o tcp.desegment_tcp_streams:TRUE \\
        -o tcp.analyze_sequence_numbers:TRUE \\
        -o rtmpt.desegment:TRUE \\
        -o rtmpt.max_packet_size:16777216

The -o values other than max_packet_size are the defaults of tshark 4.0;
they are spelled out so that a user preference file cannot change the
result (tshark also reads ~/.config/wireshark/preferences).

How tshark reports messages (RTMPT dissector, Wireshark 4.0):

* The dissector reassembles chunks into messages itself, per chunk stream
  id, and adds one "rtmpt" protocol tree per *complete message*, in the
  frame that carries the message's last byte. One TCP segment may
  therefore carry several "rtmpt" trees (for example Set Peer Bandwidth +
  Set Chunk Size + _result, or an audio/video burst), and a segment that
  only carries the middle of a large message carries none. Counting frames
  (or using `-T fields -e rtmpt.header.typeid` without occurrence=a) gives
  wrong numbers; this script walks the PDML tree and counts every "rtmpt"
  proto element that has an "RTMP Header" child, which is one message.
  Field values in `-T fields` output are flattened per frame, so the AMF
  strings of several messages in one frame can not be told apart there;
  hence PDML.
* A message whose chunk header is type 1, 2 or 3 inherits the type id
  and/or body size from the previous message of its chunk stream; tshark
  then shows no rtmpt.header.typeid / rtmpt.header.bodysize field at all
  (ffmpeg sends such type-3 headers for consecutive equal-size video
  messages). This script carries them over per (connection, direction,
  chunk stream id), like the protocol does. A message that still has no
  known type id (only in mid-stream captures) is counted under "?".
* Handshake segments (C0+C1, S0+S1+S2, C2) appear as "rtmpt" trees
  without an RTMP header; they are skipped.
* rtmpt.max_packet_size (default 32768) is the largest message tshark
  will reassemble. Larger messages (key frames of 720p video easily
  exceed 32 KiB) are dropped from the tree with the default, and the
  dissector loses more than those: on publish-mtu1500-large-frames.pcap
  it reports 112 of the 127 video messages although only 4 exceed
  32 KiB. 16777216 (the 24-bit body size limit) makes every message
  count there.
* Interleaved chunk streams (a large message's chunks with chunks of
  other chunk streams between them) are not exercised by these captures:
  ffmpeg, rtmpdump and nginx-rtmp write each message's chunks back to
  back. The dissector keeps per-chunk-stream state, but its behaviour on
  interleaving is not checked here; messages are in any case reported in
  the frame where they complete, i.e. in order of completion.
* Capture that starts mid-connection (midstream-publish.pcap): tshark
  has no handshake and no Set Chunk Size, so it assumes chunk size 128
  and parses from the first byte of the first segment, which there is in
  the middle of a video message. It does not resynchronise on chunk
  headers: the client direction comes out as garbage "messages" with
  type 0 or no type ("?") and body size 0, and no real audio/video
  message is counted. Only messages that start on a fresh chunk header
  in a direction whose first byte was a header (here nothing but the
  server's final onStatus) are right. Do not use the output for such a
  capture as ground truth.
* TCP retransmissions / out-of-order segments: reassembly follows
  tcp.desegment_tcp_streams; tcp.reassemble_out_of_order is left at its
  default (FALSE). The loopback captures here have none.
"""

import argparse
import json
import subprocess
import sys
import xml.etree.ElementTree as ET

TSHARK_OPTIONS = [
    "-n",
    "-T", "pdml",
    "-d", "tcp.port==1935,rtmpt",
    "-o", "tcp.desegment_tcp_streams:TRUE",
    "-o", "tcp.analyze_sequence_numbers:TRUE",
    "-o", "rtmpt.desegment:TRUE",
    "-o", "rtmpt.max_packet_size:16777216",
]

RTMP_PORT = 1935
COMMAND_TYPES = {17, 20}
DATA_TYPES = {15, 18}


def field_show(packet, name):
    """`show` attribute of the first field `name` in the packet."""
    for f in packet.iter("field"):
        if f.get("name") == name:
            return f.get("show")
    return None


def child_by_show(elem, show):
    for c in elem:
        if c.get("show") == show:
            return c
    return None


def parse_int(text):
    if text is None:
        return None
    try:
        return int(text, 0)
    except ValueError:
        return None


def first_amf_string(body):
    """First AMF value of the body if it is a string, else None."""
    if body is None:
        return None
    for value in body:
        # Each top-level AMF value is a child of the body element; a string
        # value has an amf.string field as a direct child.
        for f in value:
            if f.get("name") in ("amf.string", "amf.longstring"):
                return f.get("show")
        return None
    return None


def new_direction():
    return {"messages": 0, "max_body_size": 0, "type_counts": {},
            "commands": [], "data": []}


def summarise(stream):
    flows = {}  # tcp.stream -> flow dict (insertion order = first seen)
    last_header = {}  # (tcp.stream, direction, csid) -> (type id, body size)
    for _event, packet in ET.iterparse(stream, events=("end",)):
        if packet.tag != "packet":
            continue
        protos = [p for p in packet if p.tag == "proto" and p.get("name") == "rtmpt"]
        if not protos:
            packet.clear()
            continue
        tcp = next((p for p in packet if p.tag == "proto" and p.get("name") == "tcp"), None)
        ip = next((p for p in packet if p.tag == "proto" and p.get("name") in ("ip", "ipv6")), None)
        if tcp is None or ip is None:
            packet.clear()
            continue
        pfx = ip.get("name")
        src = field_show(ip, pfx + ".src")
        dst = field_show(ip, pfx + ".dst")
        sport = int(field_show(tcp, "tcp.srcport"))
        dport = int(field_show(tcp, "tcp.dstport"))
        sid = field_show(tcp, "tcp.stream")

        def ep(addr, port):
            return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"

        if dport == RTMP_PORT and sport != RTMP_PORT:
            client, server, direction = ep(src, sport), ep(dst, dport), "c2s"
        elif sport == RTMP_PORT and dport != RTMP_PORT:
            client, server, direction = ep(dst, dport), ep(src, sport), "s2c"
        else:  # both or neither on 1935: lower port is the server
            if sport < dport:
                client, server, direction = ep(dst, dport), ep(src, sport), "s2c"
            else:
                client, server, direction = ep(src, sport), ep(dst, dport), "c2s"

        flow = flows.get(sid)
        if flow is None:
            flow = flows[sid] = {"client": client, "server": server,
                                 "c2s": new_direction(), "s2c": new_direction()}
        d = flow[direction]

        for proto in protos:
            header = child_by_show(proto, "RTMP Header")
            if header is None:
                continue  # handshake
            type_id = parse_int(field_show(header, "rtmpt.header.typeid"))
            size = parse_int(field_show(header, "rtmpt.header.bodysize"))
            csid = field_show(header, "rtmpt.header.csid")
            # A type-1/2/3 header may omit the type id and/or size: tshark
            # then does not show them; they are those of the previous
            # message on the same chunk stream.
            prev = last_header.get((sid, direction, csid), (None, None))
            if type_id is None:
                type_id = prev[0]
            if size is None:
                size = prev[1]
            last_header[(sid, direction, csid)] = (type_id, size)
            size = size or 0
            key = str(type_id) if type_id is not None else "?"
            d["type_counts"][key] = d["type_counts"].get(key, 0) + 1
            d["messages"] += 1
            d["max_body_size"] = max(d["max_body_size"], size)
            if type_id in COMMAND_TYPES or type_id in DATA_TYPES:
                body = child_by_show(proto, "RTMP Body")
                name = first_amf_string(body)
                target = d["commands"] if type_id in COMMAND_TYPES else d["data"]
                target.append(name if name is not None else "")
        packet.clear()

    out = []
    for flow in flows.values():
        for direction in ("c2s", "s2c"):
            tc = flow[direction]["type_counts"]
            flow[direction]["type_counts"] = {
                k: tc[k] for k in sorted(tc, key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else 0))
            }
        out.append(flow)
    return {"flows": out}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("capture")
    ap.add_argument("--tshark", default="tshark")
    args = ap.parse_args()
    cmd = [args.tshark, "-r", args.capture] + TSHARK_OPTIONS
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        result = summarise(proc.stdout)
    finally:
        proc.stdout.close()
        stderr = proc.stderr.read().decode(errors="replace")
        rc = proc.wait()
    if rc != 0:
        sys.stderr.write(stderr)
        sys.exit(f"tshark exited with status {rc}")
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
