//! RTMPS for the proxy: TLS accepted from encoders (`--tls-cert`, `--tls-key`) and TLS
//! originated to an `rtmps://` upstream (verified against the system roots and `--ca-file`,
//! or not at all with `--insecure`), with the secrets of both sides written in the
//! SSLKEYLOGFILE format (`--keylog`) so a parallel capture can be decrypted.
//!
//! Everything past the TLS layer (analysis, recordings, reports) sees the plaintext RTMP.

use super::writer::{FileHandle, FileWriter};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{ring, CryptoProvider};
use rustls::{ClientConfig, DigitallySignedStruct, KeyLog, RootCertStore, ServerConfig, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// What the command line asked of TLS.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// PEM certificate chain and private key presented to clients; both or neither.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// Extra PEM trust anchors for an `rtmps://` upstream.
    pub ca_file: Option<PathBuf>,
    /// Accept any upstream certificate.
    pub insecure: bool,
    /// Where TLS secrets go (SSLKEYLOGFILE format); `None` also consults `SSLKEYLOGFILE`.
    pub keylog: Option<PathBuf>,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

/// Appends `LABEL <client random hex> <secret hex>` lines to a file, one write job per line
/// (through the file writer thread: handshakes never wait on the disk), so both sides'
/// handshakes can share it.
#[derive(Debug)]
pub struct KeyLogFile {
    path: PathBuf,
    file: Mutex<FileHandle>,
}

impl KeyLogFile {
    /// Opens (appends to) `path` now, so a bad path stops the proxy at start-up.
    pub fn open(path: &Path, writer: &FileWriter) -> anyhow::Result<KeyLogFile> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| anyhow::anyhow!("cannot open the TLS key log {}: {e}", path.display()))?;
        let handle = writer.adopt(path.to_path_buf(), file, "TLS key log")?;
        Ok(KeyLogFile { path: path.to_path_buf(), file: Mutex::new(handle) })
    }
}

/// One key log line (without the newline).
pub fn keylog_line(label: &str, client_random: &[u8], secret: &[u8]) -> String {
    let mut line = String::with_capacity(label.len() + 2 + 2 * (client_random.len() + secret.len()));
    line.push_str(label);
    line.push(' ');
    for b in client_random {
        let _ = write!(line, "{b:02x}");
    }
    line.push(' ');
    for b in secret {
        let _ = write!(line, "{b:02x}");
    }
    line
}

impl KeyLog for KeyLogFile {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let mut line = keylog_line(label, client_random, secret);
        line.push('\n');
        if let Ok(mut f) = self.file.lock() {
            if let Err(e) = f.write_line(line.into_bytes()) {
                eprintln!("rtmpscope: TLS key log {}: {label} line dropped: {e}", self.path.display());
            }
        }
    }
}

/// The TLS pieces the proxy uses, built once at start-up.
#[derive(Clone, Default)]
pub struct Tls {
    /// Present when clients connect with TLS.
    pub acceptor: Option<TlsAcceptor>,
    /// Present when the upstream is `rtmps://`.
    pub connector: Option<TlsConnector>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("accepts_tls", &self.acceptor.is_some())
            .field("connects_with_tls", &self.connector.is_some())
            .finish()
    }
}

/// The key log the options ask for: `--keylog`, else `SSLKEYLOGFILE` when set and non-empty.
fn keylog(opts: &TlsOptions, writer: &FileWriter) -> anyhow::Result<Option<Arc<dyn KeyLog>>> {
    let path = match &opts.keylog {
        Some(p) => Some(p.clone()),
        None => std::env::var_os("SSLKEYLOGFILE").filter(|v| !v.is_empty()).map(PathBuf::from),
    };
    match path {
        Some(p) => {
            let f = KeyLogFile::open(&p, writer)?;
            eprintln!("rtmpscope: writing TLS secrets to {} (SSLKEYLOGFILE format)", p.display());
            Ok(Some(Arc::new(f)))
        }
        None => Ok(None),
    }
}

