//! `rtmpscope check` against real servers: nginx-rtmp (Debian package libnginx-mod-rtmp),
//! started by the test on a free loopback port. Its graded result is pinned twice: as an insta
//! snapshot of the redacted text report, and as the committed baseline
//! `tests/fixtures/check/nginx-rtmp.baseline.json` that the CLI's `--baseline` accepts.
//!
//! The second real server is node-media-server from npm (pinned to [`NMS_VERSION`]), run with
//! the machine's Node.js; `scripts/test` installs it under `target/node-media-server`.
//!
//! These tests need `nginx` with the rtmp module, and `node` with node-media-server installed;
//! without them they fail saying what to install.

use crate::common::{repo, rtmpscope, temp_dir};
use rtmpscope::check::baseline::Baseline;
use rtmpscope::check::report::{self, ReportOptions};
use rtmpscope::check::runner::{self, CheckOptions, Target};
use rtmpscope::check::{cases, Reaction, Verdict};
use serde_json::Value;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NGINX_RTMP_MODULE: &str = "/usr/lib/nginx/modules/ngx_rtmp_module.so";
const BASELINE: &str = "tests/fixtures/check/nginx-rtmp.baseline.json";
const NMS_BASELINE: &str = "tests/fixtures/check/node-media-server.baseline.json";
/// The node-media-server release graded (scripts/test installs exactly this one).
const NMS_VERSION: &str = "4.4.3";
const NMS_DIR: &str = "target/node-media-server";
/// The cases node-media-server 4.4.3 dies in: its AMF0 decoder returns null for the undefined
/// marker 0x42 and then dereferences it (TypeError), and recurses once per nested object until
/// the stack overflows (RangeError); neither exception is caught, so node exits.
const NMS_KILLERS: [&str; 2] = ["robustness.amf0-unknown-marker", "robustness.amf0-deep-nesting"];

