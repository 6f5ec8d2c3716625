//! A byte stream (plain TCP or TLS, either side) with its read buffer, and the deadline-bounded
//! reads and writes the codec layers build on.
//!
//! monoio's I/O takes buffers by value (io_uring owns them while the kernel works), so the read
//! buffer is moved into each read and put back after it; a read abandoned by a timeout loses the
//! buffer, which is fine because a timed-out connection is never used again.

use monoio::buf::IoBufMut;
use monoio::io::{AsyncReadRent, AsyncWriteRent};
use monoio::net::TcpStream;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

pub type ServerTls = monoio_rustls::ServerTlsStream<TcpStream>;
pub type ClientTls = monoio_rustls::ClientTlsStream<TcpStream>;

pub enum Stream {
    Plain(TcpStream),
    ServerTls(Box<ServerTls>),
    ClientTls(Box<ClientTls>),
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("timed out")]
    Timeout,
    #[error("connection closed by peer")]
    Closed,
    #[error("{0}")]
    Io(#[from] io::Error),
}

impl Stream {
    async fn read_into(&mut self, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        let len = buf.len();
        let slice = buf.slice_mut(len..);
        // The TLS read futures are much larger than a plain socket read; boxed, they no longer
        // size the pending read of every idle plain-TCP connection.
        let (res, slice) = match self {
            Stream::Plain(s) => s.read(slice).await,
            Stream::ServerTls(s) => Box::pin(s.read(slice)).await,
            Stream::ClientTls(s) => Box::pin(s.read(slice)).await,
        };
        (res, slice.into_inner())
    }

    async fn write_some(&mut self, buf: Vec<u8>, from: usize) -> (io::Result<usize>, Vec<u8>) {
        use monoio::buf::IoBuf;
        let slice = buf.slice(from..);
        let (res, slice) = match self {
            Stream::Plain(s) => s.write(slice).await,
            Stream::ServerTls(s) => s.write(slice).await,
            Stream::ClientTls(s) => s.write(slice).await,
        };
        (res, slice.into_inner())
    }

    pub async fn shutdown(&mut self) {
        let _ = match self {
            Stream::Plain(s) => s.shutdown().await,
            Stream::ServerTls(s) => s.shutdown().await,
            Stream::ClientTls(s) => s.shutdown().await,
        };
    }
}

/// The read buffer of a connection waiting for its next message.
const IDLE_READ: usize = 2 * 1024;

/// A stream plus the bytes read from it but not consumed yet.
pub struct Conn {
    pub stream: Stream,
    /// The socket under the stream (TLS wrappers do not expose it), for the idle liveness probe.
    fd: RawFd,
    buf: Vec<u8>,
    /// Bytes of `buf` before this offset are consumed.
    pos: usize,
}

impl Conn {
    /// `tcp` is the socket under `stream`, taken before any TLS wrapping.
    pub fn new(stream: Stream, tcp: &impl AsRawFd) -> Self {
        Self {
            stream,
            fd: tcp.as_raw_fd(),
            buf: Vec::new(),
            pos: 0,
        }
    }

    pub fn plain(tcp: TcpStream) -> Self {
        let fd = tcp.as_raw_fd();
        Self {
            stream: Stream::Plain(tcp),
            fd,
            buf: Vec::new(),
            pos: 0,
        }
    }

    /// Drops a large read buffer once everything in it is consumed, so that a connection idling
    /// between requests holds only the small buffer of its next read (10,000 idle keep-alive
    /// connections must not cost 16 KiB each).
    pub fn release_idle_buffer(&mut self) {
        if self.pos >= self.buf.len() && self.buf.capacity() > IDLE_READ {
            self.buf = Vec::new();
            self.pos = 0;
        }
    }

