#!/usr/bin/env bash
# Throughput and peak memory of `rtmpscope analyze` on a large capture, next to tshark on the
# same file. Prints figures; asserts nothing (speed is proven here, never in a timed test).
#
#   benches/analyze.sh [CAPTURE]      default: bench-data/bench-60mb.pcap, made by
#                                     benches/make-bench-capture.sh when missing
set -euo pipefail
cd "$(dirname "$0")/.."
cap=${1:-bench-data/bench-60mb.pcap}
if [ ! -f "$cap" ]; then
    benches/make-bench-capture.sh "$cap"
fi
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
cargo build --release --quiet
bin=target/release/rtmpscope
size=$(stat -c %s "$cap")
mb=$(python3 -c "print($size/1e6)")

measure() { # label, command...
    local label=$1; shift
    local best=
    local rss=
    for _ in 1 2 3; do
        /usr/bin/time -f '%e %M' -o /tmp/rtmpscope-bench.time "$@" >/dev/null 2>/dev/null || true
        read -r secs kb < /tmp/rtmpscope-bench.time
        if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $secs < $best else 1)"; then best=$secs; rss=$kb; fi
    done
    python3 - "$label" "$best" "$rss" "$mb" <<'PY'
import sys
label, secs, kb, mb = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
rate = mb / secs if secs > 0 else float("inf")
print(f"{label:<28} {secs:7.3f} s  {rate:8.1f} MB/s  peak RSS {kb/1024:7.1f} MiB")
PY
    echo "$best" > "/tmp/rtmpscope-bench.$label"
}

echo "capture: $cap ($mb MB)"
measure json   "$bin" analyze "$cap" --format json -o /dev/null --fail-on never
measure ndjson "$bin" analyze "$cap" --format ndjson -o /dev/null --fail-on never
measure text   "$bin" analyze "$cap" --format text -o /dev/null --fail-on never
if command -v tshark >/dev/null; then
    measure tshark tshark -r "$cap" -o rtmpt.max_packet_size:16777216 -d tcp.port==1935,rtmpt -T fields -e rtmpt.header.typeid
    python3 -c "print(f'json vs tshark: {float(open(\"/tmp/rtmpscope-bench.tshark\").read())/float(open(\"/tmp/rtmpscope-bench.json\").read()):.1f}x faster')"
fi
