//! An upstream made ready to use: its addresses resolved and its TLS client config built, from the
//! validated [`UpstreamSpec`]. Built on the control thread (DNS and file reads block), never on a
//! reactor; a snapshot holds one `Peer` per upstream.

use crate::config::url::UpstreamUrl;
use crate::config::{Transport, UpstreamSpec};
use crate::net::tls::TlsSetupError;
use std::hash::{Hash, Hasher};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

pub struct UpstreamTls {
    pub config: Arc<rustls::ClientConfig>,
    pub server_name: rustls::pki_types::ServerName<'static>,
}

pub struct Peer {
    /// Position in the snapshot's `upstreams` (the detection policy's upstream index).
    pub id: usize,
    /// Identity of the connection target (name, URL, transport, TLS settings): pools are keyed
    /// by it, so idle connections survive a reload that keeps the upstream and are never reused
    /// for one that changed where or how it connects.
    pub key: u64,
    pub name: String,
    pub url: UpstreamUrl,
    /// Resolved once when the snapshot is built, so no DNS lookup ever blocks a reactor.
    pub addrs: Vec<SocketAddr>,
    /// Precomputed `Host` header value.
    pub authority: String,
    pub transport: Transport,
    pub tls: Option<UpstreamTls>,
    pub connect_timeout: Duration,
    pub response_timeout: Duration,
    pub idle_stream_timeout: Duration,
    pub pool_max_idle: usize,
    pub pool_idle_timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    #[error("cannot resolve `{host}`: {source}")]
    Resolve {
        host: String,
        source: std::io::Error,
    },
    #[error("`{0}` resolves to no address")]
    NoAddress(String),
    #[error("{0}")]
    Tls(#[from] TlsSetupError),
    #[error("`{0}` is not a valid server name")]
    ServerName(String),
}

impl PeerError {
    /// The key under `upstreams[i]` the problem belongs to.
    pub fn key(&self) -> &'static str {
        match self {
            PeerError::Resolve { .. } | PeerError::NoAddress(_) => "url",
            PeerError::Tls(_) => "ca_file",
            PeerError::ServerName(_) => "tls_server_name",
        }
    }
}

pub fn build(spec: &UpstreamSpec) -> Result<Peer, PeerError> {
    let url = &spec.url;
    let addrs: Vec<SocketAddr> = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|source| PeerError::Resolve {
            host: url.host.clone(),
            source,
        })?
        .collect();
    if addrs.is_empty() {
        return Err(PeerError::NoAddress(url.host.clone()));
    }
    let tls = if url.tls {
        let name = spec.tls_server_name.as_deref().unwrap_or(&url.host);
        let config = crate::upstream::tls::client_config(spec.ca_file.clone())?;
        let server_name = rustls::pki_types::ServerName::try_from(name.to_string())
            .map_err(|_| PeerError::ServerName(name.to_string()))?;
        Some(UpstreamTls {
            config,
            server_name,
        })
    } else {
        None
    };
    Ok(Peer {
        id: spec.id,
        key: key_of(spec),
        name: spec.name.clone(),
        authority: url.authority(),
        url: url.clone(),
        addrs,
        transport: spec.transport,
        tls,
        connect_timeout: spec.connect_timeout,
        response_timeout: spec.response_timeout,
        idle_stream_timeout: spec.idle_stream_timeout,
        pool_max_idle: spec.pool_max_idle,
        pool_idle_timeout: spec.pool_idle_timeout,
    })
}

fn key_of(spec: &UpstreamSpec) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    spec.name.hash(&mut h);
    spec.url.tls.hash(&mut h);
    spec.url.host.hash(&mut h);
    spec.url.port.hash(&mut h);
    spec.url.path_and_query.hash(&mut h);
    (spec.transport == Transport::LegacySse).hash(&mut h);
    spec.ca_file.hash(&mut h);
    spec.tls_server_name.hash(&mut h);
    h.finish()
}
