//! Upstream TLS: a rustls client configuration trusting the platform roots or one CA file.

use crate::net::tls::{read_certs, TlsSetupError};
use std::path::PathBuf;
use std::sync::Arc;

pub fn client_config(ca_file: Option<PathBuf>) -> Result<Arc<rustls::ClientConfig>, TlsSetupError> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certs = read_certs(&path)?;
            if certs.is_empty() {
                return Err(TlsSetupError::NoCert(path.display().to_string()));
            }
            for c in certs {
                roots.add(c)?;
            }
        }
        None => {
            // Unparseable platform certificates are skipped, as browsers and curl do.
            let loaded = rustls_native_certs::load_native_certs();
            for c in loaded.certs {
                let _ = roots.add(c);
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
