#!/usr/bin/env bash
# The large hostile inputs, too big or too slow for the test suite, run on the release build.
# Prints wall time and peak RSS of each; asserts nothing (the bounded versions are tests in
# tests/hostile_matrix.rs and tests/hostile_captures.rs). The figures go in docs/hostile.md.
#
#   benches/hostile.sh [FLOWS] [ZERO_BYTES] [RANDOM_BYTES]
#       defaults: 1000000 flows, 1000000000 zero bytes, 100000000 random bytes; 0 skips a case
#
# - FLOWS SYN-only flows on port 1935, from a generated pcap file (bench-data/, git-ignored).
# - One flow on port 1935 carrying ZERO_BYTES zero bytes from the client, generated as it is
#   read through standard input (never stored).
# - One flow on port 1935 carrying RANDOM_BYTES random bytes after C0 = 3 (framing lost at once,
#   searched for at every position), also through standard input.
set -euo pipefail
cd "$(dirname "$0")/.."
flows=${1:-1000000}
zeros=${2:-1000000000}
random=${3:-100000000}
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
cargo build --release --quiet
bin=target/release/rtmpscope
gen=benches/hostile-gen.py
mkdir -p bench-data

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"

if [ "$flows" != 0 ]; then
cap=bench-data/syn-flows-$flows.pcap
[ -f "$cap" ] || python3 "$gen" syn-flows "$flows" > "$cap"
echo "$flows SYN-only flows ($(stat -c %s "$cap") bytes of pcap):"
for format in json ndjson; do
    /usr/bin/time -f "  $format: %e s, peak RSS %M KiB" "$bin" analyze "$cap" --format "$format" -o /dev/null --fail-on never
done
fi

if [ "$random" != 0 ]; then
echo "one flow of $random random bytes on port 1935, through standard input:"
cap=bench-data/random-$random.pcap
[ -f "$cap" ] || python3 "$gen" random "$random" > "$cap"
/usr/bin/time -f "  json: %e s, peak RSS %M KiB" "$bin" analyze - --fail-on never < "$cap" \
    | python3 -c '
import json, sys
r = json.load(sys.stdin)
c = r["flows"][0]["c2s"]["chunk"]
print("  c2s chunk counters:", json.dumps(c), " findings:", sorted({f["rule"] for f in r["findings"]}))
'
fi

[ "$zeros" != 0 ] || exit 0
echo "one flow of $zeros zero bytes on port 1935, through standard input:"
# The report (one zero-length message per 13 bytes) goes through tail, which keeps its last
# bytes only: the summary.
python3 "$gen" zeros "$zeros" \
    | /usr/bin/time -f "  json: %e s, peak RSS %M KiB" "$bin" analyze - --fail-on never \
    | tail -c 2000 | python3 -c '
import re, sys
t = sys.stdin.read()
s = t[t.rindex("\"summary\""):]
print("  summary:", " ".join(s.split())[:300])
'
