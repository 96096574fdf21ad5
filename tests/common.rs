//! Helpers shared by the integration tests.

use rtmpscope::analyze::{self, Options};
use rtmpscope::report::JsonWriter;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The captures shipped in `captures/`, sorted by name.
pub fn captures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join("captures"))
        .expect("captures/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("pcap" | "pcapng")))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no captures in captures/");
    v
}

/// Analyzes files with the library and returns the JSON report.
pub fn analyze_json(files: &[&Path], options: &Options) -> Value {
    let names: Vec<String> = files.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let mut w = JsonWriter::new(Vec::new());
    analyze::run(&names, options, &mut w).expect("analysis runs");
    serde_json::from_slice(&w.into_inner()).expect("the report is valid JSON")
}

/// Runs the binary with arguments from the repository root.
pub fn rtmpscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rtmpscope")).current_dir(repo()).args(args).output().expect("binary runs")
}

/// A temporary directory for one test, removed and recreated.
pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rtmpscope-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Keeps the tests that load every core apart from the tests whose bounds are timeouts: on a
/// 2-core machine a proxy idle-timeout test running next to eight analyser processes measures
/// the machine, not the proxy. Each side holds the guard for its whole run.
pub fn cpu_exclusive() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

pub use rtmpscope::capture::synth::noise;
