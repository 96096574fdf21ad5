//! The proxy's file writer: one dedicated thread does every file write (session reports,
//! recordings, the TLS key log), so a slow disk never blocks a tokio worker thread.
//!
//! Sessions hand it data through one bounded queue without waiting ([`FileHandle`] buffers
//! up to [`CHUNK`] bytes, then offers them). When the queue is full the writer is behind: the
//! handle fails, the caller abandons that file (with a log line) and goes on; forwarding and
//! the live view are not affected. Only opening and closing a file wait for room, and they wait
//! asynchronously.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Bytes a handle gathers before offering them to the writer.
pub const CHUNK: usize = 64 * 1024;
/// Jobs waiting for the writer thread: at most `WRITE_QUEUE * CHUNK` bytes (16 MiB) are held
/// for writing at once, over all sessions.
pub const WRITE_QUEUE: usize = 256;

enum Job {
    /// Create (truncate) `path`; `label` names the owner in log lines ("session 3").
    Create {
        id: u64,
        path: PathBuf,
        label: String,
    },
    /// A file opened by the caller (the key log, opened at start-up to fail early).
    Adopt {
        id: u64,
        path: PathBuf,
        file: File,
        label: String,
    },
    Write {
        id: u64,
        bytes: Vec<u8>,
    },
    /// Flush and close; the answer is the file's first error, if any.
    Close {
        id: u64,
        done: oneshot::Sender<Result<(), String>>,
    },
}

struct Open {
    path: PathBuf,
    label: String,
    out: Option<BufWriter<File>>,
    error: Option<String>,
}

impl Open {
    fn fail(&mut self, what: &str, e: &io::Error) {
        if self.error.is_none() {
            let msg = format!("cannot {what} {}: {e}", self.path.display());
            eprintln!("rtmpscope: {}: {msg}", self.label);
            self.error = Some(msg);
        }
        self.out = None;
    }
}

fn run(mut rx: mpsc::Receiver<Job>) {
    let mut files: HashMap<u64, Open> = HashMap::new();
    while let Some(job) = rx.blocking_recv() {
        match job {
            Job::Create { id, path, label } => {
                let mut open = Open { path, label, out: None, error: None };
                match File::create(&open.path) {
                    Ok(f) => open.out = Some(BufWriter::with_capacity(CHUNK, f)),
                    Err(e) => open.fail("create", &e),
                }
                files.insert(id, open);
            }
            Job::Adopt { id, path, file, label } => {
                files.insert(id, Open { path, label, out: Some(BufWriter::with_capacity(CHUNK, file)), error: None });
            }
            Job::Write { id, bytes } => {
                if let Some(open) = files.get_mut(&id) {
                    if let Some(out) = &mut open.out {
                        if let Err(e) = out.write_all(&bytes) {
                            open.fail("write", &e);
                        }
                    }
                }
            }
            Job::Close { id, done } => {
                let result = match files.remove(&id) {
                    Some(mut open) => {
                        if let Some(mut out) = open.out.take() {
                            if let Err(e) = out.flush() {
                                open.fail("write", &e);
                            }
                        }
                        open.error.map_or(Ok(()), Err)
                    }
                    None => Err("unknown file".to_string()),
                };
                let _ = done.send(result);
            }
        }
    }
    // Every sender is gone (the proxy is stopping): flush what is left.
    for (_, mut open) in files {
        if let Some(mut out) = open.out.take() {
            if let Err(e) = out.flush() {
                open.fail("write", &e);
            }
        }
    }
}

/// The writer thread's queue; cheap to clone. The thread ends when every clone and every
/// handle is dropped.
#[derive(Debug, Clone)]
pub struct FileWriter {
    tx: mpsc::Sender<Job>,
    next: Arc<AtomicU64>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Job::Create { id, .. } => write!(f, "Create({id})"),
            Job::Adopt { id, .. } => write!(f, "Adopt({id})"),
            Job::Write { id, bytes } => write!(f, "Write({id}, {} bytes)", bytes.len()),
            Job::Close { id, .. } => write!(f, "Close({id})"),
        }
    }
}

impl FileWriter {
    /// Starts the writer thread with room for `queue` jobs.
    pub fn start(queue: usize) -> io::Result<(FileWriter, std::thread::JoinHandle<()>)> {
        let (tx, rx) = mpsc::channel(queue);
        let thread = std::thread::Builder::new().name("rtmpscope-writer".into()).spawn(move || run(rx))?;
        Ok((FileWriter { tx, next: Arc::new(AtomicU64::new(1)) }, thread))
    }

    fn handle(&self, id: u64, path: PathBuf) -> FileHandle {
        FileHandle { id, path, tx: self.tx.clone(), buf: Vec::new(), failed: None, closed: false }
    }

    /// Creates `path` on the writer thread (waiting for room in the queue, not for the file).
    pub async fn create(&self, path: PathBuf, label: &str) -> FileHandle {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let mut h = self.handle(id, path.clone());
        if self.tx.send(Job::Create { id, path, label: label.to_string() }).await.is_err() {
            h.failed = Some("the file writer has stopped".into());
        }
        h
    }