impl Tls {
    /// Builds what `opts` asks for; `upstream_tls` says whether the upstream is `rtmps://`.
    pub fn new(opts: &TlsOptions, upstream_tls: bool, writer: &FileWriter) -> anyhow::Result<Tls> {
        let keylog = keylog(opts, writer)?;
        let acceptor = match (&opts.cert, &opts.key) {
            (Some(cert), Some(key)) => Some(TlsAcceptor::from(Arc::new(server_config(cert, key, keylog.clone())?))),
            (None, None) => None,
            _ => anyhow::bail!("--tls-cert and --tls-key go together"),
        };
        let connector = if upstream_tls {
            Some(TlsConnector::from(Arc::new(client_config(opts, keylog)?)))
        } else {
            if opts.ca_file.is_some() || opts.insecure {
                eprintln!("rtmpscope: --ca-file and --insecure apply to rtmps:// upstreams only; ignored");
            }
            None
        };
        Ok(Tls { acceptor, connector })
    }
}

fn server_config(cert: &Path, key: &Path, keylog: Option<Arc<dyn KeyLog>>) -> anyhow::Result<ServerConfig> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| anyhow::anyhow!("cannot read certificates from {}: {e}", cert.display()))?;
    if chain.is_empty() {
        anyhow::bail!("{} holds no PEM certificate", cert.display());
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| anyhow::anyhow!("cannot read a private key from {}: {e}", key.display()))?;
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| anyhow::anyhow!("TLS setup: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| anyhow::anyhow!("the certificate and key do not make a TLS identity: {e}"))?;
    if let Some(k) = keylog {
        config.key_log = k;
    }
    Ok(config)
}

/// The client side's TLS configuration: the system's trust anchors plus `--ca-file`, or no
/// verification with `--insecure` (the proxy's upstream side, and `check rtmps://`).
pub fn client_config(opts: &TlsOptions, keylog: Option<Arc<dyn KeyLog>>) -> anyhow::Result<ClientConfig> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| anyhow::anyhow!("TLS setup: {e}"))?;
    let mut config = if opts.insecure {
        eprintln!(
            "rtmpscope: WARNING: --insecure: the upstream's TLS certificate is NOT verified; anyone on the path can impersonate it"
        );
        builder.dangerous().with_custom_certificate_verifier(Arc::new(NoVerification(provider()))).with_no_client_auth()
    } else {
        let mut roots = RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        let (added, _) = roots.add_parsable_certificates(native.certs);
        let mut extra = 0;
        if let Some(ca) = &opts.ca_file {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(ca)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| anyhow::anyhow!("cannot read CA certificates from {}: {e}", ca.display()))?;
            if certs.is_empty() {
                anyhow::bail!("{} holds no PEM certificate", ca.display());
            }
            for c in certs {
                roots.add(c).map_err(|e| anyhow::anyhow!("{}: unusable CA certificate: {e}", ca.display()))?;
                extra += 1;
            }
        }
        if roots.is_empty() {
            anyhow::bail!("no trust anchors: the system has no CA certificates; give --ca-file or --insecure");
        }
        eprintln!("rtmpscope: verifying the upstream's certificate against {added} system and {extra} --ca-file trust anchor(s)");
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    if let Some(k) = keylog {
        config.key_log = k;
    }
    Ok(config)
}

/// The name the upstream certificate is checked against and sent as SNI (an IP address is
/// checked against the certificate's IP addresses and not sent).
pub fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    ServerName::try_from(host.to_string()).map_err(|e| format!("{host:?} is not a valid TLS server name: {e}"))
}

/// `--insecure`: any certificate is taken, but the handshake signatures are still checked
/// (against the presented key), so the secrets in the key log are the real ones.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `TLSv1_3 TLS13_AES_256_GCM_SHA384` for logs and events.
pub fn describe(conn: &rustls::CommonState) -> String {
    let version = conn.protocol_version().map(|v| format!("{v:?}")).unwrap_or_else(|| "?".into());
    let suite = conn.negotiated_cipher_suite().map(|s| format!("{:?}", s.suite())).unwrap_or_else(|| "?".into());
    format!("{version} {suite}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keylog_lines_are_label_random_secret_in_lower_hex() {
        assert_eq!(keylog_line("CLIENT_RANDOM", &[0xab, 0x01], &[0xff, 0x00, 0x10]), "CLIENT_RANDOM ab01 ff0010");
    }
}
