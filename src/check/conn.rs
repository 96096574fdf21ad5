//! The check client's connection: a blocking socket where every read and write carries a
//! deadline, so no case can wait longer than its budget whatever the server does.
//!
//! [`Transport`] is plain TCP or TLS (`rtmps://`, rustls) over TCP; everything above it sees
//! only [`Conn`].

use rustls::{ClientConfig, ClientConnection, StreamOwned};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The byte stream under a connection.
#[derive(Debug)]
pub enum Transport {
    Tcp(TcpStream),
    /// RTMPS: a rustls client session over TCP (blocking; the TCP socket's timeouts bound
    /// every TLS read and write too).
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Transport {
    fn tcp(&self) -> &TcpStream {
        match self {
            Transport::Tcp(s) => s,
            Transport::Tls(s) => &s.sock,
        }
    }
}

impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Tcp(s) => s.read(buf),
            Transport::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Tcp(s) => s.write(buf),
            Transport::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Transport::Tcp(s) => s.flush(),
            Transport::Tls(s) => s.flush(),
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
            ConnError::Io(e) => f.write_str(e),
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

/// Resolves `host` before `deadline`. Name lookups block in the C library without a time
/// limit, so they run on a thread of their own that is abandoned when the deadline passes.
pub fn resolve(host: &str, port: u16, deadline: Instant) -> Result<Vec<SocketAddr>, ConnError> {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let name = host.to_string();
    std::thread::spawn(move || {
        let r = (name.as_str(), port).to_socket_addrs().map(|a| a.collect::<Vec<_>>());
        let _ = tx.send(r);
    });
    let Some(t) = left(deadline) else { return Err(ConnError::Timeout) };
    match rx.recv_timeout(t) {
        Ok(Ok(a)) => Ok(a),
        Ok(Err(e)) => Err(ConnError::Io(format!("resolving {host}: {e}"))),
        Err(_) => Err(ConnError::Io(format!("resolving {host}: no answer in time"))),
    }
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
        let addrs = resolve(host, port, deadline)?;
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

    /// Opens a TCP connection and completes a TLS handshake over it before `deadline`,
    /// checking the certificate against `host` as `config` says.
    pub fn connect_tls(host: &str, port: u16, config: Arc<ClientConfig>, deadline: Instant) -> Result<Conn, ConnError> {
        let tcp = Conn::connect_tcp(host, port, deadline)?;
        let Transport::Tcp(mut sock) = tcp.stream else { return Err(ConnError::Io("internal: not TCP".into())) };
        let name = crate::net::tls::server_name(host).map_err(ConnError::Io)?;
        let mut tls = ClientConnection::new(config, name).map_err(|e| ConnError::Io(format!("TLS setup: {e}")))?;
        while tls.is_handshaking() {
            let Some(t) = left(deadline) else { return Err(ConnError::Timeout) };
            let _ = sock.set_read_timeout(Some(t));
            let _ = sock.set_write_timeout(Some(t));
            match tls.complete_io(&mut sock) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                    return Err(ConnError::Io(format!("TLS handshake failed: {e}")))
                }
                Err(e) => {
                    return Err(match classify(&e) {
                        ConnError::Io(m) => ConnError::Io(format!("TLS handshake: {m}")),
                        ConnError::Closed => ConnError::Io("TLS handshake: the server closed the connection".into()),
                        ConnError::Reset => ConnError::Io("TLS handshake: the connection was reset".into()),
                        ConnError::Timeout => ConnError::Timeout,
                    })
                }
            }
        }
        Ok(Conn {
            stream: Transport::Tls(Box::new(StreamOwned::new(tls, sock))),
            local_port: tcp.local_port,
            peer: tcp.peer,
        })
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