    /// Hands an already open file to the writer thread, without waiting (at start-up, when
    /// the queue is empty).
    pub fn adopt(&self, path: PathBuf, file: File, label: &str) -> io::Result<FileHandle> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let h = self.handle(id, path.clone());
        self.tx
            .try_send(Job::Adopt { id, path, file, label: label.to_string() })
            .map_err(|_| io::Error::other("the file writer is not taking files"))?;
        Ok(h)
    }
}

/// A file written by the writer thread. `Write` only buffers and offers; it never waits.
#[derive(Debug)]
pub struct FileHandle {
    id: u64,
    path: PathBuf,
    tx: mpsc::Sender<Job>,
    buf: Vec<u8>,
    /// Why this handle stopped taking data.
    failed: Option<String>,
    closed: bool,
}

impl Drop for FileHandle {
    /// A handle dropped without [`FileHandle::close`] (an abandoned file) still closes its
    /// file, if the queue has room; otherwise the writer closes it when the proxy stops.
    fn drop(&mut self) {
        if !self.closed {
            let (done, _) = oneshot::channel();
            let _ = self.tx.try_send(Job::Close { id: self.id, done });
        }
    }
}

impl FileHandle {
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Offers `bytes` to the writer without waiting; on a full queue the handle fails.
    fn offer(&mut self, bytes: Vec<u8>) -> io::Result<()> {
        if let Some(why) = &self.failed {
            return Err(io::Error::other(why.clone()));
        }
        match self.tx.try_send(Job::Write { id: self.id, bytes }) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                let why = format!(
                    "the file writer is behind ({WRITE_QUEUE} writes of up to {} KiB queued); data dropped",
                    CHUNK / 1024
                );
                self.failed = Some(why.clone());
                Err(io::Error::new(io::ErrorKind::WouldBlock, why))
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                let why = "the file writer has stopped".to_string();
                self.failed = Some(why.clone());
                Err(io::Error::other(why))
            }
        }
    }

    /// Writes `line` as one job, unbuffered (for the key log, whose lines must not wait).
    pub fn write_line(&mut self, line: Vec<u8>) -> io::Result<()> {
        self.offer(line)
    }

    /// Sends what is buffered, closes the file and waits (asynchronously) for the writer's
    /// verdict: `Err` when any byte was dropped or failed to reach the file.
    pub async fn close(mut self) -> Result<(), String> {
        if !self.buf.is_empty() {
            let rest = std::mem::take(&mut self.buf);
            let _ = self.offer(rest);
        }
        self.closed = true;
        let (done, answer) = oneshot::channel();
        // The close itself waits for room: it is one small job per file.
        if self.tx.send(Job::Close { id: self.id, done }).await.is_err() {
            return Err("the file writer has stopped".into());
        }
        let written = answer.await.unwrap_or_else(|_| Err("the file writer has stopped".into()));
        match self.failed.take() {
            Some(why) => Err(why),
            None => written,
        }
    }
}

impl Write for FileHandle {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if let Some(why) = &self.failed {
            return Err(io::Error::other(why.clone()));
        }
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            let full = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
            self.offer(full)?;
        }
        Ok(data.len())
    }

    /// Offers the buffered bytes (writing them is the writer thread's business).
    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let rest = std::mem::take(&mut self.buf);
        self.offer(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    }

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("rtmpscope-writer-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn writes_whole_files_in_order() {
        let d = dir("order");
        let (w, thread) = FileWriter::start(8).unwrap();
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        rt().block_on(async {
            let mut h = w.create(d.join("a"), "test").await;
            for piece in data.chunks(777) {
                h.write_all(piece).unwrap();
                // Give the writer thread time: this test is not about a full queue.
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
            h.close().await.unwrap();
        });
        drop(w);
        thread.join().unwrap();
        assert_eq!(std::fs::read(d.join("a")).unwrap(), data);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_stalled_writer_makes_writes_fail_instead_of_waiting() {
        let d = dir("stall");
        let fifo = d.join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
        assert!(made.success());
        let (w, thread) = FileWriter::start(2).unwrap();
        let outcome = rt().block_on(async {
            // Opening a FIFO with no reader blocks the writer thread: it is "behind".
            let mut stalled = w.create(fifo.clone(), "test").await;
            let mut results = Vec::new();
            for _ in 0..8 {
                results.push(stalled.write_all(&vec![7u8; CHUNK]).map_err(|e| e.kind()));
            }
            (stalled, results)
        });
        let (stalled, results) = outcome;
        // Two chunks fit the queue (with the Create ahead of them possibly taken off it), then
        // the handle fails at once, and stays failed.
        let first_err = results.iter().position(Result::is_err).expect("a write failed");
        assert!((1..=3).contains(&first_err), "{results:?}");
        assert_eq!(results[first_err], Err(io::ErrorKind::WouldBlock));
        assert!(results[first_err..].iter().all(Result::is_err));
        // Unblock the writer: read the FIFO to its end.
        let reader = std::thread::spawn(move || std::fs::read(&fifo).unwrap().len());
        let verdict = rt().block_on(stalled.close());
        assert!(verdict.unwrap_err().contains("the file writer is behind"));
        drop(w);
        thread.join().unwrap();
        assert_eq!(reader.join().unwrap(), first_err * CHUNK, "the chunks queued before the stall were written");
        let _ = std::fs::remove_dir_all(&d);
    }
}
