#!/usr/bin/env bash
# Cost of `rtmpscope proxy` on loopback. Prints figures; asserts nothing.
#
#   benches/proxy.sh [IDLE_SESSIONS]     default 500
#
# 1. Throughput: a bulk RTMP publish (ffmpeg -c copy of a pre-encoded 720p file, as fast as
#    the server takes it) to nginx-rtmp directly and through the proxy (NDJSON to /dev/null).
# 2. Added latency: 2000 ping-pongs of 64 bytes through the proxy to an echo server vs direct;
#    p50 and p99 of the round trip.
# 3. Memory per idle session: RSS of the proxy before and after N connections to nginx sit
#    idle (connected, nothing sent).
# Everything runs on 127.0.0.1 with free high ports; nothing else is touched.
set -euo pipefail
cd "$(dirname "$0")/.."
idle=${1:-500}
for t in nginx ffmpeg python3; do command -v $t >/dev/null || { echo "needs $t" >&2; exit 2; }; done
module=/usr/lib/nginx/modules/ngx_rtmp_module.so
[ -f $module ] || { echo "needs libnginx-mod-rtmp" >&2; exit 2; }
cargo build --release --quiet
bin=$PWD/target/release/rtmpscope
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || true

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

ng_port=$(free_port)
mkdir -p "$work/ng/logs"
cat >"$work/ng/nginx.conf" <<EOF
load_module $module;
daemon off;
master_process off;
worker_processes 1;
error_log $work/ng/logs/error.log warn;
pid $work/ng/nginx.pid;
events { worker_connections 8192; }
rtmp { max_message 32M; server { listen 127.0.0.1:$ng_port; chunk_size 4096;
  application live { live on; record off; } } }
EOF
nginx -p "$work/ng" -c "$work/ng/nginx.conf" & pids+=($!)

start_proxy() { # upstream port → sets proxy_addr (not run in a subshell: it records the pid)
    "$bin" proxy --listen 127.0.0.1:0 --upstream "rtmp://127.0.0.1:$1" -o /dev/null 2>"$work/proxy-$1.err" &
    pids+=($!)
    echo $! >"$work/proxy-$1.pid"
    for _ in $(seq 100); do
        a=$(sed -n 's/^rtmpscope: proxy listening on \([^,]*\),.*/\1/p' "$work/proxy-$1.err")
        [ -n "$a" ] && { proxy_addr=$a; return; }
        sleep 0.05
    done
    echo "proxy did not start" >&2; exit 1
}
sleep 0.3
start_proxy "$ng_port"; proxy=$proxy_addr

echo "== throughput: bulk publish of a 720p file (ffmpeg -c copy, no -re)"
ffmpeg -nostdin -loglevel error -f lavfi -i "testsrc=size=1280x720:rate=30,noise=alls=60:allf=t" -t 10 -c:v libx264 -preset ultrafast \
    -qp 18 -g 30 -f flv "$work/bulk.flv"
size=$(stat -c %s "$work/bulk.flv")
publish() { # url → seconds
    python3 - "$1" "$work/bulk.flv" <<'PY'
import subprocess, sys, time
t = time.perf_counter()
subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", sys.argv[2], "-c", "copy", "-f", "flv", sys.argv[1]], check=True)
print(time.perf_counter() - t)
PY
}
for label in direct proxy; do
    if [ $label = direct ]; then url=rtmp://127.0.0.1:$ng_port/live/bulk; else url=rtmp://$proxy/live/bulk; fi
    best=
    for i in 1 2 3; do
        s=$(publish "$url")
        best=$(python3 -c "print(min(float('$s'), float('${best:-1e9}')))")
    done
    python3 -c "print(f'  $label: {$size/1e6:.1f} MB in {$best:.3f} s = {$size*8/$best/1e6:.0f} Mbit/s (best of 3)')"
done

echo "== added latency: 2000 ping-pongs of 64 bytes"
echo_port=$(free_port)
python3 - "$echo_port" <<'PY' & pids+=($!)
import socket, sys, threading
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1]))); srv.listen(16)
def serve(c):
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while (d := c.recv(65536)):
        c.sendall(d)
while True:
    c, _ = srv.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
sleep 0.3
start_proxy "$echo_port"; echo_proxy=$proxy_addr
python3 - "127.0.0.1:$echo_port" "$echo_proxy" <<'PY'
import socket, sys, time
def rtts(addr):
    h, p = addr.rsplit(":", 1)
    s = socket.create_connection((h, int(p))); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    # An RTMP-looking start so the analysis takes the bytes as a handshake, then payload.
    msg = bytes([3]) + bytes(63)
    out = []
    for i in range(2000):
        t = time.perf_counter_ns(); s.sendall(msg); got = 0
        while got < len(msg):
            got += len(s.recv(65536))
        out.append((time.perf_counter_ns() - t) / 1000)
        msg = bytes(64)
    s.close(); out.sort()
    return out[len(out) // 2], out[len(out) * 99 // 100]
d50, d99 = rtts(sys.argv[1]); p50, p99 = rtts(sys.argv[2])
print(f"  direct: p50 {d50:.0f} us, p99 {d99:.0f} us")
print(f"  proxy:  p50 {p50:.0f} us, p99 {p99:.0f} us  (added: p50 {p50-d50:.0f} us, p99 {p99-d99:.0f} us)")
PY

echo "== memory per idle session ($idle sessions to nginx, connected and silent)"
ppid=$(cat "$work/proxy-$ng_port.pid")
python3 - "$proxy" "$idle" "$ppid" <<'PY'
import socket, sys, time
h, p = sys.argv[1].rsplit(":", 1); n = int(sys.argv[2]); pid = sys.argv[3]
def rss():
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS:"):
            return int(l.split()[1])
time.sleep(0.5); before = rss()
socks = [socket.create_connection((h, int(p))) for _ in range(n)]
time.sleep(2); after = rss()
print(f"  proxy RSS {before} kB idle, {after} kB with {n} sessions: {(after - before) / n:.1f} kB per session")
for s in socks: s.close()
PY
