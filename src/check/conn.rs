//! The check client's connection: a blocking socket where every read and write carries a
//! deadline, so no case can wait longer than its budget whatever the server does.
//!
//! [`Transport`] is an enum so that TLS (`rtmps://`) can be one more variant wrapping the TCP
//! stream; everything above it sees only [`Conn`].

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// The byte stream under a connection.
#[derive(Debug)]
pub enum Transport {
    Tcp(TcpStream),
}

impl Transport {
    fn tcp(&self) -> &TcpStream {
        match self {
            Transport::Tcp(s) => s,
        }
    }
}

impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Tcp(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Transport::Tcp(s) => s.flush(),
        }
    }
}

/// Why an operation on the connection stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnError {
    /// The peer closed its side (read returned 0, or a write found the pipe closed).
    Closed,
    /// The connection was reset.
    Reset,
    /// The deadline passed.
    Timeout,
    /// Anything else, with the system's message.
    Io(String),
}

impl std::fmt::Display for ConnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnError::Closed => f.write_str("the server closed the connection"),
            ConnError::Reset => f.write_str("the connection was reset"),
            ConnError::Timeout => f.write_str("timed out"),
            ConnError::Io(e) => write!(f, "I/O error: {e}"),
        }
    }
}

fn classify(e: &io::Error) -> ConnError {
    use io::ErrorKind as K;
    match e.kind() {
        K::WouldBlock | K::TimedOut => ConnError::Timeout,
        K::ConnectionReset | K::ConnectionAborted => ConnError::Reset,
        K::BrokenPipe | K::UnexpectedEof | K::NotConnected => ConnError::Closed,
        _ => ConnError::Io(e.to_string()),
    }
}

/// Time left until `deadline`, at least 1 ms (a zero timeout means "block forever" to the OS).
fn left(deadline: Instant) -> Option<Duration> {
    let now = Instant::now();
    (now < deadline).then(|| (deadline - now).max(Duration::from_millis(1)))
}

/// One connection to the server under test.
#[derive(Debug)]
pub struct Conn {
    stream: Transport,
    local_port: u16,
    peer: SocketAddr,
}

impl Conn {
    /// Opens a TCP connection to `host:port`, trying each address until `deadline`.
    pub fn connect_tcp(host: &str, port: u16, deadline: Instant) -> Result<Conn, ConnError> {
        let addrs: Vec<SocketAddr> =
            (host, port).to_socket_addrs().map_err(|e| ConnError::Io(format!("resolving {host}: {e}")))?.collect();
        let mut last = ConnError::Io(format!("{host} resolved to no address"));
        for addr in addrs {
            let Some(t) = left(deadline) else { return Err(ConnError::Timeout) };
            match TcpStream::connect_timeout(&addr, t) {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    let local_port = s.local_addr().map(|a| a.port()).unwrap_or(0);
                    return Ok(Conn { stream: Transport::Tcp(s), local_port, peer: addr });
                }
                Err(e) => {
                    last = match e.kind() {
                        io::ErrorKind::ConnectionRefused => ConnError::Io(format!("{addr}: connection refused")),
                        _ => match classify(&e) {
                            ConnError::Io(m) => ConnError::Io(format!("{addr}: {m}")),
                            other => other,
                        },
                    }
                }
            }
        }
        Err(last)
    }

    /// Wraps an established transport (a TLS session over TCP, or a test stream).
    pub fn from_transport(stream: Transport) -> io::Result<Conn> {
        let tcp = stream.tcp();
        let local_port = tcp.local_addr()?.port();
        let peer = tcp.peer_addr()?;
        Ok(Conn { stream, local_port, peer })
    }

    pub fn local_port(&self) -> u16 {
        self.local_port
    }

    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Reads what is available (at most `buf.len()` bytes), waiting until `deadline`.
    /// `Ok(n)` with n > 0; a closed peer is `Err(Closed)`.
    pub fn read(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize, ConnError> {
        let Some(t) = left(deadline) else { return Err(ConnError::Timeout) };
        self.stream.tcp().set_read_timeout(Some(t)).map_err(|e| classify(&e))?;
        loop {
            match self.stream.read(buf) {
                Ok(0) => return Err(ConnError::Closed),
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(classify(&e)),
            }
        }
    }

    /// Writes all of `bytes` before `deadline`.
    pub fn write_all(&mut self, mut bytes: &[u8], deadline: Instant) -> Result<(), ConnError> {
        while !bytes.is_empty() {
            let Some(t) = left(deadline) else { return Err(ConnError::Timeout) };
            self.stream.tcp().set_write_timeout(Some(t)).map_err(|e| classify(&e))?;
            match self.stream.write(bytes) {
                Ok(0) => return Err(ConnError::Closed),
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(classify(&e)),
            }
        }
        let _ = self.stream.flush();
        Ok(())
    }

    /// Closes our sending side (the server sees end of stream).
    pub fn shutdown_write(&mut self) {
        let _ = self.stream.tcp().shutdown(Shutdown::Write);
    }
}
