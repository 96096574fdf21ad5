//! The proxy under fault: clients that stall, send garbage or vanish, upstreams that reset or
//! stall, and a thousand sessions at once. Healthy sessions must keep every byte, the proxy
//! must keep serving, and its descriptors and memory must come back once the sessions end.
//!
//! The upstream is a small echo server in this process (so each byte a client sends comes
//! back through both relay directions); the proxy is the real binary.

use crate::common::temp_dir;
use crate::proxy::{noise, of_flow, session_close, sha, Proxy};
use serde_json::Value;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the upstream does with one connection.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Behaviour {
    /// Sends every byte back until the client half-closes, then closes.
    Echo,
    /// Reads this many bytes, waits for more to arrive, and closes without reading them:
    /// the kernel answers the unread bytes with a reset.
    ResetAfter(usize),
    /// Accepts and never reads or writes again (until the test ends).
    Stall,
}

struct Upstream {
    port: u16,
    accepted: Arc<AtomicUsize>,
    _rt: tokio::runtime::Runtime,
}

/// An upstream whose first connections behave as `first` says, and every later one echoes.
fn upstream(first: Vec<Behaviour>) -> Upstream {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    rt.spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else { continue };
            let n = count.fetch_add(1, Ordering::SeqCst);
            let behaviour = first.get(n).copied().unwrap_or(Behaviour::Echo);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 << 10];
                match behaviour {
                    Behaviour::Echo => loop {
                        match s.read(&mut buf).await {
                            Ok(0) | Err(_) => {
                                let _ = s.shutdown().await;
                                return;
                            }
                            Ok(k) => {
                                if s.write_all(&buf[..k]).await.is_err() {
                                    return;
                                }
                            }
                        }
                    },
                    Behaviour::ResetAfter(limit) => {
                        let _ = s.read_exact(&mut buf[..limit]).await;
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        drop(s);
                    }
                    Behaviour::Stall => {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        drop(s);
                    }
                }
            });
        }
    });
    Upstream { port, accepted, _rt: rt }
}

/// Raises this process's open file limit to its hard limit (a thousand sessions need two
/// thousand sockets here: the clients and the upstream's ends).
fn raise_own_fd_limit() -> u64 {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let lim = getrlimit(Resource::Nofile);
    let _ = setrlimit(Resource::Nofile, Rlimit { current: lim.maximum, maximum: lim.maximum });
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap().count()
}

