//! What the connection loop hands a request to: the [`Handler`] a higher layer implements (the
//! pipeline), so `net` knows connections and framing but never the pipeline or the worker.

use crate::config::Limits;
use crate::net::conn::Conn;
use crate::net::h1::request::RequestHead;
use crate::net::idle::IdleClock;
use crate::net::shutdown::LocalShutdown;
use crate::stats::WorkerStats;
use bytes::Bytes;
use std::future::Future;
use std::net::SocketAddr;

/// A request whose head and body have been read and passed the codec.
pub struct Request {
    pub head: RequestHead,
    pub body: Bytes,
    pub peer: SocketAddr,
    pub tls: bool,
}

/// Whether the downstream connection may serve another request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    KeepAlive,
    Close,
}

/// One worker's request handler and the per-worker facilities the connection loop uses.
pub trait Handler {
    /// The limits in force for the next request (the current configuration's).
    fn limits(&self) -> Limits;
    fn stats(&self) -> &WorkerStats;
    fn idle(&self) -> &IdleClock;
    fn shutdown(&self) -> &LocalShutdown;
    /// A request refused by the codec before it could reach `handle` (malformed, oversized, too
    /// slow), already counted and about to be answered: for the audit trail.
    fn framing_rejected(&self, peer: SocketAddr, reason: &'static str);
    /// Answers one request; the connection loop reads the next one when it returns `KeepAlive`.
    fn handle<'a>(
        &'a self,
        req: &'a Request,
        down: &'a mut Conn,
    ) -> impl Future<Output = Disposition> + 'a;
}
