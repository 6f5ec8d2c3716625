//! Downstream networking: connections (TCP/TLS), the hardened HTTP/1.1 codec, body framing,
//! response writing, and the per-connection serve loop that hands each request to a [`Handler`].
//! Also the reactor-local wake-up primitives the loop waits on (idle clock, drain signal).

pub mod body;
pub mod conn;
pub mod h1;
pub mod handler;
pub mod idle;
pub mod notify;
pub mod respond;
pub mod server;
pub mod shutdown;
pub mod tls;

pub use handler::{Disposition, Handler, Request};
