//! `rtmpscope proxy` against real peers: nginx-rtmp and ffmpeg on loopback (free high ports,
//! no namespace), and small Rust peers where a test needs to see both ends of the relay.
//!
//! These tests need `nginx` (with the rtmp module) and `ffmpeg`; when they are missing the
//! tests fail with a message saying what to install (`scripts/test` installs them).

use crate::common::{repo, rtmpscope, temp_dir};
use rtmpscope::session::script::Script;
use rtmpscope::wire::Direction;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const NGINX_RTMP_MODULE: &str = "/usr/lib/nginx/modules/ngx_rtmp_module.so";

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub(crate) fn require(tool: &str, package: &str) {
    let ok = Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().is_ok_and(|o| o.status.success());
    assert!(ok, "`{tool}` is missing: install the Debian package {package} (scripts/test does)");
}

pub(crate) fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not start listening on port {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// nginx-rtmp with its own prefix and config, on a free port of 127.0.0.1.
pub(crate) struct Nginx {
    child: Child,
    pub(crate) port: u16,
    dir: PathBuf,
}

impl Nginx {
    pub(crate) fn start(name: &str) -> Nginx {
        require("nginx", "nginx-light");
        assert!(Path::new(NGINX_RTMP_MODULE).exists(), "{NGINX_RTMP_MODULE} is missing: install libnginx-mod-rtmp");
        let dir = temp_dir(&format!("nginx-{name}"));
        std::fs::create_dir_all(dir.join("logs")).unwrap();
        let port = free_port();
        let conf = format!(
            "load_module {NGINX_RTMP_MODULE};\ndaemon off;\nmaster_process off;\nworker_processes 1;\n\
             error_log {d}/logs/error.log info;\npid {d}/nginx.pid;\nevents {{ worker_connections 1024; }}\n\
             rtmp {{ server {{ listen 127.0.0.1:{port}; chunk_size 4096;\n\
             application live {{ live on; record off; }} }} }}\n",
            d = dir.display()
        );
        std::fs::write(dir.join("nginx.conf"), conf).unwrap();
        let child = Command::new("nginx")
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx starts");
        wait_for_port(port, "nginx");
        Nginx { child, port, dir }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The proxy binary, listening on a port it picked, writing NDJSON to a file.
pub(crate) struct Proxy {
    pub(crate) child: Child,
    pub(crate) addr: SocketAddr,
    pub(crate) stderr: Arc<Mutex<String>>,
    pub(crate) live: PathBuf,
}

impl Proxy {
    pub(crate) fn start(upstream: &str, dir: &Path, extra: &[&str]) -> Proxy {
        Proxy::start_named("live", upstream, dir, extra, &[])
    }

    /// Like `start`, with the live output in `dir/NAME.ndjson` (for several proxies in one
    /// directory).
    pub(crate) fn start_named(name: &str, upstream: &str, dir: &Path, extra: &[&str], env: &[(&str, &Path)]) -> Proxy {
        Proxy::start_under(&[], name, upstream, dir, extra, env)
    }

    /// Like `start_named`, run by another program (`prefix` is its command line, the proxy's
    /// follows), such as `prlimit` to start it with other resource limits.
    pub(crate) fn start_under(
        prefix: &[&str],
        name: &str,
        upstream: &str,
        dir: &Path,
        extra: &[&str],
        env: &[(&str, &Path)],
    ) -> Proxy {
        let live = dir.join(format!("{name}.ndjson"));
        let bin = env!("CARGO_BIN_EXE_rtmpscope");
        let mut cmd = match prefix.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(bin);
                c
            }
            None => Command::new(bin),
        };
        let mut child = cmd
            .current_dir(repo())
            .args(["proxy", "--listen", "127.0.0.1:0", "--upstream", upstream, "--format", "ndjson", "-o"])
            .arg(&live)
            .args(extra)
            .envs(env.iter().copied())
            .env_remove("SSLKEYLOGFILE")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the proxy starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        // Set-up lines (TLS trust, key log) may come before the address.
        let mut before = String::new();
        let addr = loop {
            let line = lines.next().unwrap_or_else(|| panic!("the proxy exited before listening:\n{before}")).unwrap();
            before.push_str(&line);
            before.push('\n');
            if let Some(rest) = line.strip_prefix("rtmpscope: proxy listening on ") {
                break rest.split(',').next().unwrap().parse().unwrap();
            }
        };
        let stderr = Arc::new(Mutex::new(before));
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for l in lines.map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&l);
                s.push('\n');
            }
        });
        Proxy { child, addr, stderr, live }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("rtmp://{}/{path}", self.addr)
    }

    /// What the proxy logged so far.
    pub(crate) fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits (up to 30 s) until the live output holds `n` session_close events: the relay
    /// has finished, and analysis may still be catching up on a loaded machine.
    pub(crate) fn wait_closed(&self, n: usize) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let text = std::fs::read_to_string(&self.live).unwrap_or_default();
            if text.matches("\"type\":\"session_close\"").count() >= n || std::time::Instant::now() > deadline {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGINT, then the exit status and the live events.
    pub(crate) fn stop(mut self) -> (Vec<Value>, String) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
        let deadline = Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "the proxy did not exit after SIGINT");
            std::thread::sleep(Duration::from_millis(20));
        };
        std::thread::sleep(Duration::from_millis(50));
        let stderr = self.stderr.lock().unwrap().clone();
        assert!(status.success(), "the proxy exited with {status}; stderr:\n{stderr}");
        (read_ndjson(&self.live), stderr)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn read_ndjson(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l}: {e}"))).collect()
}

