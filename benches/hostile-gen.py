#!/usr/bin/env python3
"""Writes hostile captures for benches/hostile.sh to standard output (classic pcap, raw IPv4).

  hostile-gen.py syn-flows N      N flows, each a single SYN from its own client port/address
                                  to port 1935 (nothing else: no handshake, no payload)
  hostile-gen.py zeros BYTES      one flow on port 1935: SYN, SYN+ACK, then BYTES zero bytes
                                  from the client in 65,000-byte segments, written as they go
  hostile-gen.py random BYTES     the same with C0 = 3 and then random bytes in 1,460-byte
                                  segments (a fixed seed): framing is lost at once and searched
                                  for at every later position

Checksums are left zero: the analyser does not verify them.
"""
import struct
import sys

out = sys.stdout.buffer
LINKTYPE_RAW = 101


def header():
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 0xFFFF, LINKTYPE_RAW))


def packet(ts, src, dst, sport, dport, seq, ack, flags, payload_len, payload=b""):
    tcp = struct.pack(">HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    total = 20 + 20 + payload_len
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, 6, 0, src, dst)
    rec = struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, total, total)
    out.write(rec + ip + tcp)
    if payload_len:
        out.write(payload)


def syn_flows(n):
    server = bytes([10, 0, 0, 1])
    for i in range(n):
        # 64,000 client ports per client address.
        sport = 1024 + i % 64000
        client = bytes([10, 1 + (i // 64000) // 256, (i // 64000) % 256, 2])
        packet(i, client, server, sport, 1935, 1000 + i, 0, 0x02, 0)


def zeros(total):
    c, s = bytes([10, 0, 0, 2]), bytes([10, 0, 0, 1])
    packet(0, c, s, 50000, 1935, 0, 0, 0x02, 0)
    packet(1, s, c, 1935, 50000, 0, 1, 0x12, 0)
    seq, sent, ts, seg = 1, 0, 2, 65000
    zero = bytes(seg)
    while sent < total:
        n = min(seg, total - sent)
        packet(ts, c, s, 50000, 1935, seq & 0xFFFFFFFF, 1, 0x18, n, zero[:n])
        seq += n
        sent += n
        ts += 1


def random_bytes(total):
    import random as r

    rng = r.Random(1935)
    c, s = bytes([10, 0, 0, 2]), bytes([10, 0, 0, 1])
    packet(0, c, s, 50000, 1935, 0, 0, 0x02, 0)
    packet(1, s, c, 1935, 50000, 0, 1, 0x12, 0)
    seq, sent, ts, seg = 1, 0, 2, 1460
    while sent < total:
        n = min(seg, total - sent)
        payload = bytearray(rng.randbytes(n))
        if sent == 0:
            payload[0] = 3
        packet(ts, c, s, 50000, 1935, seq & 0xFFFFFFFF, 1, 0x18, n, bytes(payload))
        seq += n
        sent += n
        ts += 1


def main():
    kind, n = sys.argv[1], int(float(sys.argv[2]))
    header()
    {"syn-flows": syn_flows, "zeros": zeros, "random": random_bytes}[kind](n)
    out.flush()


if __name__ == "__main__":
    main()
