#!/usr/bin/env bash
# Regenerate the real-world RTMP test captures in this directory.
#
# Runs nginx-rtmp plus ffmpeg / rtmpdump peers inside a private network
# namespace and records their traffic on that namespace's loopback with
# tcpdump (dumpcap for the pcapng capture). Nothing is sent outside the
# namespace. Needs root. Safe to re-run: the namespace is recreated and
# the outputs are overwritten; on exit (also on error or Ctrl-C) every
# process started here is stopped and the namespace is removed.
#
# Usage: captures/make-captures.sh [OUTPUT_DIR]   (default: this directory)
#
# SETS (environment) chooses which captures to make, default all:
#   nginx      ffmpeg / rtmpdump with nginx-rtmp (captures 1-7)
#   gstreamer  GStreamer's rtmp2sink publishing to nginx-rtmp (8)
#   nmsclient  node-media-server's own RTMP client playing from nginx-rtmp (12)
#   nms        ffmpeg / rtmpdump / GStreamer rtmp2src with node-media-server (9-11)
#   rtmplite   ffmpeg publishing to rtmplite3, a pure Python server (13)
# e.g. `SETS=nms captures/make-captures.sh` remakes only the node-media-server
# captures and leaves the others as they are.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=$(mkdir -p "${1:-$HERE}" && cd "${1:-$HERE}" && pwd)
NS=${NS:-rtmpscope-captures}
# shellcheck source=lib/rtmp-netns.sh
source "$HERE/lib/rtmp-netns.sh"

SETS=${SETS:-nginx gstreamer nmsclient nms rtmplite}
want() { [[ " $SETS " == *" $1 "* ]]; }

require_root
ensure_packages
WORK=$(mktemp -d /tmp/rtmpscope-captures.XXXXXX)
netns_install_trap
netns_setup
nginx_start

T=$WORK/out
mkdir -p "$T"

if want nginx; then

# ---------------------------------------------------------------- 1
# ffmpeg publishes H.264 + AAC for 2.5 s (loopback MTU 65536).
log "publish-ffmpeg-h264-aac.pcap"
cap_start tcpdump "$T/publish-ffmpeg-h264-aac.pcap"
publish_small 2.5
cap_stop

# ---------------------------------------------------------------- 2
# ffmpeg plays for 2 s while ffmpeg publishes; both flows are captured
# (the capture starts before the publisher connects).
log "play-ffmpeg.pcap"
cap_start tcpdump "$T/play-ffmpeg.pcap"
publish_small 5 &
PUB=$!
BG_PIDS+=("$PUB")
sleep 1.5
nsx timeout -s INT 10 ffmpeg -hide_banner -nostdin -loglevel error \
    -i "$RTMP_URL" -t 2 -f null -
wait "$PUB"
cap_stop

# ---------------------------------------------------------------- 3
# rtmpdump plays ~2 s of the live stream. The publisher runs too but its
# connection is excluded from the capture filter: one flow only.
log "play-rtmpdump.pcap"
publish_small 6 &
PUB=$!
BG_PIDS+=("$PUB")
sleep 1
PUB_PORT=$(client_port_of_established)
[[ -n $PUB_PORT ]] || die "publisher connection not found"
cap_start tcpdump "$T/play-rtmpdump.pcap" "tcp port 1935 and not tcp port $PUB_PORT"
# -B 2: stop 2 s into the stream; timeout sends SIGINT as a safety net.
nsx timeout -s INT 6 rtmpdump -q -r "$RTMP_URL" --live -B 2 -o /dev/null || true
cap_stop
wait "$PUB"

# ---------------------------------------------------------------- 4
# Same kind of publish as 1, recorded by dumpcap as native pcapng.
log "publish-ffmpeg.pcapng"
cap_start dumpcap "$T/publish-ffmpeg.pcapng"
publish_small 2
cap_stop

