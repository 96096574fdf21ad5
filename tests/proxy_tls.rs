//! RTMPS through `rtmpscope proxy`: TLS accepted from ffmpeg, TLS originated to an
//! `rtmps://` upstream (a second proxy that accepts TLS), certificate verification on and
//! off, the key log, and tshark decrypting a capture of the TLS leg with it.
//!
//! Certificates are made at test time with rcgen; no key is committed. Needs nginx (with the
//! rtmp module), ffmpeg and tshark, like the other proxy tests.

use crate::common::temp_dir;
use crate::proxy::{command_names, of_flow, require, scripted_client, session_close, Nginx, Proxy};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// PEM files of one test PKI: a CA and a server certificate for `localhost` and 127.0.0.1.
struct Pki {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn make_ca(name: &str) -> (CertificateParams, KeyPair, String) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let pem = params.self_signed(&key).unwrap().pem();
    (params, key, pem)
}

fn make_pki(dir: &Path, name: &str) -> Pki {
    let (ca_params, ca_key, ca_pem) = make_ca(&format!("rtmpscope test CA {name}"));
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    params.distinguished_name.push(DnType::CommonName, "localhost");
    let cert = params.signed_by(&key, &issuer).unwrap();
    let pki = Pki {
        ca: dir.join(format!("{name}-ca.pem")),
        cert: dir.join(format!("{name}-cert.pem")),
        key: dir.join(format!("{name}-key.pem")),
    };
    std::fs::write(&pki.ca, ca_pem).unwrap();
    std::fs::write(&pki.cert, cert.pem()).unwrap();
    std::fs::write(&pki.key, key.serialize_pem()).unwrap();
    pki
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Messages with their direction, offset and body, without read times and frame numbers
/// (which depend on when and how each proxy's reads were cut; offsets do not).
fn messages(events: &[&Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["type"] == "message")
        .map(|e| {
            let mut body = e["body"].clone();
            if let Some(o) = body.as_object_mut() {
                o.remove("time");
                o.remove("frames");
            }
            format!("{} {} {body}", e["direction"], e["offset"])
        })
        .collect()
}

/// Compares message lists without printing thousands of lines on failure.
fn same_messages(x: &[String], y: &[String], what: &str) {
    assert_eq!(x.len(), y.len(), "{what}: message counts differ");
    if let Some(i) = (0..x.len()).find(|&i| x[i] != y[i]) {
        panic!("{what}: message {i} differs:\n{}\n{}", x[i], y[i]);
    }
}

fn session_open<'a>(events: &[&'a Value]) -> &'a Value {
    events.iter().find(|e| e["type"] == "session_open").expect("a session_open event")
}

/// The lines of a key log as (label, client random, secret), each checked for shape.
fn keylog_lines(path: &Path) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    text.lines()
        .map(|l| {
            let parts: Vec<&str> = l.split(' ').collect();
            assert_eq!(parts.len(), 3, "key log line {l:?}");
            assert!(parts[0].bytes().all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit()), "{l:?}");
            assert!(parts[1].len() == 64 && hex(parts[1]), "client random in {l:?}");
            assert!(parts[2].len() >= 64 && parts[2].len() % 2 == 0 && hex(parts[2]), "secret in {l:?}");
            (parts[0].to_string(), parts[1].to_string(), parts[2].to_string())
        })
        .collect()
}

const TLS13_LABELS: [&str; 4] = [
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
];

