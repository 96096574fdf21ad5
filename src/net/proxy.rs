//! The live man-in-the-middle proxy: accepts RTMP clients, connects each to the upstream
//! server and relays both directions byte for byte, while a separate task per session analyses
//! copies of the bytes (see [`super::live`]).
//!
//! Forwarding never waits on analysis: each read is written to the other side first, then
//! offered to the analysis queue without waiting; when the queue is full the bytes are counted
//! as an analysis gap instead. Each session runs in its own tasks, so one slow or failing
//! session cannot hold up another.

use super::live::{self, CloseReason, End, Input, LiveConfig, LiveFormat, SessionInfo, Totals};
use super::tls::{self, Tls, TlsOptions};
use super::writer::{FileWriter, WRITE_QUEUE};
use crate::limits::Limits;
use crate::rules::select::RuleSelection;
use crate::wire::Direction;
use serde_json::json;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

/// Bytes read at once from either side (one recorded frame each).
const READ_BUFFER: usize = 16 * 1024;
/// Reads queued for a session's analysis before further bytes are dropped from it: at most
/// `ANALYSIS_QUEUE * READ_BUFFER` bytes (4 MiB) per session.
const ANALYSIS_QUEUE: usize = 256;
/// Batches of live output lines waiting for the output task.
const OUTPUT_QUEUE: usize = 4096;
/// How long an upstream connection may take (TCP, then TLS for `rtmps://`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes a client sends in the RTMP handshake: C0 (1), C1 (1536) and C2 (1536).
const CLIENT_HANDSHAKE_BYTES: u64 = 1 + 1536 + 1536;
/// How long a timed-out side gets to take a TLS close_notify and FIN.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// When the proxy gives up on a session by itself (`None`: never).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timeouts {
    /// No byte in either direction for this long closes the session.
    pub idle: Option<Duration>,
    /// A client must finish its TLS handshake within this long of connecting, and send its
    /// whole RTMP handshake (C0, C1, C2) within this long of the relay starting.
    pub handshake: Option<Duration>,
}

/// One side of a relayed connection: plain TCP or TLS over TCP. The TCP socket stays
/// reachable so a reset can be passed on (zero linger) whatever runs over it.
trait Side: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    fn tcp(&self) -> &TcpStream;
}

impl Side for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

impl Side for tokio_rustls::server::TlsStream<TcpStream> {
    fn tcp(&self) -> &TcpStream {
        self.get_ref().0
    }
}

impl Side for tokio_rustls::client::TlsStream<TcpStream> {
    fn tcp(&self) -> &TcpStream {
        self.get_ref().0
    }
}

/// Where the proxy forwards to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    pub host: String,
    pub port: u16,
    pub tls: bool,
}

impl std::fmt::Display for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.tls { "rtmps" } else { "rtmp" };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

impl Upstream {
    /// Parses `rtmp://HOST[:PORT][/...]` or `rtmps://…` (the path, if any, is the client's
    /// business and ignored here).
    pub fn parse(url: &str) -> Result<Upstream, String> {
        let (tls, rest) = if let Some(r) = url.strip_prefix("rtmp://") {
            (false, r)
        } else if let Some(r) = url.strip_prefix("rtmps://") {
            (true, r)
        } else {
            return Err(format!("upstream {url:?} must start with rtmp:// or rtmps://"));
        };
        let authority = rest.split('/').next().unwrap_or("");
        let default_port = if tls { 443 } else { 1935 };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(|| format!("upstream {url:?}: unclosed '['"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| format!("upstream {url:?}: bad port {p:?}"))?,
                None if after.is_empty() => default_port,
                None => return Err(format!("upstream {url:?}: unexpected {after:?} after the address")),
            };
            (h.to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), p.parse().map_err(|_| format!("upstream {url:?}: bad port {p:?}"))?),
                None => (authority.to_string(), default_port),
            }
        };
        if host.is_empty() {
            return Err(format!("upstream {url:?} has no host"));
        }
        Ok(Upstream { host, port, tls })
    }
}

