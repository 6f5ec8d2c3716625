//! Opening a connection to an upstream: each resolved address in turn, bounded by the connect
//! timeout, then TLS with SNI when the upstream is https.

use crate::net::conn::{Conn, Stream};
use crate::upstream::error::UpstreamError;
use crate::upstream::peer::Peer;
use monoio::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::Instant;

pub async fn connect(up: &Peer) -> Result<Conn, UpstreamError> {
    let deadline = Instant::now() + up.connect_timeout;
    let mut last = UpstreamError::ConnectTimeout;
    let mut tcp = None;
    for addr in &up.addrs {
        let wait = deadline.saturating_duration_since(Instant::now());
        if wait.is_zero() {
            break;
        }
        match monoio::time::timeout(wait, TcpStream::connect_addr(*addr)).await {
            Ok(Ok(s)) => {
                tcp = Some(s);
                break;
            }
            Ok(Err(e)) => last = UpstreamError::Connect(e),
            Err(_) => last = UpstreamError::ConnectTimeout,
        }
    }
    let Some(tcp) = tcp else { return Err(last) };
    let _ = tcp.set_nodelay(true);
    let fd = tcp.as_raw_fd();
    let stream = match &up.tls {
        None => return Ok(Conn::plain(tcp)),
        Some(tls) => {
            let connector = monoio_rustls::TlsConnector::from(tls.config.clone());
            let wait = deadline.saturating_duration_since(Instant::now());
            match monoio::time::timeout(wait, connector.connect(tls.server_name.clone(), tcp)).await
            {
                Ok(Ok(s)) => Stream::ClientTls(Box::new(s)),
                Ok(Err(e)) => return Err(UpstreamError::Tls(e.into())),
                Err(_) => return Err(UpstreamError::ConnectTimeout),
            }
        }
    };
    Ok(Conn::new(stream, &fd))
}
