//! Downstream networking: connections (TCP/TLS), the hardened HTTP/1.1 codec, body framing,
//! response writing, and the per-connection serve loop.

pub mod body;
pub mod conn;
pub mod h1;
pub mod respond;
pub mod server;
pub mod tls;