/// Everything `rtmpscope proxy` was asked to do.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    pub listen: String,
    pub upstream: Upstream,
    pub format: LiveFormat,
    pub output: Option<PathBuf>,
    pub report_dir: Option<PathBuf>,
    pub record_dir: Option<PathBuf>,
    pub limits: Limits,
    pub selection: RuleSelection,
    pub tls: TlsOptions,
    pub timeouts: Timeouts,
}

/// Runs the proxy until SIGINT or SIGTERM.
pub fn run(config: ProxyConfig) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(serve(config))
}

/// Writes live output batches as they come, flushing each, on its own thread: a slow
/// terminal, pipe or disk paces only the live view (and, through the full queue, the
/// analyses, which then drop bytes as analysis gaps), never a tokio worker or the relays.
fn output_thread(mut rx: mpsc::Receiver<Vec<u8>>, mut out: Box<dyn Write + Send>) {
    while let Some(batch) = rx.blocking_recv() {
        if let Err(e) = out.write_all(&batch).and_then(|_| out.flush()) {
            eprintln!("rtmpscope: cannot write the live output: {e}; live output stopped");
            // The reader went away (a closed pipe); keep draining so sessions are not held up.
            while rx.blocking_recv().is_some() {}
            return;
        }
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn serve(config: ProxyConfig) -> anyhow::Result<()> {
    let (writer, writer_thread) = FileWriter::start(WRITE_QUEUE)?;
    let tls = Tls::new(&config.tls, config.upstream.tls, &writer)?;
    let server_name = match &tls.connector {
        Some(_) => Some(tls::server_name(&config.upstream.host).map_err(|e| anyhow::anyhow!("upstream: {e}"))?),
        None => None,
    };
    for dir in [&config.report_dir, &config.record_dir].into_iter().flatten() {
        std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    }
    let out: Box<dyn Write + Send> = match &config.output {
        Some(p) => Box::new(io::BufWriter::new(
            std::fs::File::create(p).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?,
        )),
        None => Box::new(io::stdout()),
    };
    let listener = TcpListener::bind(&config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
    let local = listener.local_addr()?;
    let client_scheme = if tls.acceptor.is_some() { "rtmps" } else { "rtmp" };
    eprintln!("rtmpscope: proxy listening on {local}, upstream {}, clients {client_scheme}", config.upstream);

    let (out_tx, out_rx) = mpsc::channel::<Vec<u8>>(OUTPUT_QUEUE);
    let output =
        std::thread::Builder::new().name("rtmpscope-output".into()).spawn(move || output_thread(out_rx, out))?;
    if config.format == LiveFormat::Ndjson {
        let start = json!({"type": "start", "flow": null, "direction": null, "frame": null, "offset": null,
            "body": {"schema_version": crate::report::SCHEMA_VERSION, "tool": "rtmpscope", "version": env!("CARGO_PKG_VERSION"), "mode": "proxy", "listen": local.to_string(), "upstream": config.upstream.to_string()}});
        let _ = out_tx.send(format!("{start}\n").into_bytes()).await;
    }
    let live_cfg = Arc::new(LiveConfig {
        format: config.format,
        report_dir: config.report_dir.clone(),
        record_dir: config.record_dir.clone(),
        limits: config.limits,
        selection: config.selection.clone(),
        out: out_tx.clone(),
        totals: Mutex::new(Totals::default()),
        writer,
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut sessions = JoinSet::new();
    let mut next_id: u32 = 1;
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((client, peer)) => {
                    let id = next_id;
                    next_id = next_id.wrapping_add(1);
                    let target = Target {
                        upstream: config.upstream.clone(),
                        tls: tls.clone(),
                        server_name: server_name.clone(),
                        timeouts: config.timeouts,
                    };
                    sessions.spawn(session(id, client, peer, target, live_cfg.clone(), stop_rx.clone()));
                }
                Err(e) => {
                    // Out of descriptors and the like: wait a little rather than spin.
                    eprintln!("rtmpscope: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(done) = sessions.join_next(), if !sessions.is_empty() => {
                if let Err(e) = done {
                    eprintln!("rtmpscope: a session task failed: {e}");
                }
            }
        }
    }
    drop(listener);
    eprintln!("rtmpscope: stopping: closing {} session(s)", sessions.len());
    let _ = stop_tx.send(true);
    while let Some(done) = sessions.join_next().await {
        if let Err(e) = done {
            eprintln!("rtmpscope: a session task failed: {e}");
        }
    }
    let (n, summary) = match live_cfg.totals.lock() {
        Ok(t) => (t.sessions, t.summary.clone()),
        Err(_) => (0, Default::default()),
    };
    if config.format == LiveFormat::Ndjson {
        let line = json!({"type": "summary", "flow": null, "direction": null, "frame": null, "offset": null,
            "body": {"sessions": n, "summary": summary}});
        let _ = out_tx.send(format!("{line}\n").into_bytes()).await;
    } else {
        let line = format!(
            "summary: {n} session(s), {} message(s), {} error(s), {} warning(s), {} info\n",
            summary.messages, summary.findings.error, summary.findings.warning, summary.findings.info
        );
        let _ = out_tx.send(line.into_bytes()).await;
    }
    drop(live_cfg);
    drop(out_tx);
    // The key log's handle lives in the TLS configs; dropping them lets the writer finish.
    drop(tls);
    let _ = tokio::task::spawn_blocking(move || {
        let _ = output.join();
        let _ = writer_thread.join();
    })
    .await;
    Ok(())
}

/// Where and how each session connects, and how it accepts its client.
#[derive(Debug, Clone)]
struct Target {
    upstream: Upstream,
    tls: Tls,
    server_name: Option<rustls_pki_types::ServerName<'static>>,
    timeouts: Timeouts,
}

async fn session(
    id: u32,
    client: TcpStream,
    peer: SocketAddr,
    target: Target,
    cfg: Arc<LiveConfig>,
    stop: watch::Receiver<bool>,
) {
    let start = live::now();
    let upstream = &target.upstream;
    let _ = client.set_nodelay(true);
    let (client, client_tls): (Box<dyn Side>, Option<String>) = match &target.tls.acceptor {
        Some(acceptor) => {
            let accepting = acceptor.accept(client);
            let accepted = match target.timeouts.handshake {
                Some(limit) => tokio::time::timeout(limit, accepting).await.ok(),
                None => Some(accepting.await),
            };
            match accepted {
                Some(Ok(s)) => {
                    let what = tls::describe(s.get_ref().1);
                    (Box::new(s), Some(what))
                }
                Some(Err(e)) => {
                    let why = format!("TLS handshake with the client failed: {e}");
                    return session_failed(id, peer, upstream, "client_tls_failed", &why, &cfg).await;
                }
                None => {
                    let why = format!(
                        "TLS handshake with the client not done after {} (--handshake-timeout)",
                        secs(target.timeouts.handshake.unwrap_or_default())
                    );
                    return session_failed(id, peer, upstream, "handshake_timeout", &why, &cfg).await;
                }
            }
        }
        None => (Box::new(client), None),
    };
    let connected =
        tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((upstream.host.as_str(), upstream.port))).await;
    let server = match connected {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            let why = format!("cannot connect to upstream: {e}");
            return session_failed(id, peer, upstream, "connect_failed", &why, &cfg).await;
        }
        Err(_) => {
            let why = "cannot connect to upstream: timed out";
            return session_failed(id, peer, upstream, "connect_failed", why, &cfg).await;
        }
    };
    let _ = server.set_nodelay(true);
    let upstream_addr = match server.peer_addr() {
        Ok(a) => a,
        Err(e) => {
            let why = format!("cannot connect to upstream: {e}");
            return session_failed(id, peer, upstream, "connect_failed", &why, &cfg).await;
        }
    };
    let (server, upstream_tls): (Box<dyn Side>, Option<String>) = match (&target.tls.connector, &target.server_name) {
        (Some(connector), Some(name)) => {
            match tokio::time::timeout(CONNECT_TIMEOUT, connector.connect(name.clone(), server)).await {
                Ok(Ok(s)) => {
                    let what = tls::describe(s.get_ref().1);
                    (Box::new(s), Some(what))
                }
                Ok(Err(e)) => {
                    let why = format!("TLS handshake with upstream {upstream_addr} failed: {e}");
                    return session_failed(id, peer, upstream, "upstream_tls_failed", &why, &cfg).await;
                }
                Err(_) => {
                    let why = format!(
                        "TLS handshake with upstream {upstream_addr} timed out after {} s",
                        CONNECT_TIMEOUT.as_secs()
                    );
                    return session_failed(id, peer, upstream, "upstream_tls_failed", &why, &cfg).await;
                }
            }
        }
        _ => (Box::new(server), None),
    };
    let (tx, rx) = mpsc::channel(ANALYSIS_QUEUE);
    let info = SessionInfo { id, client: peer, upstream: upstream_addr, start, client_tls, upstream_tls };
    let analysis = tokio::spawn(live::run(info, rx, cfg));
    relay(id, client, server, tx, stop, target.timeouts).await;
    if let Err(e) = analysis.await {
        eprintln!("rtmpscope: session {id}: analysis failed: {e}");
    }
}

/// A session that ends before relaying anything: one log line, `session_open` and
/// `session_close` with the reason; the client's connection is closed by the caller dropping it.
async fn session_failed(id: u32, peer: SocketAddr, upstream: &Upstream, reason: &str, why: &str, cfg: &LiveConfig) {
    eprintln!("rtmpscope: session {id}: {why}; closing client {peer}");
    let mut batch = live::session_line(
        cfg.format,
        "session_open",
        id,
        json!({"session": id, "client": peer.to_string(), "upstream": upstream.to_string()}),
    );
    batch.extend(live::session_line(
        cfg.format,
        "session_close",
        id,
        json!({"session": id, "client": peer.to_string(), "upstream": upstream.to_string(),
               "reason": reason, "error": why}),
    ));
    let _ = cfg.out.send(batch).await;
}

/// Hands copies of one direction's bytes to the analysis without ever waiting for it.
struct Feed {
    tx: mpsc::Sender<Input>,
    /// The session, for log lines.
    id: u32,
    dir: Direction,
    /// Bytes dropped since the analysis last had room.
    pending_gap: u64,
}

impl Feed {
    fn data(&mut self, bytes: &[u8]) {
        let ts = live::now();
        if self.pending_gap > 0 {
            match self.tx.try_reserve() {
                Ok(permit) => {
                    permit.send(Input::Gap { dir: self.dir, len: self.pending_gap });
                    self.pending_gap = 0;
                }
                Err(_) => {
                    self.pending_gap += bytes.len() as u64;
                    return;
                }
            }
        }
        match self.tx.try_reserve() {
            Ok(permit) => permit.send(Input::Data { dir: self.dir, ts, bytes: bytes.to_vec() }),
            Err(mpsc::error::TrySendError::Full(())) => self.pending_gap += bytes.len() as u64,
            // The analysis is gone (it failed); forwarding goes on.
            Err(mpsc::error::TrySendError::Closed(())) => {}
        }
    }

    /// The end of the direction is always delivered (after any pending gap): the relay of this
    /// direction is over, so waiting here holds up nothing but this session's teardown.
    async fn end(&mut self, end: End) {
        let ts = live::now();
        if self.pending_gap > 0 {
            let _ = self.tx.send(Input::Gap { dir: self.dir, len: self.pending_gap }).await;
            self.pending_gap = 0;
        }
        let _ = self.tx.send(Input::End { dir: self.dir, end, ts }).await;
    }
}

/// How one direction's pump stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PumpEnd {
    /// The source closed; the destination's write side was shut down.
    Fin,
    /// Reading from the source failed (reset).
    SourceBroke,
    /// Writing to the destination failed (it reset or went away).
    DestinationBroke,
}

type Reader = ReadHalf<Box<dyn Side>>;
type Writer = WriteHalf<Box<dyn Side>>;

/// What the pumps tell the relay's timers.
#[derive(Debug)]
struct Activity {
    start: Instant,
    /// Milliseconds from `start` to the latest read on either side.
    last_read_ms: AtomicU64,
    /// Bytes read from the client.
    c2s_bytes: AtomicU64,
}

impl Activity {
    fn read(&self, dir: Direction, n: usize) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_read_ms.store(ms, Ordering::Relaxed);
        if dir == Direction::ClientToServer {
            self.c2s_bytes.fetch_add(n as u64, Ordering::Relaxed);
        }
    }

    fn last_read(&self) -> Instant {
        self.start + Duration::from_millis(self.last_read_ms.load(Ordering::Relaxed))
    }
}

