//! Sending one request upstream on this worker's pool and reading the response head.
//!
//! Retry rule: a request is re-sent on a fresh connection only when not one byte of it was written
//! to the pooled connection (the write failed outright). Once bytes left, the upstream may have
//! acted on them, and a JSON-RPC call is not idempotent, so the failure is reported instead.

use crate::net::conn::{Conn, ReadError};
use crate::net::h1::request::Limits;
use crate::net::h1::response::{parse_response_head, ResponseHead};
use crate::stats::WorkerStats;
use crate::upstream::connect::connect;
use crate::upstream::error::UpstreamError;
use crate::upstream::peer::Peer;
use crate::upstream::pool::Pool;
use std::time::Instant;

/// Upstream heads may be larger than client ones (many Set-Cookie, long CSP), but stay bounded.
const RESPONSE_HEAD_LIMITS: Limits = Limits {
    max_head_bytes: 64 * 1024,
    max_headers: 128,
};

pub struct Exchange {
    pub conn: Conn,
    pub head: ResponseHead,
}

pub async fn send(
    pool: &Pool,
    stats: &WorkerStats,
    up: &Peer,
    request: Vec<u8>,
    is_head: bool,
) -> Result<Exchange, UpstreamError> {
    let mut request = request;
    let mut retried = false;
    loop {
        let pooled = if retried {
            None
        } else {
            pool.take(up, Instant::now())
        };
        let reused = pooled.is_some();
        let mut conn = match pooled {
            Some(c) => {
                WorkerStats::inc(&stats.upstream_reuses_total);
                c
            }
            None => {
                WorkerStats::inc(&stats.upstream_connects_total);
                connect(up).await?
            }
        };
        let (res, buf) = conn.write_all(request).await;
        request = buf;
        if let Err(e) = res {
            if reused && e.written == 0 && !retried {
                retried = true;
                continue;
            }
            return Err(UpstreamError::Write(e.source));
        }
        let head = read_head(&mut conn, up, is_head).await?;
        return Ok(Exchange { conn, head });
    }
}

async fn read_head(
    conn: &mut Conn,
    up: &Peer,
    is_head: bool,
) -> Result<ResponseHead, UpstreamError> {
    let deadline = Instant::now() + up.response_timeout;
    loop {
        match parse_response_head(conn.buffered(), &RESPONSE_HEAD_LIMITS, is_head) {
            Ok(Some(head)) => {
                conn.consume(head.head_len());
                // Interim 1xx responses (we never send Expect, but 103 Early Hints exist) are
                // skipped: the client gets the final response only.
                if (100..200).contains(&head.status()) {
                    continue;
                }
                return Ok(head);
            }
            Ok(None) => {}
            Err(e) => return Err(UpstreamError::BadResponse(e)),
        }
        match conn.fill(deadline).await {
            Ok(_) => {}
            Err(ReadError::Timeout) => return Err(UpstreamError::ResponseTimeout),
            Err(ReadError::Closed) => return Err(UpstreamError::Closed),
            Err(ReadError::Io(e)) => return Err(UpstreamError::Read(e)),
        }
    }
}