fn snapshot_settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(repo().join("snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s
}

/// With `UPDATE_BASELINES=1` in the environment, rewrites the committed baseline `path` with
/// this run's verdicts (review the diff before committing it); otherwise does nothing.
fn update_baseline(path: &str, now: &Baseline) {
    if std::env::var_os("UPDATE_BASELINES").is_some_and(|v| v == "1") {
        std::fs::write(repo().join(path), now.to_json()).unwrap();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// nginx-rtmp with its own prefix and config (the one `tests/proxy.rs` uses), one worker and no
/// master process, so a crash of the worker is a dead server the checker must notice.
pub struct Nginx {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl Nginx {
    pub fn start(name: &str) -> Nginx {
        let ok = Command::new("sh").arg("-c").arg("command -v nginx").output().is_ok_and(|o| o.status.success());
        assert!(ok, "`nginx` is missing: install the Debian package nginx-light (scripts/test does)");
        assert!(Path::new(NGINX_RTMP_MODULE).exists(), "{NGINX_RTMP_MODULE} is missing: install libnginx-mod-rtmp");
        let dir = temp_dir(&format!("check-nginx-{name}"));
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
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nginx did not start listening on port {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Nginx { child, port, dir }
    }

    pub fn url(&self) -> String {
        format!("rtmp://127.0.0.1:{}/live", self.port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn nginx_rtmp_graded_result_matches_its_snapshot_and_baseline() {
    let nginx = Nginx::start("catalogue");
    let target = Target::parse(&nginx.url()).unwrap();
    let catalogue = cases::all();
    let started = Instant::now();
    let run = runner::run(&target, &catalogue, &CheckOptions::default(), &mut |_| {});
    let took = started.elapsed();
    assert_eq!(run.could_not_test, None);
    assert_eq!(run.results.len(), catalogue.len(), "every case ran");
    assert!(took < Duration::from_secs(120), "the catalogue took {took:?} against nginx");
    // No tool errors against a healthy server: every verdict says something about nginx.
    let errors: Vec<_> =
        run.results.iter().filter(|r| r.verdict == Verdict::Error).map(|r| (r.id, &r.actual)).collect();
    assert!(errors.is_empty(), "tool errors: {errors:?}");

    let opts = ReportOptions { redact: true, ..Default::default() };
    snapshot_settings().bind(|| insta::assert_snapshot!("check_nginx_rtmp_text", report::text(&run, &opts)));

    let now = Baseline::from_results(&run.results);
    update_baseline(BASELINE, &now);
    let baseline = Baseline::parse(&std::fs::read_to_string(repo().join(BASELINE)).unwrap()).unwrap();
    assert_eq!(
        now.to_json(),
        baseline.to_json(),
        "nginx-rtmp's verdicts differ from {BASELINE}; if the change is right, rewrite it with --write-baseline"
    );
}

#[test]
fn cli_against_nginx_json_report_baseline_and_exit_codes() {
    let nginx = Nginx::start("cli");
    let dir = temp_dir("check-cli");
    let json_path = dir.join("report.json");
    let written = dir.join("baseline.json");
    let out = rtmpscope(&[
        "check",
        &nginx.url(),
        "handshake",
        "--format",
        "json",
        "--output",
        json_path.to_str().unwrap(),
        "--write-baseline",
        written.to_str().unwrap(),
        "--baseline",
        BASELINE,
    ]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    assert_eq!(report["schema_version"], 1);
    let cases = report["cases"].as_array().unwrap();
    let handshake_cases = cases::all().iter().filter(|c| c.id.starts_with("handshake.")).count();
    assert_eq!(cases.len(), handshake_cases);
    let plain = cases.iter().find(|c| c["id"] == "handshake.plain").unwrap();
    assert_eq!(plain["verdict"], "pass");
    assert_eq!(plain["requirement"], "must");
    assert!(plain["local_port"].as_u64().unwrap() > 0);
    let wire = plain["wire"].as_array().unwrap();
    assert_eq!(wire[0]["dir"], "c2s");
    assert_eq!(wire[0]["summary"], "C0 C1 (plain)");
    assert!(wire[0]["hex"].as_str().unwrap().starts_with("03 00 00 00 00 00 00 00 00"));
    assert!(wire
        .iter()
        .any(|w| w["dir"] == "s2c" && w["summary"].as_str().unwrap().contains("NetConnection.Connect.Success")));
    let b = Baseline::parse(&std::fs::read_to_string(&written).unwrap()).unwrap();
    assert_eq!(b.verdicts.len(), handshake_cases);
    assert_eq!(b.get("handshake.plain"), Some(Verdict::Pass));

    // Usage errors: a pattern matching no case, a bad URL.
    assert_eq!(rtmpscope(&["check", &nginx.url(), "nosuch.case"]).status.code(), Some(2));
    assert_eq!(rtmpscope(&["check", "http://x/live"]).status.code(), Some(2));
    // Nothing listening: could not test.
    let port = free_port();
    let out = rtmpscope(&["check", &format!("rtmp://127.0.0.1:{port}/live"), "--timeout", "500"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("could not test"));
}

/// node-media-server on free loopback ports, with its own config and data directory.
struct NodeMediaServer {
    child: Child,
    port: u16,
    /// Its RTMPS port (with the self-signed certificate the package ships).
    tls_port: u16,
    /// Its HTTP and HTTPS ports.
    http_ports: [u16; 2],
    dir: PathBuf,
    /// How many times [`NodeMediaServer::restart`] brought it back.
    restarts: u32,
}

impl NodeMediaServer {
    fn start(name: &str) -> NodeMediaServer {
        let ok = Command::new("sh").arg("-c").arg("command -v node").output().is_ok_and(|o| o.status.success());
        assert!(ok, "`node` is missing: install the Debian package nodejs (scripts/test does)");
        let pkg = Self::package();
        let app = pkg.join("bin/app.js");
        assert!(
            app.exists(),
            "{} is missing: run scripts/test, or npm install --prefix {NMS_DIR} node-media-server@{NMS_VERSION}",
            app.display()
        );
        let manifest: Value = serde_json::from_slice(&std::fs::read(pkg.join("package.json")).unwrap()).unwrap();
        assert_eq!(manifest["version"], NMS_VERSION, "the baseline was made with node-media-server {NMS_VERSION}");
        let dir = temp_dir(&format!("check-nms-{name}"));
        // It writes generated secrets back into its config: give it a copy (with the key and
        // self-signed certificate the config names, relative to the working directory).
        for f in ["config.json", "key.pem", "cert.pem"] {
            std::fs::copy(pkg.join("bin").join(f), dir.join(f)).unwrap();
        }
        let (port, tls_port, http_ports) = (free_port(), free_port(), [free_port(), free_port()]);
        let child = Self::spawn(&dir, port, tls_port, http_ports);
        NodeMediaServer { child, port, tls_port, http_ports, dir, restarts: 0 }
    }

    fn package() -> PathBuf {
        repo().join(NMS_DIR).join("node_modules/node-media-server")
    }

    /// Starts node on the given ports and waits until both RTMP ports listen.
    fn spawn(dir: &Path, port: u16, tls_port: u16, http_ports: [u16; 2]) -> Child {
        let app = Self::package().join("bin/app.js");
        let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("server.log")).unwrap();
        let child = Command::new("node")
            .arg(&app)
            .arg("-c")
            .arg(dir.join("config.json"))
            .args(["-b", "127.0.0.1", "--rtmp-port", &port.to_string(), "--rtmps-port", &tls_port.to_string()])
            .args(["--http-port", &http_ports[0].to_string(), "--https-port", &http_ports[1].to_string()])
            .arg("--no-admin")
            .arg("--data-path")
            .arg(dir.join("data"))
            .arg("--record-path")
            .arg(dir.join("record"))
            .current_dir(dir)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("node starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        for p in [port, tls_port] {
            while TcpStream::connect(("127.0.0.1", p)).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "node-media-server did not start listening on port {p}: {}",
                    std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        child
    }

    /// Brings a server that died back on the same ports, as a supervisor would.
    fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = Self::spawn(&self.dir, self.port, self.tls_port, self.http_ports);
        self.restarts += 1;
    }
}

impl Drop for NodeMediaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn node_media_server_graded_result_matches_its_snapshot_and_baseline() {
    let nms = NodeMediaServer::start("catalogue");
    let target = Target::parse(&format!("rtmp://127.0.0.1:{}/live", nms.port)).unwrap();
    let catalogue = cases::all();
    // Node's event loop on a loaded machine: timing-sensitive cases get two more tries.
    let options = CheckOptions { retries: 2, ..CheckOptions::default() };
    // Some robustness cases kill node (an exception nothing catches ends the process): the
    // case is graded, then the server is restarted, as a supervisor would, before the next.
    let mut nms = nms;
    let mut killers = Vec::new();
    let mut run = runner::run(&target, &catalogue, &options, &mut |r| {
        if r.reaction == Some(Reaction::ServerDied) {
            killers.push(r.id);
            nms.restart();
        }
    });
    assert_eq!(run.could_not_test, None);
    assert_eq!(killers, NMS_KILLERS, "the cases node-media-server died in");
    // When node dies, the kernel ends its connections with a FIN, or with a RST when bytes it
    // had not read were still queued: which one is a race with the case's last write. The
    // snapshot pins the close; a reset of a connection whose server died is read as one.
    for r in run.results.iter_mut().filter(|r| r.reaction == Some(Reaction::ServerDied)) {
        r.actual = r.actual.replace(": reset;", ": closed;");
        for w in &mut r.wire {
            if w.summary == "the connection was reset" {
                w.summary = "the server closed the connection".into();
            }
        }
    }
    assert_eq!(nms.restarts as usize, NMS_KILLERS.len());
    assert_eq!(run.results.len(), catalogue.len());
    let errors: Vec<_> =
        run.results.iter().filter(|r| r.verdict == Verdict::Error).map(|r| (r.id, &r.actual)).collect();
    assert!(errors.is_empty(), "tool errors: {errors:?}");
    let opts = ReportOptions { redact: true, ..Default::default() };
    snapshot_settings().bind(|| insta::assert_snapshot!("check_node_media_server_text", report::text(&run, &opts)));
    update_baseline(NMS_BASELINE, &Baseline::from_results(&run.results));
    let baseline = Baseline::parse(&std::fs::read_to_string(repo().join(NMS_BASELINE)).unwrap()).unwrap();
    assert_eq!(
        Baseline::from_results(&run.results).to_json(),
        baseline.to_json(),
        "node-media-server's verdicts differ from {NMS_BASELINE}"
    );
}

#[test]
fn rtmps_against_node_media_server_verifies_the_certificate_unless_told_not_to() {
    let nms = NodeMediaServer::start("rtmps");
    let url = format!("rtmps://127.0.0.1:{}/live", nms.tls_port);
    // The certificate node-media-server ships is self-signed (and expired): not trusted.
    let out = rtmpscope(&["check", &url, "handshake.plain", "--timeout", "1000"]);
    assert_eq!(out.status.code(), Some(3), "stdout: {}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("could not test") && err.contains("TLS handshake failed: invalid peer certificate"), "{err}");
    let out = rtmpscope(&[
        "check",
        &url,
        "handshake.plain",
        "commands.connect",
        "commands.create-stream",
        "commands.publish",
        "--insecure",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["target"], url.as_str());
    let verdicts: Vec<(&str, &str)> = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap(), c["verdict"].as_str().unwrap()))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("handshake.plain", "pass"),
            ("commands.connect", "pass"),
            ("commands.create-stream", "pass"),
            ("commands.publish", "pass")
        ]
    );
}

#[test]
fn list_selects_without_connecting() {
    let out = rtmpscope(&["check", "--list", "chunk.csid-*", "--skip", "chunk.csid-2=reserved"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let ids: Vec<&str> = text.lines().map(|l| l.split_whitespace().next().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "chunk.csid-2",
            "chunk.csid-3",
            "chunk.csid-63",
            "chunk.csid-64",
            "chunk.csid-319",
            "chunk.csid-320",
            "chunk.csid-65599"
        ]
    );
    assert!(text.lines().next().unwrap().ends_with("[skipped]"), "{text}");
    let out = rtmpscope(&["check", "--list", "--tags", "ack"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().count() >= 4 && text.lines().all(|l| l.starts_with("control.")), "{text}");
    assert!(text.contains("[timing-sensitive]"));
    assert_eq!(rtmpscope(&["check", "--list", "nosuch"]).status.code(), Some(2));
    assert_eq!(rtmpscope(&["check"]).status.code(), Some(2), "a URL is needed without --list");
    assert_eq!(rtmpscope(&["check", "--list", "--timeout", "0"]).status.code(), Some(2));
}