/// Resident memory of a process in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Waits until `f` holds or `secs` pass; returns whether it held.
fn eventually(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if f() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A client of the echo upstream: its bytes start like an RTMP handshake (so the proxy's
/// handshake timeout is met), the rest is noise.
struct Client {
    stream: TcpStream,
    sent: Vec<u8>,
}

impl Client {
    fn connect(addr: SocketAddr, seed: u64, len: usize, head: &[u8]) -> Client {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut sent = head.to_vec();
        sent.extend(noise(len - head.len(), seed));
        stream.write_all(&sent).unwrap();
        Client { stream, sent }
    }

    /// Reads the echo, half-closes, and checks the proxy then closes cleanly.
    fn finish(mut self) -> Result<(), String> {
        let mut got = vec![0u8; self.sent.len()];
        self.stream.read_exact(&mut got).map_err(|e| format!("reading the echo: {e}"))?;
        if sha(&got) != sha(&self.sent) {
            return Err("the echo differs from what was sent".into());
        }
        self.stream.shutdown(Shutdown::Write).map_err(|e| e.to_string())?;
        let mut rest = Vec::new();
        self.stream.read_to_end(&mut rest).map_err(|e| format!("after the half-close: {e}"))?;
        if !rest.is_empty() {
            return Err(format!("{} bytes after the echo", rest.len()));
        }
        Ok(())
    }
}

fn closes(events: &[Value]) -> Vec<&Value> {
    events.iter().filter(|e| e["type"] == "session_close").collect()
}

fn count_reason(events: &[Value], reason: &str) -> usize {
    closes(events).iter().filter(|c| c["body"]["reason"] == reason).count()
}

fn live_closes(proxy: &Proxy) -> usize {
    std::fs::read_to_string(&proxy.live).unwrap_or_default().matches("\"type\":\"session_close\"").count()
}

#[test]
fn a_thousand_sessions_among_faulty_clients_keep_every_byte_and_resources_come_back() {
    let _exclusive = crate::common::cpu_exclusive();
    const HEALTHY: usize = 1000;
    const EACH_FAULT: usize = 50;
    const PER_ROUND: usize = HEALTHY + 3 * EACH_FAULT;
    let limit = raise_own_fd_limit();
    assert!(limit >= 4 * HEALTHY as u64, "this test needs {} open files, the hard limit is {limit}", 4 * HEALTHY);
    let up = upstream(Vec::new());
    let dir = temp_dir("proxy-fault-thousand");
    // Started with a soft limit of 512 open files: the proxy raises it to the hard limit
    // itself, or the thousand sessions below would fail.
    let proxy = Proxy::start_under(
        &["prlimit", &format!("--nofile=512:{limit}"), "--"],
        "live",
        &format!("rtmp://127.0.0.1:{}", up.port),
        &dir,
        // Long enough that a loaded 2-core machine relays every healthy handshake within it.
        &["--handshake-timeout", "6"],
        &[],
    );
    let pid = proxy.child.id();
    let addr = proxy.addr;

    // Baseline: after one whole session, so lazily started parts are counted in it.
    Client::connect(addr, 1, 4000, &[3]).finish().unwrap();
    assert!(eventually(20, || live_closes(&proxy) == 1));
    let fds_before = open_fds(pid);
    let rss_before = rss_kib(pid);

    // Three rounds: descriptors must be back after each. Memory does not fall back to the
    // baseline, because the allocator keeps freed pages for reuse (glibc's per-thread arenas:
    // about 85 MiB after a thousand sessions at once, reached by the second round); what must
    // hold is that it stops there: the third round leaves the proxy no bigger than the second.
    let mut after = Vec::new();
    for round in 0..3u64 {
        let started = Instant::now();
        let seed = 100_000 * round;
        // Faulty clients first, so the healthy sessions run while they are open.
        let slow: Vec<TcpStream> = (0..EACH_FAULT)
            .map(|_| {
                let mut s = TcpStream::connect(addr).unwrap();
                s.write_all(&[3]).unwrap();
                s
            })
            .collect();
        let garbage: Vec<Client> = (0..EACH_FAULT)
            .map(|i| Client::connect(addr, seed + 5000 + i as u64, 6000, b"GET / HTTP/1.1\r\nHost: rtmp\r\n\r\n"))
            .collect();
        let vanishing: Vec<Client> =
            (0..EACH_FAULT).map(|i| Client::connect(addr, seed + 7000 + i as u64, 6000, &[3])).collect();
        let healthy: Vec<Client> =
            (0..HEALTHY).map(|i| Client::connect(addr, seed + 10 + i as u64, 4000, &[3])).collect();
        let open_during = open_fds(pid);
        let rss_during = rss_kib(pid);
        assert!(open_during >= fds_before + HEALTHY, "the sessions were open at once ({open_during} descriptors)");
        // Vanishing clients leave without reading their echo: the kernel resets the connection.
        std::thread::sleep(Duration::from_millis(200));
        drop(vanishing);
        for (i, c) in healthy.into_iter().enumerate() {
            c.finish().unwrap_or_else(|e| panic!("round {round}, healthy session {i}: {e}"));
        }
        for (i, c) in garbage.into_iter().enumerate() {
            // Not RTMP, but relayed all the same.
            c.finish().unwrap_or_else(|e| panic!("round {round}, garbage session {i}: {e}"));
        }
        let relayed = started.elapsed();
        let total = 1 + (round as usize + 1) * PER_ROUND;
        assert!(eventually(60, || live_closes(&proxy) == total), "{} of {total} sessions closed", live_closes(&proxy));
        drop(slow);
        // Every socket of the ended sessions is closed again.
        let back = eventually(10, || open_fds(pid) == fds_before);
        let fds_after = open_fds(pid);
        let rss_after = rss_kib(pid);
        eprintln!(
            "round {round}: {PER_ROUND} sessions relayed in {relayed:?}; proxy fds {fds_before} → {open_during} → \
             {fds_after}, RSS {rss_before} → {rss_during} → {rss_after} KiB"
        );
        assert!(back, "open descriptors: {fds_before} before, {fds_after} after");
        after.push(rss_after);
    }
    assert!(after.iter().all(|&a| a <= rss_before + 128 * 1024), "RSS {rss_before} KiB before, after: {after:?}");
    assert!(after[2] <= after[1] + 8 * 1024, "RSS grew from {} to {} KiB over the third round", after[1], after[2]);
    let total = 1 + 3 * PER_ROUND;
    assert_eq!(up.accepted.load(Ordering::SeqCst), total);

    // The proxy still serves.
    Client::connect(addr, 99, 4000, &[3]).finish().unwrap();
    assert!(eventually(20, || live_closes(&proxy) == total + 1));
    let (events, stderr) = proxy.stop();
    assert_eq!(closes(&events).len(), total + 1);
    assert_eq!(count_reason(&events, "handshake_timeout"), 3 * EACH_FAULT, "{stderr}");
    assert_eq!(count_reason(&events, "reset"), 3 * EACH_FAULT);
    assert_eq!(count_reason(&events, "ended"), 2 + 3 * (HEALTHY + EACH_FAULT));
    for c in closes(&events) {
        if c["body"]["reason"] == "ended" {
            assert!(c["body"]["c2s_bytes"] == c["body"]["s2c_bytes"], "an echo session relayed unequal counts: {c}");
        }
    }
    // The garbage sessions are named for what they are.
    let foreign = events
        .iter()
        .filter(|e| e["type"] == "finding" && e["body"]["rule"].as_str().is_some_and(|r| r.starts_with("handshake.")))
        .filter(|e| e["body"]["detail"].as_str().is_some_and(|d| d.contains("HTTP")))
        .count();
    assert_eq!(foreign, 3 * EACH_FAULT);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_upstream_reset_mid_message_is_passed_on_and_the_proxy_keeps_serving() {
    let _exclusive = crate::common::cpu_exclusive();
    let up = upstream(vec![Behaviour::ResetAfter(1000)]);
    let dir = temp_dir("proxy-fault-reset");
    let proxy = Proxy::start(&format!("rtmp://127.0.0.1:{}", up.port), &dir, &[]);
    let mut c = Client::connect(proxy.addr, 3, 8000, &[3]);
    let mut buf = [0u8; 1024];
    let got = c.stream.read(&mut buf);
    assert!(
        matches!(&got, Err(e) if e.kind() == ErrorKind::ConnectionReset),
        "the client sees the upstream's reset: {got:?}"
    );
    // Another session is unaffected.
    Client::connect(proxy.addr, 4, 8000, &[3]).finish().unwrap();
    proxy.wait_closed(2);
    let (events, stderr) = proxy.stop();
    assert_eq!(session_close(&of_flow(&events, 1))["body"]["reason"], "reset", "{stderr}");
    assert_eq!(session_close(&of_flow(&events, 2))["body"]["reason"], "ended");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_stalled_upstream_holds_up_only_its_own_session_until_the_idle_timeout() {
    let _exclusive = crate::common::cpu_exclusive();
    let up = upstream(vec![Behaviour::Stall]);
    let dir = temp_dir("proxy-fault-stall");
    let proxy = Proxy::start(&format!("rtmp://127.0.0.1:{}", up.port), &dir, &["--idle-timeout", "5"]);
    let pid = proxy.child.id();
    let fds_before = open_fds(pid);
    let mut stalled = Client::connect(proxy.addr, 5, 4000, &[3]);
    // Push until the buffers between the client and the stalled upstream are full.
    stalled.stream.set_write_timeout(Some(Duration::from_millis(500))).unwrap();
    let chunk = noise(1 << 20, 6);
    let mut pushed = stalled.sent.len();
    let blocked = loop {
        match stalled.stream.write(&chunk) {
            Ok(n) => pushed += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => break true,
            Err(e) => panic!("write failed: {e}"),
        }
        if pushed > 256 << 20 {
            break false;
        }
    };
    assert!(blocked, "the stalled session took {pushed} bytes without blocking");
    // Meanwhile another session is relayed whole, within the stalled one's idle timeout.
    let t = Instant::now();
    Client::connect(proxy.addr, 7, 1 << 20, &[3]).finish().unwrap();
    assert!(t.elapsed() < Duration::from_secs(5), "the healthy session took {:?}", t.elapsed());
    let live = std::fs::read_to_string(&proxy.live).unwrap_or_default();
    let stalled_closed = live
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .any(|e| e["flow"] == 1 && e["type"] == "session_close");
    assert!(!stalled_closed, "the stalled session ended before the healthy one was relayed");
    // The stalled session ends at the idle timeout; its sockets are closed.
    let mut rest = Vec::new();
    stalled.stream.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let _ = stalled.stream.read_to_end(&mut rest);
    proxy.wait_closed(2);
    assert!(
        eventually(10, || open_fds(pid) == fds_before),
        "descriptors: {fds_before} before, {} after",
        open_fds(pid)
    );
    let (events, stderr) = proxy.stop();
    assert_eq!(session_close(&of_flow(&events, 1))["body"]["reason"], "idle_timeout", "{stderr}");
    assert_eq!(session_close(&of_flow(&events, 2))["body"]["reason"], "ended");
    let _ = std::fs::remove_dir_all(&dir);
}
