//! Message bodies read off a `Conn` by their framing (Content-Length, chunked, or until close),
//! for requests from clients and responses from upstreams alike.

use crate::net::conn::{Conn, ReadError};
use crate::net::h1::chunked::{ChunkedDecoder, DecodeStatus};
use crate::net::h1::error::CodecError;
use std::time::Instant;

/// Trailers are skipped, but bounded so a peer cannot stream them forever.
const MAX_TRAILER_BYTES: usize = 8 * 1024;

pub enum BodyState {
    Length(u64),
    Chunked(Box<ChunkedDecoder>),
    UntilClose,
    Done,
}

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("{0}")]
    Read(#[from] ReadError),
    #[error("{0}")]
    Codec(#[from] CodecError),
    #[error("body larger than {0} bytes")]
    TooLarge(usize),
}

impl BodyState {
    pub fn length(n: u64) -> Self {
        if n == 0 {
            BodyState::Done
        } else {
            BodyState::Length(n)
        }
    }

    pub fn chunked() -> Self {
        BodyState::Chunked(Box::new(ChunkedDecoder::new(MAX_TRAILER_BYTES)))
    }

    pub fn is_done(&self) -> bool {
        matches!(self, BodyState::Done)
    }

    /// Appends the next available body bytes to `out`, reading from the peer only when nothing is
    /// buffered. Returns once at least one byte was appended or the body ended.
    pub async fn read_some(
        &mut self,
        conn: &mut Conn,
        deadline: Instant,
        out: &mut Vec<u8>,
    ) -> Result<(), BodyError> {
        loop {
            let before = out.len();
            match self {
                BodyState::Done => return Ok(()),
                BodyState::Length(remaining) => {
                    let avail = conn.buffered().len() as u64;
                    if avail > 0 {
                        let n = avail.min(*remaining) as usize;
                        out.extend_from_slice(conn.take_buffered(n));
                        *remaining -= n as u64;
                        if *remaining == 0 {
                            *self = BodyState::Done;
                        }
                        return Ok(());
                    }
                }
                BodyState::Chunked(dec) => {
                    if !conn.buffered().is_empty() {
                        let (used, status) = dec.decode(conn.buffered(), out)?;
                        conn.consume(used);
                        if matches!(status, DecodeStatus::Done) {
                            *self = BodyState::Done;
                            return Ok(());
                        }
                        if out.len() > before {
                            return Ok(());
                        }
                    }
                }
                BodyState::UntilClose => {
                    let n = conn.buffered().len();
                    if n > 0 {
                        out.extend_from_slice(conn.take_buffered(n));
                        return Ok(());
                    }
                    match conn.fill(deadline).await {
                        Ok(_) => continue,
                        Err(ReadError::Closed) => {
                            *self = BodyState::Done;
                            return Ok(());
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            conn.fill(deadline).await?;
        }
    }

    /// Reads the whole body into `out`, failing beyond `limit` bytes.
    pub async fn read_to_end(
        &mut self,
        conn: &mut Conn,
        deadline: Instant,
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), BodyError> {
        while !self.is_done() {
            self.read_some(conn, deadline, out).await?;
            if out.len() > limit {
                return Err(BodyError::TooLarge(limit));
            }
        }
        Ok(())
    }
}
