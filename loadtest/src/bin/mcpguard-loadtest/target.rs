//! The endpoint under test: `http://host[:port][/path]`, resolved once before the run so name
//! lookups never land inside a measured request.

use anyhow::{bail, Context};
use std::net::{SocketAddr, ToSocketAddrs};

#[derive(Debug, Clone)]
pub struct Target {
    pub addr: SocketAddr,
    /// The `Host` header value (authority as given).
    pub host: String,
    /// Request target, `/mcp` etc.
    pub path: String,
}

pub fn parse_url(url: &str) -> anyhow::Result<Target> {
    let rest = match url.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
        Some((scheme, _)) => bail!("unsupported scheme {scheme:?}: only http:// is supported"),
        None => bail!("--url must start with http://"),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains('@') {
        bail!("invalid authority in {url:?}");
    }
    if path.bytes().any(|b| b <= b' ' || b == 0x7f) {
        bail!("invalid path in {url:?}");
    }
    let with_port = if authority.starts_with('[') {
        if authority.contains("]:") {
            authority.to_string()
        } else {
            format!("{authority}:80")
        }
    } else if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let addr = with_port
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve {authority:?}"))?
        .next()
        .with_context(|| format!("{authority:?} resolves to no address"))?;
    // Drop any fragment: it is never sent.
    let path = path.split('#').next().unwrap_or("/").to_string();
    Ok(Target {
        addr,
        host: authority.to_string(),
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = parse_url("http://127.0.0.1:8080/mcp").unwrap();
        assert_eq!(t.addr.port(), 8080);
        assert_eq!(t.host, "127.0.0.1:8080");
        assert_eq!(t.path, "/mcp");
        let t = parse_url("http://127.0.0.1").unwrap();
        assert_eq!((t.addr.port(), t.path.as_str()), (80, "/"));
        assert!(parse_url("https://127.0.0.1/mcp").is_err());
        assert!(parse_url("127.0.0.1/mcp").is_err());
    }
}