#[test]
fn ffmpeg_publishes_and_plays_over_rtmps_and_the_upstream_gets_the_bytes_the_analysis_saw() {
    require("ffmpeg", "ffmpeg");
    let nginx = Nginx::start("rtmps-ffmpeg");
    let dir = temp_dir("proxy-rtmps-ffmpeg");
    let pki = make_pki(&dir, "server");
    // A plain proxy in front of nginx observes exactly what the TLS proxy forwarded.
    let observer = Proxy::start_named("observer", &format!("rtmp://127.0.0.1:{}", nginx.port), &dir, &[], &[]);
    let observer_port = observer.addr.port().to_string();
    let records = dir.join("records");
    let tls = Proxy::start_named(
        "tls",
        &format!("rtmp://{}", observer.addr),
        &dir,
        &["--tls-cert", s(&pki.cert), "--tls-key", s(&pki.key), "--record-dir", s(&records)],
        &[],
    );
    let url = format!("rtmps://{}/live/test", tls.addr);
    let publish = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i"])
        .args(["testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440", "-t", "6"])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-c:a", "aac", "-f", "flv"])
        .arg(&url)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let play = Command::new("timeout")
        .args(["20", "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-progress", "pipe:1"])
        .args(["-analyzeduration", "1000000", "-i", &url, "-t", "2", "-f", "null", "-"])
        .output()
        .unwrap();
    let published = publish.wait_with_output().unwrap();
    assert!(published.status.success(), "publish failed: {}", String::from_utf8_lossy(&published.stderr));
    assert!(play.status.success(), "play failed ({}): {}", play.status, String::from_utf8_lossy(&play.stderr));
    let frames: u64 = String::from_utf8_lossy(&play.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("frame="))
        .filter_map(|v| v.trim().parse().ok())
        .max()
        .unwrap_or(0);
    assert!(frames >= 10, "the player decoded {frames} frames over RTMPS");
    tls.wait_closed(2);
    observer.wait_closed(2);
    let (tls_events, tls_log) = tls.stop();
    let (obs_events, _) = observer.stop();
    assert!(tls_log.contains("clients rtmps"), "{tls_log}");

    for (flow, cmds) in
        [(1u64, &["connect", "FCPublish", "createStream", "publish"][..]), (2, &["connect", "play"][..])]
    {
        let t = of_flow(&tls_events, flow);
        let o = of_flow(&obs_events, flow);
        let open = session_open(&t);
        let version = open["body"]["client_tls"].as_str().expect("the TLS session is described");
        assert!(version.starts_with("TLSv1_3 ") || version.starts_with("TLSv1_2 "), "{version}");
        assert_eq!(open["body"]["upstream_tls"], Value::Null);
        let names = command_names(&t);
        for c in cmds {
            assert!(names.iter().any(|n| n == c), "session {flow}: commands {names:?} lack {c}");
        }
        let (tc, oc) = (session_close(&t), session_close(&o));
        assert_eq!(tc["body"]["analysis_gaps"], 0, "session {flow} kept up");
        // What the analysis saw is what was forwarded: the same byte counts, message for
        // message, at the plain proxy upstream of the TLS one.
        assert_eq!(tc["body"]["c2s_bytes"], oc["body"]["c2s_bytes"], "session {flow} c2s");
        assert_eq!(tc["body"]["s2c_bytes"], oc["body"]["s2c_bytes"], "session {flow} s2c");
        let media = if flow == 1 { &tc["body"]["c2s_bytes"] } else { &tc["body"]["s2c_bytes"] };
        assert!(media.as_u64().unwrap() > 50_000, "session {flow} carried media: {media}");
        let (tm, om) = (messages(&t), messages(&o));
        assert!(tm.len() > 50);
        same_messages(&tm, &om, &format!("session {flow}: the TLS proxy vs the plain one"));

        // The recording is the plaintext RTMP: `analyze` finds the same messages in it.
        let recording = tc["body"]["recording"].as_str().expect("a recording");
        let out = crate::common::rtmpscope(&["analyze", "--format", "ndjson", "--port", &observer_port, recording]);
        let offline: Vec<Value> =
            String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        same_messages(&messages(&of_flow(&offline, 0)), &tm, &format!("session {flow}: recording vs live"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rtmps_upstream_is_verified_logged_and_decryptable_with_the_key_log() {
    require("tshark", "tshark");
    let nginx = Nginx::start("rtmps-chain");
    let dir = temp_dir("proxy-rtmps-chain");
    let pki = make_pki(&dir, "server");
    // A CA that signed nothing here: the "system" trust store of the proxies under test, so
    // verification without --ca-file fails the same way on every machine.
    let other = make_pki(&dir, "other");
    let env: &[(&str, &Path)] = &[("SSL_CERT_FILE", &other.ca)];
    let (ka, kb) = (dir.join("a.keys"), dir.join("b.keys"));
    let b = Proxy::start_named(
        "b",
        &format!("rtmp://127.0.0.1:{}", nginx.port),
        &dir,
        &["--tls-cert", s(&pki.cert), "--tls-key", s(&pki.key), "--keylog", s(&kb)],
        env,
    );
    // A plain proxy between A and B records the TLS leg as it is on the wire.
    let b_port = b.addr.port();
    let wire = dir.join("wire");
    let tap = Proxy::start_named("tap", &format!("rtmp://{}", b.addr), &dir, &["--record-dir", s(&wire)], env);
    let tap_port = tap.addr.port();
    let a = Proxy::start_named(
        "a",
        &format!("rtmps://localhost:{tap_port}"),
        &dir,
        &["--ca-file", s(&pki.ca), "--keylog", s(&ka)],
        env,
    );
    assert!(a.log().contains("verifying the upstream's certificate against"), "{}", a.log());

    // B session 1: a client speaking plain RTMP to the TLS port is refused with a reason.
    {
        let mut c = TcpStream::connect(b.addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut c0c1 = vec![3u8];
        c0c1.extend(std::iter::repeat_n(0u8, 1536));
        c.write_all(&c0c1).unwrap();
        let mut buf = Vec::new();
        let _ = c.read_to_end(&mut buf);
        assert!(!buf.starts_with(&[3]), "no RTMP answer to a plain client");
    }
    // A session 1 → B session 2: verified against --ca-file.
    let answered = scripted_client(a.addr).unwrap();
    assert!(answered.len() > 3073, "the client got an answer to connect through two proxies and TLS");

    // Without --ca-file the certificate is not trusted: clear error, client closed.
    let strict = Proxy::start_named("strict", &format!("rtmps://localhost:{b_port}"), &dir, &[], env);
    // The proxy closes the client before any RTMP byte: its handshake read fails.
    assert!(scripted_client(strict.addr).is_err(), "no answer through an unverified upstream");
    strict.wait_closed(1);
    // With --insecure the same upstream is accepted, with a warning.
    let insecure = Proxy::start_named("insecure", &format!("rtmps://localhost:{b_port}"), &dir, &["--insecure"], env);
    assert!(insecure.log().contains("WARNING: --insecure"), "{}", insecure.log());
    let answered = scripted_client(insecure.addr).unwrap();
    assert!(answered.len() > 3073, "--insecure relays");
    // B kept serving after the failed handshakes: A again.
    let answered = scripted_client(a.addr).unwrap();
    assert!(answered.len() > 3073, "B serves after failed handshakes");

    a.wait_closed(2);
    insecure.wait_closed(1);
    b.wait_closed(5);
    tap.wait_closed(2);
    let (strict_events, strict_log) = strict.stop();
    let (insecure_events, _) = insecure.stop();
    let (a_events, _) = a.stop();
    let (tap_events, _) = tap.stop();
    let (b_events, b_log) = b.stop();

    // The refusals: one line each with the session and the reason, and a session_close.
    assert!(
        strict_log.contains("session 1: TLS handshake with upstream")
            && strict_log.contains("invalid peer certificate"),
        "{strict_log}"
    );
    let close = session_close(&of_flow(&strict_events, 1)).clone();
    assert!(close["body"]["error"].as_str().unwrap().contains("invalid peer certificate"), "{close}");
    assert_eq!(close["body"]["reason"], "upstream_tls_failed");
    assert!(b_log.contains("session 1: TLS handshake with the client failed"), "{b_log}");
    assert!(b_log.contains("session 3: TLS handshake with the client failed"), "{b_log}");
    assert_eq!(b_log.matches("TLS handshake with the client failed").count(), 2, "{b_log}");
    for id in [1, 3] {
        let close = session_close(&of_flow(&b_events, id));
        assert!(close["body"]["error"].as_str().is_some());
        assert_eq!(close["body"]["reason"], "client_tls_failed");
    }

    // A's sessions 1 and 2 are B's sessions 2 and 5; the insecure proxy's is B's 4.
    for (a_evs, a_id, b_id) in [(&a_events, 1, 2), (&a_events, 2, 5), (&insecure_events, 1, 4)] {
        let (x, y) = (of_flow(a_evs, a_id), of_flow(&b_events, b_id));
        assert!(session_open(&x)["body"]["upstream_tls"].as_str().unwrap().starts_with("TLSv1_3 "));
        assert!(session_open(&y)["body"]["client_tls"].as_str().unwrap().starts_with("TLSv1_3 "));
        assert_eq!(session_close(&x)["body"]["c2s_bytes"], session_close(&y)["body"]["c2s_bytes"]);
        assert_eq!(session_close(&x)["body"]["s2c_bytes"], session_close(&y)["body"]["s2c_bytes"]);
        same_messages(&messages(&x), &messages(&y), &format!("A {a_id} vs B {b_id}"));
        assert!(command_names(&x).iter().any(|n| n == "connect"));
    }

    // Both ends logged the same secrets for A's two handshakes, TLS 1.3 labels each.
    let (la, lb) = (keylog_lines(&ka), keylog_lines(&kb));
    let randoms: BTreeSet<&str> = la.iter().map(|l| l.1.as_str()).collect();
    assert_eq!(randoms.len(), 2, "two handshakes from A");
    for r in &randoms {
        let of = |v: &[(String, String, String)]| -> BTreeSet<(String, String)> {
            v.iter().filter(|l| l.1 == *r).map(|l| (l.0.clone(), l.2.clone())).collect()
        };
        let labels: BTreeSet<&str> = la.iter().filter(|l| l.1 == *r).map(|l| l.0.as_str()).collect();
        for want in TLS13_LABELS {
            assert!(labels.contains(want), "{want} missing for {r}: {labels:?}");
        }
        // B (the server) also logs the early traffic secret when A offers to resume.
        let b_lines: BTreeSet<(String, String)> =
            of(&lb).into_iter().filter(|l| l.0 != "CLIENT_EARLY_TRAFFIC_SECRET").collect();
        assert_eq!(of(&la), b_lines, "A and B logged different secrets for {r}");
    }

    // tshark decrypts the tap's recording of the TLS leg with A's key log and finds the
    // connect command in it (AMF0 string "connect": 02 00 07 'connect'); without the key log
    // the same filter finds nothing.
    let tap_close = session_close(&of_flow(&tap_events, 1)).clone();
    let recording = tap_close["body"]["recording"].as_str().expect("the tap recorded");
    let connects = |keylog: Option<&Path>| -> usize {
        let mut cmd = Command::new("tshark");
        cmd.args(["-r", recording, "-d", &format!("tcp.port=={b_port},tls")]);
        if let Some(k) = keylog {
            cmd.args(["-o", &format!("tls.keylog_file:{}", s(k))]);
        }
        let t = cmd
            .args(["-Y", "data.data contains 02:00:07:63:6f:6e:6e:65:63:74", "-T", "fields", "-e", "frame.number"])
            .output()
            .expect("tshark runs");
        assert!(t.status.success(), "tshark: {}", String::from_utf8_lossy(&t.stderr));
        String::from_utf8_lossy(&t.stdout).lines().count()
    };
    assert_eq!(connects(Some(&ka)), 1, "tshark decrypted one connect command in the TLS leg");
    assert_eq!(connects(None), 0, "without the key log the TLS leg is opaque");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_client_that_never_starts_tls_is_closed_after_the_handshake_timeout() {
    let nginx = Nginx::start("rtmps-tls-stall");
    let dir = temp_dir("proxy-rtmps-tls-stall");
    let pki = make_pki(&dir, "server");
    let proxy = Proxy::start_named(
        "tls",
        &format!("rtmp://127.0.0.1:{}", nginx.port),
        &dir,
        &["--tls-cert", s(&pki.cert), "--tls-key", s(&pki.key), "--handshake-timeout", "1"],
        &[],
    );
    let started = std::time::Instant::now();
    let mut c = TcpStream::connect(proxy.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = Vec::new();
    // Closed by the proxy: end of stream (or a reset), never a hang.
    let _ = c.read_to_end(&mut buf);
    let after = started.elapsed();
    assert!(buf.is_empty());
    assert!(after >= Duration::from_millis(900) && after < Duration::from_secs(6), "closed after {after:?}");
    proxy.wait_closed(1);
    let (events, stderr) = proxy.stop();
    assert!(
        stderr.contains("session 1: TLS handshake with the client not done after 1 s (--handshake-timeout)"),
        "{stderr}"
    );
    let close = session_close(&of_flow(&events, 1)).clone();
    assert_eq!(close["body"]["reason"], "handshake_timeout");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn relays_bytes_exactly_over_tls_and_passes_half_close_on() {
    use crate::proxy::{noise, sha};
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    use std::net::{Shutdown, TcpListener};
    use std::sync::Arc;

    let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
    let up_port = upstream.local_addr().unwrap().port();
    let dir = temp_dir("proxy-rtmps-exact");
    let pki = make_pki(&dir, "server");
    let proxy = Proxy::start_named(
        "tls",
        &format!("rtmp://127.0.0.1:{up_port}"),
        &dir,
        &["--tls-cert", s(&pki.cert), "--tls-key", s(&pki.key)],
        &[],
    );
    let mut to_server = vec![3u8];
    to_server.extend(noise(1 << 20, 5));
    let to_client = noise(1 << 20, 9);
    let expect = to_client.clone();
    // The plain server reads until the half-close reaches it, then answers and closes.
    let server = std::thread::spawn(move || {
        let (mut s, _) = upstream.accept().unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        s.write_all(&to_client).unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        got
    });
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_file(&pki.ca).unwrap()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let conn = rustls::ClientConnection::new(Arc::new(config), "localhost".try_into().unwrap()).unwrap();
    let sock = TcpStream::connect(proxy.addr).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    tls.write_all(&to_server).unwrap();
    // Half-close: close_notify, then FIN; reading goes on.
    tls.conn.send_close_notify();
    tls.flush().unwrap();
    tls.sock.shutdown(Shutdown::Write).unwrap();
    let mut got = Vec::new();
    // The proxy closes its side cleanly (close_notify before its FIN): no truncation error.
    tls.read_to_end(&mut got).unwrap();
    let server_got = server.join().unwrap();
    assert_eq!(sha(&server_got), sha(&to_server), "client → server bytes differ");
    assert_eq!(sha(&got), sha(&expect), "server → client bytes differ");
    drop(tls);
    proxy.wait_closed(1);
    let (events, stderr) = proxy.stop();
    assert!(!stderr.contains("without close_notify"), "{stderr}");
    let close = session_close(&of_flow(&events, 1)).clone();
    assert_eq!(close["body"]["c2s_bytes"], to_server.len() as u64);
    assert_eq!(close["body"]["s2c_bytes"], expect.len() as u64);
    assert_eq!(close["body"]["reason"], "ended");
    let flow_close = events.iter().find(|e| e["type"] == "flow_close").unwrap();
    assert_eq!(flow_close["body"]["tcp"]["c2s_end"], "fin");
    assert_eq!(flow_close["body"]["tcp"]["s2c_end"], "fin");
    let _ = std::fs::remove_dir_all(&dir);
}
