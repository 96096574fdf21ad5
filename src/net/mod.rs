//! Drivers that touch sockets and clocks; tokio is used here and nowhere else.
//!
//! - [`proxy`]: the live man-in-the-middle proxy (`rtmpscope proxy`).
//! - [`live`]: the analysis task of one proxied session (live events, report, recording).
//! - [`recorder`]: writes a relayed connection as pcapng with synthesized TCP framing.
//! - [`tls`]: RTMPS on either side of the proxy (rustls), and the TLS key log.
//! - [`writer`]: the thread that does the proxy's file writes, behind a bounded queue.

pub mod live;
pub mod proxy;
pub mod recorder;
pub mod tls;
pub mod writer;
