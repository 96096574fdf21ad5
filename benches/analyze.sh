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
size=$(stat -L -c %s "$cap")
mb=$(python3 -c "print($size/1e6)")

measure() { # label, command...: median wall time of 5 runs, peak RSS of the slowest
    local label=$1; shift
    python3 - "$label" "$mb" "$@" <<'PY'
import statistics, subprocess, sys, time
label, mb, cmd = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
times = []
for _ in range(5):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times.append(time.perf_counter() - t)
out = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
kb = int(out.stderr.strip().splitlines()[-1])
secs = statistics.median(times)
print(f"{label:<8} median {secs:7.3f} s  {mb / secs:8.1f} MB/s  peak RSS {kb / 1024:7.1f} MiB")
open(f"/tmp/rtmpscope-bench.{label}", "w").write(str(secs))
PY
}

echo "capture: $cap ($mb MB)"
measure json   "$bin" analyze "$cap" --format json -o /dev/null --fail-on never
measure ndjson "$bin" analyze "$cap" --format ndjson -o /dev/null --fail-on never
measure text   "$bin" analyze "$cap" --format text -o /dev/null --fail-on never
if command -v tshark >/dev/null; then
    measure tshark tshark -r "$cap" -o rtmpt.max_packet_size:16777216 -d tcp.port==1935,rtmpt -T fields -e rtmpt.header.typeid
    python3 -c "print(f'json vs tshark: {float(open(\"/tmp/rtmpscope-bench.tshark\").read())/float(open(\"/tmp/rtmpscope-bench.json\").read()):.1f}x faster')"
fi