    /// Unconsumed bytes.
    pub fn buffered(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    pub fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.buf.len());
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
    }

    /// Takes up to `n` unconsumed bytes out of the buffer.
    pub fn take_buffered(&mut self, n: usize) -> &[u8] {
        let end = (self.pos + n).min(self.buf.len());
        let start = self.pos;
        self.pos = end;
        // The caller copies before the next read, which is when the buffer is compacted.
        &self.buf[start..end]
    }

    /// Reads more bytes, appending to the buffer, before `deadline`. Returns how many arrived.
    pub async fn fill(&mut self, deadline: Instant) -> Result<usize, ReadError> {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let spare = self.buf.capacity() - self.buf.len();
        if self.buf.capacity() == 0 {
            // The first read of a message: most MCP request heads and small bodies fit here.
            self.buf.reserve_exact(IDLE_READ);
        } else if spare < 1024 {
            // Then grow geometrically, so a large body costs few reads.
            self.buf
                .reserve(self.buf.capacity().clamp(8 * 1024, 256 * 1024));
        }
        let wait = deadline.saturating_duration_since(Instant::now());
        if wait.is_zero() {
            return Err(ReadError::Timeout);
        }
        let buf = std::mem::take(&mut self.buf);
        match monoio::time::timeout(wait, self.stream.read_into(buf)).await {
            Err(_) => Err(ReadError::Timeout),
            Ok((res, buf)) => {
                self.buf = buf;
                match res {
                    Ok(0) => Err(ReadError::Closed),
                    Ok(n) => Ok(n),
                    Err(e) => Err(ReadError::Io(e)),
                }
            }
        }
    }

    /// Writes the whole buffer; on failure says how many bytes had been written, because a
    /// request may be retried elsewhere only if none were. The buffer comes back for reuse.
    pub async fn write_all(&mut self, buf: Vec<u8>) -> (Result<(), WriteError>, Vec<u8>) {
        let mut buf = buf;
        let mut written = 0;
        while written < buf.len() {
            let (res, b) = self.stream.write_some(buf, written).await;
            buf = b;
            match res {
                Ok(0) => {
                    let e = io::Error::new(io::ErrorKind::WriteZero, "peer stopped reading");
                    return (Err(WriteError { written, source: e }), buf);
                }
                Ok(n) => written += n,
                Err(source) => return (Err(WriteError { written, source }), buf),
            }
        }
        (Ok(()), buf)
    }

    /// Like `write_all`, bounded by a timeout (a client that stops reading must not pin a worker's
    /// memory forever).
    pub async fn write_all_timeout(
        &mut self,
        buf: Vec<u8>,
        limit: Duration,
    ) -> Result<Vec<u8>, WriteError> {
        match monoio::time::timeout(limit, self.write_all(buf)).await {
            Err(_) => Err(WriteError {
                written: usize::MAX,
                source: io::Error::new(io::ErrorKind::TimedOut, "write timed out"),
            }),
            Ok((Ok(()), buf)) => Ok(buf),
            Ok((Err(e), _)) => Err(e),
        }
    }

    /// True when a pooled idle connection is still usable: the peer has not closed it and has sent
    /// nothing unsolicited. One non-blocking `recv(MSG_PEEK)`, taken only when reusing.
    #[allow(unsafe_code)]
    pub fn idle_is_reusable(&self) -> bool {
        if !self.buffered().is_empty() {
            return false;
        }
        let mut byte = [0u8; 1];
        // SAFETY: the fd is owned by `self.stream` and alive; the buffer is a valid 1-byte local.
        let n = unsafe {
            libc::recv(
                self.fd,
                byte.as_mut_ptr().cast(),
                1,
                libc::MSG_PEEK | libc::MSG_DONTWAIT,
            )
        };
        if n < 0 {
            let err = io::Error::last_os_error();
            return err.kind() == io::ErrorKind::WouldBlock;
        }
        // 0 = orderly close, >0 = unsolicited bytes (or TLS close_notify): neither is reusable.
        false
    }

    /// True when the peer has hung up or the socket has failed, even with unread bytes pending
    /// (a TLS close_notify, a pipelined request). One `poll(POLLRDHUP)` with no wait; used while a
    /// relayed stream is silent, so a client's disconnect reaches the upstream as cancellation.
    #[allow(unsafe_code)]
    pub fn peer_gone(&self) -> bool {
        let mut pfd = libc::pollfd {
            fd: self.fd,
            events: libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR,
            revents: 0,
        };
        // SAFETY: one valid pollfd on the stack for a socket owned by `self.stream`; zero timeout.
        let n = unsafe { libc::poll(&mut pfd, 1, 0) };
        n > 0 && pfd.revents & (libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR) != 0
    }

    /// The socket of a plain-TCP connection (None under TLS, whose wrapper hides it).
    pub fn plain_tcp(&self) -> Option<&TcpStream> {
        match &self.stream {
            Stream::Plain(tcp) => Some(tcp),
            _ => None,
        }
    }

    pub fn is_tls(&self) -> bool {
        !matches!(self.stream, Stream::Plain(_))
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{source} (after {written} bytes)")]
pub struct WriteError {
    pub written: usize,
    pub source: io::Error,
}
