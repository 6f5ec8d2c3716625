//! Upstream MCP servers: connecting (TCP or TLS), per-worker keep-alive pools, sending requests and
//! reading response heads. Relaying response bodies to the client is the pipeline's job.

pub mod connect;
pub mod error;
pub mod exchange;
pub mod peer;
pub mod pool;
pub mod request;
pub mod tls;

pub use error::UpstreamError;
pub use peer::Peer;
