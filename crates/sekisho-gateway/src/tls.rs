//! TLS for HTTPS listeners: rustls (ring provider) with ALPN `h2` and `http/1.1`.

use sekisho_config::Tls;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// Builds the acceptor for a listener's certificate and key (PEM files).
pub fn acceptor(tls: &Tls) -> Result<TlsAcceptor, String> {
    let cert_pem = std::fs::read(&tls.cert)
        .map_err(|e| format!("cannot read `{}`: {e}", tls.cert.display()))?;
    let key_pem =
        std::fs::read(&tls.key).map_err(|e| format!("cannot read `{}`: {e}", tls.key.display()))?;
    let certs = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("bad certificate `{}`: {e}", tls.cert.display()))?;
    if certs.is_empty() {
        return Err(format!("no certificate in `{}`", tls.cert.display()));
    }
    let key = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .map_err(|e| format!("bad private key `{}`: {e}", tls.key.display()))?
        .ok_or_else(|| format!("no private key in `{}`", tls.key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("certificate `{}`: {e}", tls.cert.display()))?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(cfg)))
}