pub(crate) fn of_flow(events: &[Value], flow: u64) -> Vec<&Value> {
    events.iter().filter(|e| e["flow"] == flow).collect()
}

pub(crate) fn command_names(events: &[&Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["type"] == "message" && e["body"]["body"]["kind"] == "command")
        .filter_map(|e| e["body"]["body"]["name"].as_str().map(str::to_string))
        .collect()
}

pub(crate) fn count_type(events: &[&Value], dir: &str, ty: &str) -> usize {
    events.iter().filter(|e| e["type"] == "message" && e["direction"] == dir && e["body"]["type"] == ty).count()
}

pub(crate) fn session_close<'a>(events: &[&'a Value]) -> &'a Value {
    events.iter().find(|e| e["type"] == "session_close").expect("a session_close event")
}

/// Messages and findings with everything that locates them, minus the flow number.
pub(crate) fn comparable(events: &[&Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["type"] == "message" || e["type"] == "finding")
        .map(|e| format!("{} {} {} {} {}", e["type"], e["direction"], e["frame"], e["offset"], e["body"]))
        .collect()
}

#[test]
fn ffmpeg_publishes_and_plays_through_the_proxy_and_the_recording_matches_the_live_report() {
    require("ffmpeg", "ffmpeg");
    let nginx = Nginx::start("ffmpeg");
    let dir = temp_dir("proxy-ffmpeg");
    let (reports, records) = (dir.join("reports"), dir.join("records"));
    let proxy = Proxy::start(
        &format!("rtmp://127.0.0.1:{}", nginx.port),
        &dir,
        &["--report-dir", reports.to_str().unwrap(), "--record-dir", records.to_str().unwrap()],
    );
    let publish = Command::new("ffmpeg")
        .args([
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-re",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=25",
        ])
        .args(["-f", "lavfi", "-i", "sine=frequency=440", "-t", "8", "-c:v", "libx264", "-preset", "ultrafast"])
        .args(["-g", "25", "-c:a", "aac", "-f", "flv"])
        .arg(proxy.url("live/test"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let play = Command::new("timeout")
        .args(["20", "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-progress", "pipe:1"])
        .args(["-analyzeduration", "1000000", "-i"])
        .arg(proxy.url("live/test"))
        // Two seconds of a stream that lasts eight: room for a slow machine to join late.
        .args(["-t", "2", "-f", "null", "-"])
        .output()
        .unwrap();
    let published = publish.wait_with_output().unwrap();
    assert!(published.status.success(), "publish failed: {}", String::from_utf8_lossy(&published.stderr));
    assert!(play.status.success(), "play failed ({}): {}", play.status, String::from_utf8_lossy(&play.stderr));
    let progress = String::from_utf8_lossy(&play.stdout);
    let frames: u64 = progress
        .lines()
        .filter_map(|l| l.strip_prefix("frame="))
        .filter_map(|v| v.trim().parse().ok())
        .max()
        .unwrap_or(0);
    assert!(frames >= 10, "the player decoded {frames} frames");
    proxy.wait_closed(2);
    let (events, _) = proxy.stop();

    assert_eq!(events.first().unwrap()["type"], "start");
    assert_eq!(events.last().unwrap()["type"], "summary");
    assert_eq!(events.last().unwrap()["body"]["sessions"], 2);
    let publisher = of_flow(&events, 1);
    let player = of_flow(&events, 2);
    let pub_cmds = command_names(&publisher);
    for c in ["connect", "releaseStream", "FCPublish", "createStream", "publish", "_result", "onStatus"] {
        assert!(pub_cmds.iter().any(|n| n == c), "publisher commands {pub_cmds:?} lack {c}");
    }
    let play_cmds = command_names(&player);
    for c in ["connect", "createStream", "play", "onStatus"] {
        assert!(play_cmds.iter().any(|n| n == c), "player commands {play_cmds:?} lack {c}");
    }
    // 4 s at 25 fps, and AAC frames; the player got media from the server.
    assert!(count_type(&publisher, "c2s", "video") >= 60, "publisher video messages");
    assert!(count_type(&publisher, "c2s", "audio") >= 60, "publisher audio messages");
    assert!(count_type(&player, "s2c", "video") >= 10, "player video messages");
    for (flow, evs) in [(1, &publisher), (2, &player)] {
        let close = session_close(evs);
        assert_eq!(close["body"]["analysis_gaps"], 0, "session {flow} kept up");
        let flow_close = evs.iter().find(|e| e["type"] == "flow_close").unwrap();
        assert_eq!(flow_close["body"]["c2s"]["bytes"], close["body"]["c2s_bytes"]);
        assert_eq!(flow_close["body"]["s2c"]["bytes"], close["body"]["s2c_bytes"]);

        // The session's JSON report has the live messages and findings.
        let report_path = close["body"]["report"].as_str().expect("a report path");
        let report: Value = serde_json::from_slice(&std::fs::read(report_path).unwrap()).unwrap();
        let live_messages = evs.iter().filter(|e| e["type"] == "message").count();
        assert_eq!(report["messages"].as_array().unwrap().len(), live_messages);
        assert_eq!(report["flows"][0]["c2s"]["bytes"], close["body"]["c2s_bytes"]);
        let live_findings = evs.iter().filter(|e| e["type"] == "finding").count();
        assert_eq!(report["findings"].as_array().unwrap().len(), live_findings);

        // The recording analyses to the same messages and findings, frame for frame.
        let recording = close["body"]["recording"].as_str().expect("a recording path");
        let out = rtmpscope(&["analyze", "--format", "ndjson", "--port", &nginx.port.to_string(), recording]);
        let offline: Vec<Value> =
            String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let offline = of_flow(&offline, 0);
        assert_eq!(comparable(&offline), comparable(evs), "session {flow}: recording vs live");

        // tshark decodes the recording as RTMP.
        let t = Command::new("tshark")
            .args(["-r", recording, "-d", &format!("tcp.port=={},rtmpt", nginx.port), "-Y", "rtmpt"])
            .args(["-T", "fields", "-e", "frame.number"])
            .output()
            .expect("tshark runs");
        assert!(t.status.success(), "tshark: {}", String::from_utf8_lossy(&t.stderr));
        assert!(String::from_utf8_lossy(&t.stdout).lines().count() > 5, "tshark found RTMP frames");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

pub(crate) use crate::common::noise;

pub(crate) fn sha(b: &[u8]) -> Vec<u8> {
    Sha256::digest(b).to_vec()
}

#[test]
fn relays_bytes_exactly_in_both_directions_and_passes_half_close_on() {
    let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
    let up_port = upstream.local_addr().unwrap().port();
    let dir = temp_dir("proxy-exact");
    let proxy = Proxy::start(&format!("rtmp://127.0.0.1:{up_port}"), &dir, &[]);
    // The client's bytes start like an RTMP handshake; the rest is noise.
    let mut to_server = vec![3u8];
    to_server.extend(noise(3 << 20, 7));
    let to_client = noise(2 << 20, 11);
    let expect = to_client.clone();
    // The server reads until the client's half-close reaches it, then answers and closes.
    let server = std::thread::spawn(move || {
        let (mut s, _) = upstream.accept().unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        s.write_all(&to_client).unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        got
    });
    let mut c = TcpStream::connect(proxy.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    c.write_all(&to_server).unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    let mut got = Vec::new();
    c.read_to_end(&mut got).unwrap();
    let server_got = server.join().unwrap();
    assert_eq!(sha(&server_got), sha(&to_server), "client → server bytes differ");
    assert_eq!(sha(&got), sha(&expect), "server → client bytes differ");
    drop(c);
    proxy.wait_closed(1);
    let (events, _) = proxy.stop();
    let close = session_close(&of_flow(&events, 1)).clone();
    assert_eq!(close["body"]["c2s_bytes"], to_server.len() as u64);
    assert_eq!(close["body"]["s2c_bytes"], expect.len() as u64);
    let flow_close = events.iter().find(|e| e["type"] == "flow_close").unwrap();
    assert_eq!(flow_close["body"]["tcp"]["c2s_end"], "fin");
    assert_eq!(flow_close["body"]["tcp"]["s2c_end"], "fin");
    // Decoding noise is slow enough that the analysis may fall behind: the bytes are still
    // relayed (checked above), and each dropped stretch is an analysis.gap finding.
    let gaps = close["body"]["analysis_gaps"].as_u64().unwrap();
    let gap_findings =
        events.iter().filter(|e| e["type"] == "finding" && e["body"]["rule"] == "analysis.gap").count() as u64;
    assert_eq!(gap_findings, gaps.min(100));
    assert_eq!(flow_close["body"]["tcp"]["gaps"], gaps);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn refused_upstream_closes_the_client_and_the_proxy_keeps_serving() {
    let dead = free_port();
    let dir = temp_dir("proxy-refused");
    let proxy = Proxy::start(&format!("rtmp://127.0.0.1:{dead}"), &dir, &[]);
    for _ in 0..3 {
        let mut c = TcpStream::connect(proxy.addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let _ = c.write_all(&[3]);
        let mut buf = [0u8; 16];
        // Closed by the proxy: end of stream or a reset, never data and never a hang.
        match c.read(&mut buf) {
            Ok(0) | Err(_) => {}
            Ok(n) => panic!("{n} bytes from a proxy without upstream"),
        }
    }
    let (events, stderr) = proxy.stop();
    assert_eq!(stderr.matches("cannot connect to upstream").count(), 3, "one clear line per session:\n{stderr}");
    let closes: Vec<&Value> = events.iter().filter(|e| e["type"] == "session_close").collect();
    assert_eq!(closes.len(), 3);
    assert!(closes.iter().all(|c| c["body"]["error"].as_str().is_some_and(|e| e.contains("cannot connect"))));
    assert!(closes.iter().all(|c| c["body"]["reason"] == "connect_failed"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Does a plain handshake and sends the rest of a scripted publish; returns what the server sent.
pub(crate) fn scripted_client(addr: SocketAddr) -> std::io::Result<Vec<u8>> {
    let script = Script::publish_session(10);
    let c2s = script.bytes(Direction::ClientToServer);
    let mut c = TcpStream::connect(addr)?;
    c.set_read_timeout(Some(Duration::from_secs(10)))?;
    c.write_all(&c2s[..1537])?;
    let mut s0s1s2 = vec![0u8; 3073];
    c.read_exact(&mut s0s1s2)?;
    c.write_all(&s0s1s2[1..1537])?;
    c.write_all(&c2s[3073..])?;
    // The answer to connect arrives after the handshake.
    let mut more = vec![0u8; 4096];
    let n = c.read(&mut more)?;
    s0s1s2.extend_from_slice(&more[..n]);
    Ok(s0s1s2)
}

#[test]
fn client_leaving_mid_handshake_is_reported_and_other_sessions_go_on() {
    let nginx = Nginx::start("midhandshake");
    let dir = temp_dir("proxy-midhandshake");
    let proxy = Proxy::start(&format!("rtmp://127.0.0.1:{}", nginx.port), &dir, &[]);
    {
        let mut c = TcpStream::connect(proxy.addr).unwrap();
        let script = Script::with_handshake();
        c.write_all(&script.bytes(Direction::ClientToServer)[..700]).unwrap();
    }
    std::thread::sleep(Duration::from_millis(200));
    let answered = scripted_client(proxy.addr).unwrap();
    assert!(answered.len() > 3073, "the next session got an answer to connect");
    proxy.wait_closed(2);
    let (events, _) = proxy.stop();
    let first = of_flow(&events, 1);
    assert!(
        first.iter().any(|e| e["type"] == "finding" && e["body"]["rule"] == "handshake.truncated"),
        "the cut handshake is a finding"
    );
    assert_eq!(session_close(&first)["body"]["c2s_bytes"], 700);
    assert!(command_names(&of_flow(&events, 2)).iter().any(|n| n == "connect"));
}

#[test]
fn upstream_closing_mid_message_reaches_the_client_and_is_reported() {
    let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
    let up_port = upstream.local_addr().unwrap().port();
    let script = Script::publish_session(1);
    let s2c = script.bytes(Direction::ServerToClient);
    // The handshake, then the first 20 bytes of the server's first message.
    let cut = s2c[..3073 + 20].to_vec();
    let sent = cut.clone();
    let server = std::thread::spawn(move || {
        let (mut s, _) = upstream.accept().unwrap();
        let mut c0c1 = vec![0u8; 1537];
        s.read_exact(&mut c0c1).unwrap();
        s.write_all(&sent).unwrap();
        // Closing with unread data makes the kernel send a reset; read what is there first.
        s.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
        let mut rest = [0u8; 8192];
        while matches!(s.read(&mut rest), Ok(n) if n > 0) {}
    });
    let dir = temp_dir("proxy-upstream-cut");
    let proxy = Proxy::start(&format!("rtmp://127.0.0.1:{up_port}"), &dir, &[]);
    let c2s = script.bytes(Direction::ClientToServer);
    let mut c = TcpStream::connect(proxy.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(&c2s[..1537]).unwrap();
    let mut got = Vec::new();
    c.read_to_end(&mut got).unwrap();
    server.join().unwrap();
    assert_eq!(got, cut, "the client got exactly what the server sent, then the end");
    drop(c);
    proxy.wait_closed(1);
    let (events, _) = proxy.stop();
    let s = of_flow(&events, 1);
    assert!(
        s.iter().any(|e| e["type"] == "finding"
            && e["direction"] == "s2c"
            && e["body"]["rule"].as_str().is_some_and(|r| r.starts_with("chunk."))),
        "the cut message is a finding: {:?}",
        s.iter().filter(|e| e["type"] == "finding").map(|e| &e["body"]["rule"]).collect::<Vec<_>>()
    );
    assert_eq!(session_close(&s)["body"]["s2c_bytes"], cut.len() as u64);
}

#[test]
fn a_hundred_concurrent_sessions_through_nginx() {
    let nginx = Nginx::start("hundred");
    let dir = temp_dir("proxy-hundred");
    let proxy = Proxy::start(&format!("rtmp://127.0.0.1:{}", nginx.port), &dir, &[]);
    let addr = proxy.addr;
    let clients: Vec<_> = (0..100).map(|_| std::thread::spawn(move || scripted_client(addr))).collect();
    for (i, c) in clients.into_iter().enumerate() {
        let got = c.join().unwrap().unwrap_or_else(|e| panic!("client {i}: {e}"));
        assert!(got.len() > 3073, "client {i} got an answer after the handshake");
    }
    proxy.wait_closed(100);
    let (events, _) = proxy.stop();
    let closes: Vec<&Value> = events.iter().filter(|e| e["type"] == "session_close").collect();
    assert_eq!(closes.len(), 100);
    for id in 1..=100u64 {
        let s = of_flow(&events, id);
        assert!(command_names(&s).iter().any(|n| n == "connect"), "session {id} has its connect");
        assert_eq!(session_close(&s)["body"]["analysis_gaps"], 0);
    }
}

/// Reads until the proxy closes the connection; returns the bytes and when it closed.
fn read_until_closed(c: &mut TcpStream) -> (Vec<u8>, Instant) {
    c.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match c.read(&mut buf) {
            Ok(0) => return (got, Instant::now()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => {
                panic!("the proxy did not close the connection within 15 s")
            }
            Err(_) => return (got, Instant::now()),
        }
    }
}

#[test]
fn a_client_stalling_in_the_handshake_is_closed_after_the_handshake_timeout() {
    let nginx = Nginx::start("slowloris");
    let dir = temp_dir("proxy-slowloris");
    let proxy = Proxy::start(&format!("rtmp://127.0.0.1:{}", nginx.port), &dir, &["--handshake-timeout", "1.5"]);
    // One byte of C0, then nothing.
    let started = Instant::now();
    let mut slow = TcpStream::connect(proxy.addr).unwrap();
    slow.write_all(&[3]).unwrap();
    // A client that completes its handshake meanwhile is not affected.
    let answered = scripted_client(proxy.addr).unwrap();
    assert!(answered.len() > 3073);
    let (got, closed) = read_until_closed(&mut slow);
    let after = closed - started;
    assert!(after >= Duration::from_millis(1400) && after < Duration::from_secs(6), "closed after {after:?}");
    // nginx answered C0 with nothing (it waits for C1): no byte reached the client.
    assert!(got.is_empty(), "{} bytes", got.len());
    proxy.wait_closed(2);
    let (events, stderr) = proxy.stop();
    assert!(
        stderr.contains(
            "session 1: closed: the client sent 1 of the 3073 RTMP handshake bytes in 1.5 s (--handshake-timeout)"
        ),
        "{stderr}"
    );
    let close = session_close(&of_flow(&events, 1)).clone();
    assert_eq!(close["body"]["reason"], "handshake_timeout");
    assert_eq!(close["body"]["c2s_bytes"], 1);
    let flow_close = of_flow(&events, 1).into_iter().find(|e| e["type"] == "flow_close").unwrap().clone();
    assert_eq!(flow_close["body"]["tcp"]["c2s_end"], "open");
    assert_eq!(session_close(&of_flow(&events, 2))["body"]["reason"], "ended");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_idle_session_is_closed_after_the_idle_timeout_and_activity_keeps_it_open() {
    // A raw upstream that takes whatever comes and never answers.
    let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
    let up_port = upstream.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = upstream.accept().unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        got.len()
    });
    let dir = temp_dir("proxy-idle");
    let proxy = Proxy::start(
        &format!("rtmp://127.0.0.1:{up_port}"),
        &dir,
        &["--idle-timeout", "1", "--handshake-timeout", "0"],
    );
    let mut c = TcpStream::connect(proxy.addr).unwrap();
    // A byte every 300 ms for 2.4 s: never idle for a whole second.
    let mut sent = 0;
    for _ in 0..8 {
        c.write_all(&[3]).unwrap();
        sent += 1;
        std::thread::sleep(Duration::from_millis(300));
    }
    let quiet_since = Instant::now() - Duration::from_millis(300);
    let (got, closed) = read_until_closed(&mut c);
    assert!(got.is_empty());
    let idle = closed - quiet_since;
    assert!(idle >= Duration::from_millis(950) && idle < Duration::from_secs(5), "closed after {idle:?} of quiet");
    // The upstream was closed too (a FIN: it read to the end), after every byte.
    assert_eq!(server.join().unwrap(), sent);
    proxy.wait_closed(1);
    let (events, stderr) = proxy.stop();
    assert!(stderr.contains("session 1: closed: no byte in either direction for 1 s (--idle-timeout)"), "{stderr}");
    let close = session_close(&of_flow(&events, 1)).clone();
    assert_eq!(close["body"]["reason"], "idle_timeout");
    assert_eq!(close["body"]["c2s_bytes"], sent as u64);
    let _ = std::fs::remove_dir_all(&dir);
}
