#!/usr/bin/env bash
# Make a large (~60 MB) RTMP capture for benchmarks; not committed.
#
# ffmpeg publishes 1280x720 noisy testsrc2 (H.264, 8 Mbit/s, key frame
# every second, AAC audio) to nginx-rtmp as fast as it can encode, inside a
# private network namespace whose loopback MTU is 1500 (wire-sized TCP
# segments); tcpdump records port 1935 on that loopback. The publish stops
# once ffmpeg has written BENCH_FLV_BYTES of FLV (-fs), which gives a
# capture of about 60 MB with Ethernet/IP/TCP headers and ACKs. Needs root.
#
# Usage: benches/make-bench-capture.sh [OUTPUT]
#        (default: bench-data/bench-60mb.pcap, git-ignored)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
OUTPUT=${1:-$ROOT/bench-data/bench-60mb.pcap}
BENCH_FLV_BYTES=${BENCH_FLV_BYTES:-54500000}
NS=${NS:-rtmpscope-bench}
# shellcheck source=../captures/lib/rtmp-netns.sh
source "$ROOT/captures/lib/rtmp-netns.sh"
# Heavy loopback load reorders a few segments; that is real TCP, keep it.
CAP_STRICT=0

require_root
ensure_packages
mkdir -p "$(dirname "$OUTPUT")"
WORK=$(mktemp -d /tmp/rtmpscope-bench.XXXXXX)
netns_install_trap
netns_setup
netns_set_mtu 1500
nginx_start

cap_start tcpdump "$WORK/bench.pcap"
ffmpeg_q \
    -f lavfi -i "testsrc2=size=1280x720:rate=25" \
    -f lavfi -i "sine=frequency=1000:sample_rate=48000" \
    -map 0:v -map 1:a \
    -vf "noise=alls=12:allf=t" \
    -c:v libx264 -preset ultrafast -tune zerolatency -g 25 -pix_fmt yuv420p \
    -b:v 8M -maxrate 8M -bufsize 8M \
    -c:a aac -b:a 128k \
    -fs "$BENCH_FLV_BYTES" \
    -f flv "$RTMP_URL"
cap_stop

mv -f -- "$WORK/bench.pcap" "$OUTPUT"
log "made $OUTPUT: $(stat -c %s "$OUTPUT") bytes, $(capinfos -c -M -T -r "$OUTPUT" | awk -F'\t' '{print $2}') packets"