# ---------------------------------------------------------------- 5
# Publish whose timestamps start above 0xFFFFFF ms (16777.215 s): 16780 s,
# so every type-0 chunk header carries a 4-byte extended timestamp.
log "publish-ffmpeg-extended-timestamp.pcap"
cap_start tcpdump "$T/publish-ffmpeg-extended-timestamp.pcap"
publish_small 2 -output_ts_offset 16780
cap_stop

# ---------------------------------------------------------------- 6
# Loopback MTU 1500 from here on: TCP segments carry <= 1448 bytes.
netns_set_mtu 1500

# 1280x720 testsrc2, 1 Mbit/s with a high I/P ratio so every key frame
# (one per second) is a video message > 32 KiB, i.e. > 8 chunks of 4096
# and ~30 TCP segments.
log "publish-mtu1500-large-frames.pcap"
cap_start tcpdump "$T/publish-mtu1500-large-frames.pcap"
ffmpeg_q -re \
    -f lavfi -i "testsrc2=size=1280x720:rate=25" \
    -f lavfi -i "sine=frequency=1000:sample_rate=48000" \
    -t 5 -map 0:v -map 1:a \
    -c:v libx264 -preset veryfast -tune zerolatency -g 25 -pix_fmt yuv420p \
    -b:v 1M -x264-params ipratio=10 \
    -c:a aac -b:a 64k -ac 1 \
    -f flv "$RTMP_URL"
cap_stop

# ---------------------------------------------------------------- 7
# Mid-stream capture: record a 6 s publish at MTU 1500, then drop every
# packet before a cut point after t = 2.5 s, so the file starts inside an
# established connection (no SYN, no handshake, no connect/publish
# commands). The cut point is the second full-size (1448-byte) client
# segment after 2.5 s, a piece of a video message larger than one
# segment, so the file starts inside a message, not on a chunk header.
log "midstream-publish.pcap"
cap_start tcpdump "$WORK/midstream-full.pcap"
publish_small 6
cap_stop
FIRST=$(tshark -r "$WORK/midstream-full.pcap" \
    -Y 'frame.time_relative >= 2.5 && tcp.dstport == 1935 && tcp.len == 1448' \
    -T fields -e frame.number 2>/dev/null | sed -n 2p)
LAST=$(capinfos -c -M -T -r "$WORK/midstream-full.pcap" | awk -F'\t' '{print $2}')
[[ -n $FIRST && -n $LAST ]] || die "could not find the mid-stream cut point"
editcap -F pcap -r "$WORK/midstream-full.pcap" "$T/midstream-publish.pcap" "$FIRST-$LAST"
log "    kept packets $FIRST-$LAST of the full recording"
netns_set_mtu 65536
fi # nginx

# The same 2 s of 320x240@25 test video (H.264) and 440 Hz sine (AAC) as
# publish_small, encoded by GStreamer's own elements.
gst_publish() {
    nsx timeout -s INT 15 gst-launch-1.0 -q -e \
        videotestsrc is-live=true num-buffers=50 pattern=smpte \
        ! video/x-raw,width=320,height=240,framerate=25/1,format=I420 \
        ! x264enc tune=zerolatency speed-preset=veryfast key-int-max=25 bitrate=256 \
        ! h264parse ! queue ! flvmux name=mux streamable=true \
        ! rtmp2sink location="$RTMP_URL" \
        audiotestsrc is-live=true num-buffers=87 freq=440 samplesperbuffer=1024 \
        ! audio/x-raw,rate=44100,channels=1 \
        ! avenc_aac bitrate=64000 ! aacparse ! queue ! mux.
}

if want gstreamer; then
# ---------------------------------------------------------------- 8
# GStreamer's own RTMP client (rtmp2sink, gst-plugins-bad) publishes 2 s
# of H.264 + AAC to nginx-rtmp.
log "publish-gstreamer-h264-aac.pcap"
cap_start tcpdump "$T/publish-gstreamer-h264-aac.pcap"
gst_publish
cap_stop
fi # gstreamer