/// `1 s`, `1.5 s`.
fn secs(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

async fn pump(from: &mut Reader, to: &mut Writer, feed: &mut Feed, activity: &Activity) -> PumpEnd {
    let mut buf = vec![0u8; READ_BUFFER];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) => {
                // For TLS this sends close_notify before the FIN.
                let _ = to.shutdown().await;
                feed.end(End::Fin).await;
                return PumpEnd::Fin;
            }
            // A TLS peer that closed its TCP side without close_notify: the bytes before it
            // were authenticated and the peer did close, so it ends like a FIN (logged: a
            // truncation by the network would look the same).
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                let who = match feed.dir {
                    Direction::ClientToServer => "the client",
                    Direction::ServerToClient => "the upstream",
                };
                eprintln!("rtmpscope: session {}: {who} closed its TLS connection without close_notify", feed.id);
                let _ = to.shutdown().await;
                feed.end(End::Fin).await;
                return PumpEnd::Fin;
            }
            Ok(n) => n,
            Err(_) => {
                feed.end(End::Reset).await;
                return PumpEnd::SourceBroke;
            }
        };
        activity.read(feed.dir, n);
        let data = &buf[..n];
        // A TLS writer may keep records buffered until flushed (a no-op for plain TCP).
        let written = match to.write_all(data).await {
            Ok(()) => to.flush().await,
            Err(e) => Err(e),
        };
        feed.data(data);
        if written.is_err() {
            feed.end(End::Reset).await;
            return PumpEnd::DestinationBroke;
        }
    }
}

