# shellcheck shell=bash
# Shared helpers for the capture scripts (sourced, not executed).
#
# Everything runs inside a private network namespace: nginx-rtmp listens on
# the namespace's loopback (127.0.0.1:1935), peers connect to 127.0.0.1, and
# captures are taken on that loopback only. Nothing leaves the namespace.
#
# The caller must set:
#   NS    name of the namespace to create (deleted and recreated if present)
#   WORK  a private temporary directory (removed on exit)
# and call `netns_install_trap` once after setting them.

RTMP_URL=${RTMP_URL:-rtmp://127.0.0.1/live/test}
NGINX_RTMP_MODULE=${NGINX_RTMP_MODULE:-/usr/lib/nginx/modules/ngx_rtmp_module.so}

# pids of background processes started by this script (capture tools,
# nginx, publishers); killed by the exit trap if still running.
BG_PIDS=()
NGINX_PID=
CAP_PID=
CAP_ERR=
CAP_FILE=
# 1: a capture with any gap in a TCP sequence is an error (see
# cap_check_complete); the benchmark capture sets 0.
CAP_STRICT=${CAP_STRICT:-1}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

require_root() {
    [[ $(id -u) -eq 0 ]] || die "must run as root (network namespaces, packet capture)"
}

# Install the Debian packages that provide the tools we call, if missing.
ensure_packages() {
    local -a missing=()
    command -v nginx    >/dev/null || missing+=(nginx-light)
    [[ -f $NGINX_RTMP_MODULE ]]    || missing+=(libnginx-mod-rtmp)
    command -v ffmpeg   >/dev/null || missing+=(ffmpeg)
    command -v tcpdump  >/dev/null || missing+=(tcpdump)
    command -v rtmpdump >/dev/null || missing+=(rtmpdump)
    command -v tshark   >/dev/null || missing+=(tshark)
    command -v dumpcap  >/dev/null || missing+=(wireshark-common)
    command -v editcap  >/dev/null || missing+=(wireshark-common)
    command -v ip       >/dev/null || missing+=(iproute2)
    command -v ss       >/dev/null || missing+=(iproute2)
    command -v timeout  >/dev/null || missing+=(coreutils)
    command -v node     >/dev/null || missing+=(nodejs)
    command -v npm      >/dev/null || missing+=(npm)
    command -v gst-launch-1.0 >/dev/null || missing+=(gstreamer1.0-tools)
    python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
    local p
    for p in rtmp2:gstreamer1.0-plugins-bad flv:gstreamer1.0-plugins-good \
        x264:gstreamer1.0-plugins-ugly libav:gstreamer1.0-libav; do
        command -v gst-inspect-1.0 >/dev/null && gst-inspect-1.0 "${p%%:*}" >/dev/null 2>&1 ||
            missing+=("${p#*:}")
    done
    if ((${#missing[@]})); then
        log "installing: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
}

# Run a command in the namespace. Background jobs must use `nsx_bg ... &`:
# it execs, so $! is the real process and SIGINT reaches it (a background
# subshell of a non-interactive bash ignores SIGINT).
nsx() { ip netns exec "$NS" "$@"; }
nsx_bg() { exec ip netns exec "$NS" "$@"; }

# Kill everything we started, remove the namespace and the work directory.
netns_cleanup() {
    local rc=$?
    set +e
    local p
    for p in "${BG_PIDS[@]}"; do
        kill -INT "$p" 2>/dev/null
    done
    sleep 0.3
    for p in "${BG_PIDS[@]}"; do
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    if ip netns list 2>/dev/null | grep -qw -- "$NS"; then
        # Anything still inside our own namespace was started by us.
        for p in $(ip netns pids "$NS" 2>/dev/null); do
            kill -KILL "$p" 2>/dev/null
        done
        ip netns del "$NS" 2>/dev/null
    fi
    [[ -n ${WORK:-} && -d $WORK ]] && rm -rf -- "$WORK"
    exit "$rc"
}

netns_install_trap() {
    trap netns_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# Create a fresh namespace with its loopback up (default lo MTU 65536).
netns_setup() {
    if ip netns list | grep -qw -- "$NS"; then
        log "namespace $NS left over from an earlier run; removing it"
        local p
        for p in $(ip netns pids "$NS"); do kill -KILL "$p" 2>/dev/null || true; done
        ip netns del "$NS"
    fi
    ip netns add "$NS"
    nsx ip link set lo up
}

# Set the loopback MTU. With mtu 1500 we also cap GSO at one segment so
# that the capture shows wire-sized TCP segments (<= 1514-byte frames)
# instead of 64 KiB GSO super-packets that loopback never splits.
netns_set_mtu() {
    local mtu=$1
    if [[ $mtu -lt 65536 ]]; then
        nsx ip link set lo mtu "$mtu" gso_max_segs 1
    else
        nsx ip link set lo mtu "$mtu" gso_max_segs 65535
    fi
    log "lo: $(nsx ip -d link show lo | grep -oE ' (mtu|gso_max_segs) [0-9]+' | tr '\n' ' ')"
}

# Write an nginx config with the rtmp module into $WORK/nginx and run
# nginx in the foreground (daemon off) in the namespace.
nginx_start() {
    local prefix=$WORK/nginx
    mkdir -p "$prefix/logs"
    cat >"$prefix/nginx.conf" <<EOF
load_module $NGINX_RTMP_MODULE;
daemon off;
worker_processes 1;
error_log $prefix/logs/error.log info;
pid $prefix/nginx.pid;
events { worker_connections 64; }
rtmp {
    server {
        listen 1935;
        chunk_size 4096;
        application live {
            live on;
            record off;
        }
    }
}
EOF
    nsx nginx -p "$prefix" -e "$prefix/logs/error.log" -c "$prefix/nginx.conf" -t -q
    nsx_bg nginx -p "$prefix" -e "$prefix/logs/error.log" -c "$prefix/nginx.conf" \
        >"$prefix/logs/stdout.log" 2>&1 &
    NGINX_PID=$!
    BG_PIDS+=("$NGINX_PID")
    local i
    for ((i = 0; i < 100; i++)); do
        if nsx ss -Hltn 'sport = :1935' | grep -q .; then
            log "nginx-rtmp listening on 127.0.0.1:1935 in netns $NS (pid $NGINX_PID)"
            return 0
        fi
        kill -0 "$NGINX_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$prefix/logs/error.log" >&2 || true
    die "nginx did not start"
}

# Stop nginx (the next server takes over port 1935).
nginx_stop() {
    [[ -n $NGINX_PID ]] || return 0
    kill -INT "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
    NGINX_PID=
    wait_port_free 1935
}

# wait_port_free PORT -- until nothing listens on PORT in the namespace.
wait_port_free() {
    local i
    for ((i = 0; i < 100; i++)); do
        nsx ss -Hltn "sport = :$1" | grep -q . || return 0
        sleep 0.1
    done
    die "port $1 still in use"
}

# wait_listening PORT PID NAME -- until PID listens on PORT in the namespace.
wait_listening() {
    local port=$1 pid=$2 name=$3 i
    for ((i = 0; i < 100; i++)); do
        if nsx ss -Hltn "sport = :$port" | grep -q .; then
            log "$name listening on 127.0.0.1:$port in netns $NS (pid $pid)"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    die "$name did not start"
}

# Install node-media-server from captures/nms (exact tree pinned by its
# package-lock.json, `npm ci`) into $WORK/nms (once); nms_start also runs
# its RTMP server on 127.0.0.1:1935 in the namespace (nginx must be stopped
# first).
NMS_PID=
NMS_DIR=
nms_install() {
    local src=$1
    [[ -n $NMS_DIR ]] && return 0
    NMS_DIR=$WORK/nms
    mkdir -p "$NMS_DIR"
    cp "$src/package.json" "$src/package-lock.json" "$src/run.js" "$src/pull.js" "$NMS_DIR/"
    (cd "$NMS_DIR" && npm ci --no-audit --no-fund --loglevel=error >&2)
    log "node-media-server $(node -p "require('$NMS_DIR/node_modules/node-media-server/package.json').version") on node $(node --version)"
}

nms_start() {
    nms_install "$1"
    local dir=$NMS_DIR
    nsx_bg node "$dir/run.js" 1935 >"$dir/stdout.log" 2>&1 &
    NMS_PID=$!
    BG_PIDS+=("$NMS_PID")
    wait_listening 1935 "$NMS_PID" node-media-server
}

# Stop node-media-server (the next server takes over port 1935).
nms_stop() {
    [[ -n $NMS_PID ]] || return 0
    kill -INT "$NMS_PID" 2>/dev/null || true
    wait "$NMS_PID" 2>/dev/null || true
    NMS_PID=
    wait_port_free 1935
}

# Install rtmplite3 (a pure Python RTMP server) at the version given into a
# virtual environment in $WORK and run it on 127.0.0.1:1935 in the
# namespace (the port must be free).
RTMPLITE_PID=
rtmplite_start() {
    local version=$1 venv=$WORK/rtmplite
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "rtmplite3==$version" >&2
    log "rtmplite3 $("$venv/bin/pip" show rtmplite3 | awk '/^Version/ {print $2}') on $("$venv/bin/python" --version)"
    mkdir -p "$venv/root"
    nsx_bg "$venv/bin/rtmplite3" --host 127.0.0.1 --port 1935 --root "$venv/root/" \
        >"$venv/stdout.log" 2>&1 &
    RTMPLITE_PID=$!
    BG_PIDS+=("$RTMPLITE_PID")
    wait_listening 1935 "$RTMPLITE_PID" rtmplite3
}

# cap_start TOOL FILE [FILTER]  -- TOOL is tcpdump or dumpcap.
# Returns once the tool reports that it is capturing.
cap_start() {
    local tool=$1 file=$2 filter=${3:-tcp port 1935}
    CAP_ERR=$WORK/capture.stderr
    CAP_FILE=$file
    : >"$CAP_ERR"
    rm -f -- "$file"
    case $tool in
    tcpdump)
        # --immediate-mode: hand each packet to tcpdump at once (otherwise
        # packets still in the kernel's TPACKET_V3 block are lost when
        # tcpdump is stopped); -U: write each packet as it arrives;
        # -Z root: do not drop to the tcpdump user (it could not write
        # into $WORK); -B: 64 MiB kernel buffer so bursts are not dropped.
        nsx_bg tcpdump -i lo -s 0 -B 65536 --immediate-mode -U -Z root -w "$file" "$filter" 2>"$CAP_ERR" &
        ;;
    dumpcap)
        # dumpcap writes pcapng natively.
        nsx_bg dumpcap -i lo -s 0 -B 64 -f "$filter" -w "$file" 2>"$CAP_ERR" &
        ;;
    *) die "unknown capture tool $tool" ;;
    esac
    CAP_PID=$!
    BG_PIDS+=("$CAP_PID")
    local i
    for ((i = 0; i < 100; i++)); do
        if grep -qE 'listening on|Capturing on' "$CAP_ERR"; then
            sleep 0.2
            return 0
        fi
        kill -0 "$CAP_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$CAP_ERR" >&2
    die "$tool did not start capturing"
}

# Stop the running capture with SIGINT so it flushes and closes the file.
cap_stop() {
    sleep 1.5 # let the last ACK/FIN segments through and reach the tool
    kill -INT "$CAP_PID"
    wait "$CAP_PID" || true
    CAP_PID=
    sed 's/^/    /' "$CAP_ERR" >&2
    if grep -qE '^[1-9][0-9]* packets dropped by kernel|dropped on interface .*: [0-9]+/[1-9]' "$CAP_ERR"; then
        die "$CAP_FILE: the capture tool dropped packets"
    fi
    cap_check_complete "$CAP_FILE"
}

# Fail unless no TCP segment is missing from FILE (see CAP_STRICT) and every connection that starts in FILE (SYN) also ends in it
# (FIN or RST seen), i.e. the capture was not cut short. ffmpeg usually
# ends its publish connections with a RST (it closes while nginx's last
# onStatus is still unread).
cap_check_complete() {
    local file=$1 opened closed
    opened=$(tshark -n -r "$file" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' \
        -T fields -e tcp.stream 2>/dev/null | sort -u)
    closed=$(tshark -n -r "$file" -Y 'tcp.flags.fin==1 || tcp.flags.reset==1' \
        -T fields -e tcp.stream 2>/dev/null | sort -u)
    local s
    for s in $opened; do
        grep -qx -- "$s" <<<"$closed" || die "$file: TCP stream $s has no FIN/RST: capture cut short"
    done
    local lost
    lost=$(tshark -n -r "$file" -Y 'tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment' 2>/dev/null | wc -l)
    if ((lost > 0)); then
        tshark -n -r "$file" -Y 'tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment' 2>/dev/null | head -n 6 >&2
        # Under heavy load the loopback itself reorders segments (the
        # receiver answers with SACK dup-ACKs and the sender retransmits);
        # tshark flags those as "previous segment not captured" too.
        ((CAP_STRICT)) && die "$file: $lost packet(s) flagged as following a segment not (yet) captured"
        log "    $lost packet(s) follow a gap (loopback reordering; allowed: CAP_STRICT=0)"
    fi
    log "    $(wc -w <<<"$opened") connection(s), all closed inside the capture"
}

# Local port of the (single) established client connection to :1935.
client_port_of_established() {
    nsx ss -Htn state established 'dport = :1935' |
        awk '{ n = split($(NF-1), a, ":"); print a[n] }' | head -n 1
}

ffmpeg_q() { nsx ffmpeg -hide_banner -nostdin -loglevel error "$@"; }

# publish_small SECONDS [extra ffmpeg output options...]
# 320x240@25 testsrc + 44.1 kHz sine, H.264 + AAC, real-time paced.
publish_small() {
    local secs=$1
    shift
    ffmpeg_q -re \
        -f lavfi -i "testsrc=size=320x240:rate=25" \
        -f lavfi -i "sine=frequency=440:sample_rate=44100" \
        -t "$secs" -map 0:v -map 1:a \
        -c:v libx264 -preset veryfast -tune zerolatency -g 25 -pix_fmt yuv420p \
        -c:a aac -b:a 64k -ac 1 \
        "$@" -f flv "$RTMP_URL"
}