if want nmsclient; then
# ---------------------------------------------------------------- 12
# node-media-server's RTMP client (NodeRtmpClient, what its relay uses:
# nms/pull.js) plays ~2 s from nginx-rtmp while ffmpeg publishes (the
# publisher's connection is not captured).
nms_install "$HERE/nms"
log "play-nms-client-nginx.pcap"
publish_small 6 &
PUB=$!
BG_PIDS+=("$PUB")
sleep 1
PUB_PORT=$(client_port_of_established)
[[ -n $PUB_PORT ]] || die "publisher connection not found"
cap_start tcpdump "$T/play-nms-client-nginx.pcap" "tcp port 1935 and not tcp port $PUB_PORT"
(cd "$NMS_DIR" && nsx timeout -s INT 8 node pull.js "$RTMP_URL" 2000) || true
cap_stop
wait "$PUB"
fi # nmsclient

if want nms; then
# node-media-server replaces nginx on 127.0.0.1:1935.
nginx_stop
nms_start "$HERE/nms"

# ---------------------------------------------------------------- 9
# ffmpeg publishes H.264 + AAC for 2 s to node-media-server.
log "publish-ffmpeg-nms.pcap"
cap_start tcpdump "$T/publish-ffmpeg-nms.pcap"
publish_small 2
cap_stop

# ---------------------------------------------------------------- 10
# rtmpdump plays ~2 s from node-media-server while ffmpeg publishes (the
# publisher's connection is not captured), as in capture 3.
log "play-rtmpdump-nms.pcap"
publish_small 6 &
PUB=$!
BG_PIDS+=("$PUB")
sleep 1
PUB_PORT=$(client_port_of_established)
[[ -n $PUB_PORT ]] || die "publisher connection not found"
cap_start tcpdump "$T/play-rtmpdump-nms.pcap" "tcp port 1935 and not tcp port $PUB_PORT"
nsx timeout -s INT 6 rtmpdump -q -r "$RTMP_URL" --live -B 2 -o /dev/null || true
cap_stop
wait "$PUB"

# ---------------------------------------------------------------- 11
# GStreamer's rtmp2src plays ~2 s from node-media-server while ffmpeg
# publishes (the publisher's connection is not captured).
log "play-gstreamer-nms.pcap"
publish_small 6 &
PUB=$!
BG_PIDS+=("$PUB")
sleep 1
PUB_PORT=$(client_port_of_established)
[[ -n $PUB_PORT ]] || die "publisher connection not found"
cap_start tcpdump "$T/play-gstreamer-nms.pcap" "tcp port 1935 and not tcp port $PUB_PORT"
nsx timeout -s INT 2 gst-launch-1.0 -q -e rtmp2src location="$RTMP_URL" \
    ! flvdemux name=d d.video ! queue ! fakesink d.audio ! queue ! fakesink || true
cap_stop
wait "$PUB"
fi # nms

if want rtmplite; then
# rtmplite3 replaces nginx / node-media-server on 127.0.0.1:1935.
nginx_stop
nms_stop
rtmplite_start 0.4.0

# ---------------------------------------------------------------- 13
# ffmpeg publishes H.264 + AAC for 2 s to rtmplite3.
log "publish-ffmpeg-rtmplite.pcap"
cap_start tcpdump "$T/publish-ffmpeg-rtmplite.pcap"
publish_small 2
cap_stop
fi # rtmplite

# ---------------------------------------------------------------- done
for f in "$T"/*; do
    mv -f -- "$f" "$OUT/"
done
log "made in $OUT:"
(cd "$OUT" && shopt -s nullglob && for f in *.pcap *.pcapng; do
    printf '  %-44s %9d bytes  %5s packets  %s\n' "$f" "$(stat -c %s "$f")" \
        "$(capinfos -c -M -T -r "$f" | awk -F'\t' '{print $2}')" \
        "$(capinfos -t -T -r "$f" | awk -F'\t' '{print $2}')"
done)
printf '  total: %s\n' "$(shopt -s nullglob; cat "$OUT"/*.pcap "$OUT"/*.pcapng | wc -c) bytes"