/// Why the relay stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stopped {
    /// Both directions ended, or one side broke.
    Ended,
    /// The proxy is stopping.
    Shutdown,
    IdleTimeout,
    HandshakeTimeout,
}

/// Relays until both directions ended, one side broke, a timeout, or the proxy stops. A side
/// that resets makes the proxy reset the other side, so peers see what they would have seen.
async fn relay(
    id: u32,
    client: Box<dyn Side>,
    server: Box<dyn Side>,
    tx: mpsc::Sender<Input>,
    mut stop: watch::Receiver<bool>,
    timeouts: Timeouts,
) {
    let (mut cr, mut cw) = tokio::io::split(client);
    let (mut sr, mut sw) = tokio::io::split(server);
    let mut c2s = Feed { tx: tx.clone(), id, dir: Direction::ClientToServer, pending_gap: 0 };
    let mut s2c = Feed { tx, id, dir: Direction::ServerToClient, pending_gap: 0 };
    let mut ends: [Option<PumpEnd>; 2] = [None, None];
    let activity = Activity { start: Instant::now(), last_read_ms: AtomicU64::new(0), c2s_bytes: AtomicU64::new(0) };
    let mut stopped = Stopped::Ended;
    {
        let a = pump(&mut cr, &mut sw, &mut c2s, &activity);
        let b = pump(&mut sr, &mut cw, &mut s2c, &activity);
        tokio::pin!(a, b);
        loop {
            // The next moment a timeout could strike; checked again when it comes, since reads
            // may have moved it.
            let handshaking = activity.c2s_bytes.load(Ordering::Relaxed) < CLIENT_HANDSHAKE_BYTES;
            let handshake_deadline = timeouts.handshake.filter(|_| handshaking).map(|t| activity.start + t);
            let idle_deadline = timeouts.idle.map(|t| activity.last_read() + t);
            let deadline = match (handshake_deadline, idle_deadline) {
                (Some(x), Some(y)) => Some(x.min(y)),
                (x, y) => x.or(y),
            };
            let timer = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now).into());
            tokio::select! {
                e = &mut a, if ends[0].is_none() => ends[0] = Some(e),
                e = &mut b, if ends[1].is_none() => ends[1] = Some(e),
                _ = stop.changed() => {
                    stopped = Stopped::Shutdown;
                    break;
                }
                _ = timer, if deadline.is_some() => {
                    let now = Instant::now();
                    let sent = activity.c2s_bytes.load(Ordering::Relaxed);
                    if let (Some(limit), true) = (timeouts.handshake, sent < CLIENT_HANDSHAKE_BYTES) {
                        if now >= activity.start + limit {
                            eprintln!(
                                "rtmpscope: session {id}: closed: the client sent {sent} of the {CLIENT_HANDSHAKE_BYTES} RTMP handshake bytes in {} (--handshake-timeout)",
                                secs(limit)
                            );
                            stopped = Stopped::HandshakeTimeout;
                            break;
                        }
                    }
                    if let Some(limit) = timeouts.idle {
                        if now >= activity.last_read() + limit {
                            eprintln!(
                                "rtmpscope: session {id}: closed: no byte in either direction for {} (--idle-timeout)",
                                secs(limit)
                            );
                            stopped = Stopped::IdleTimeout;
                            break;
                        }
                    }
                }
            }
            let broke = ends.iter().flatten().any(|e| *e != PumpEnd::Fin);
            if broke || ends.iter().all(Option::is_some) {
                break;
            }
        }
    }
    // Pass a reset on: the side opposite the one that broke is reset too.
    let client_side_broke = ends[0] == Some(PumpEnd::SourceBroke) || ends[1] == Some(PumpEnd::DestinationBroke);
    let server_side_broke = ends[1] == Some(PumpEnd::SourceBroke) || ends[0] == Some(PumpEnd::DestinationBroke);
    let mut client = cr.unsplit(cw);
    let mut server = sr.unsplit(sw);
    if client_side_broke && !server_side_broke {
        let _ = server.tcp().set_zero_linger();
    }
    if server_side_broke && !client_side_broke {
        let _ = client.tcp().set_zero_linger();
    }
    if matches!(stopped, Stopped::IdleTimeout | Stopped::HandshakeTimeout) {
        // Close both sides in order (close_notify for TLS, then FIN), not with a reset.
        let (x, y) = tokio::join!(
            tokio::time::timeout(CLOSE_GRACE, client.shutdown()),
            tokio::time::timeout(CLOSE_GRACE, server.shutdown())
        );
        let _ = (x, y);
    }
    for (feed, end) in [(&mut c2s, ends[0]), (&mut s2c, ends[1])] {
        if end.is_none() {
            feed.end(End::Open).await;
        }
    }
    let reason = match stopped {
        Stopped::Ended if client_side_broke || server_side_broke => CloseReason::Reset,
        Stopped::Ended => CloseReason::Ended,
        Stopped::Shutdown => CloseReason::Shutdown,
        Stopped::IdleTimeout => CloseReason::IdleTimeout,
        Stopped::HandshakeTimeout => CloseReason::HandshakeTimeout,
    };
    let _ = c2s.tx.send(Input::Closed { reason }).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_upstream_urls() {
        let u = |s: &str| Upstream::parse(s);
        assert_eq!(u("rtmp://127.0.0.1").unwrap(), Upstream { host: "127.0.0.1".into(), port: 1935, tls: false });
        assert_eq!(u("rtmp://h:19350/live").unwrap(), Upstream { host: "h".into(), port: 19350, tls: false });
        assert_eq!(u("rtmps://h").unwrap(), Upstream { host: "h".into(), port: 443, tls: true });
        assert_eq!(u("rtmp://[::1]:1936").unwrap(), Upstream { host: "::1".into(), port: 1936, tls: false });
        assert!(u("http://h").is_err());
        assert!(u("rtmp://").is_err());
        assert!(u("rtmp://h:x").is_err());
        assert!(u("rtmp://[::1").is_err());
    }
}
