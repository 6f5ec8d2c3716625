//! Upstream URL parsing: only what a gateway needs (scheme, host, port, path), no IDNA machinery.

use std::fmt;

/// An `http://` or `https://` upstream address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamUrl {
    pub tls: bool,
    /// Host as written, without brackets for IPv6 literals.
    pub host: String,
    pub port: u16,
    /// Path and query, always starting with `/`.
    pub path_and_query: String,
}

impl UpstreamUrl {
    pub fn parse(text: &str) -> Result<Self, String> {
        let (tls, rest) = if let Some(r) = text.strip_prefix("http://") {
            (false, r)
        } else if let Some(r) = text.strip_prefix("https://") {
            (true, r)
        } else {
            return Err(format!(
                "`{text}`: the URL must start with http:// or https://"
            ));
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.contains('@') {
            return Err(format!(
                "`{text}`: credentials in the URL are not supported"
            ));
        }
        let default_port = if tls { 443 } else { 80 };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let end = v6
                .find(']')
                .ok_or_else(|| format!("`{text}`: unterminated IPv6 literal"))?;
            let host = &v6[..end];
            let port = match &v6[end + 1..] {
                "" => default_port,
                p => parse_port(p.strip_prefix(':').unwrap_or("x"), text)?,
            };
            (host, port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, parse_port(p, text)?),
                None => (authority, default_port),
            }
        };
        if host.is_empty() {
            return Err(format!("`{text}`: missing host"));
        }
        let path_and_query = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_string()
        };
        if path_and_query
            .bytes()
            .any(|b| b <= b' ' || b == 0x7f || b == b'#')
        {
            return Err(format!(
                "`{text}`: the path has spaces, control characters or a fragment"
            ));
        }
        Ok(Self {
            tls,
            host: host.to_string(),
            port,
            path_and_query,
        })
    }

    /// The value of the `Host` header to send upstream.
    pub fn authority(&self) -> String {
        let default_port = if self.tls { 443 } else { 80 };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == default_port {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

fn parse_port(p: &str, text: &str) -> Result<u16, String> {
    p.parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| format!("`{text}`: invalid port `{p}`"))
}

impl fmt::Display for UpstreamUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "https" } else { "http" };
        write!(f, "{scheme}://{}{}", self.authority(), self.path_and_query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        let u = UpstreamUrl::parse("http://127.0.0.1:3001/mcp").unwrap();
        assert_eq!((u.tls, u.host.as_str(), u.port), (false, "127.0.0.1", 3001));
        assert_eq!(u.path_and_query, "/mcp");
        let u = UpstreamUrl::parse("https://example.com").unwrap();
        assert_eq!((u.port, u.path_and_query.as_str()), (443, "/"));
        assert_eq!(u.authority(), "example.com");
        let u = UpstreamUrl::parse("http://[::1]:8080/x?y=1").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 8080));
        assert_eq!(u.authority(), "[::1]:8080");
        assert_eq!(u.to_string(), "http://[::1]:8080/x?y=1");
    }

    #[test]
    fn rejects_bad_urls() {
        for bad in [
            "ftp://x",
            "http://",
            "http://h:0/",
            "http://h:99999/",
            "http://u:p@h/",
            "http://h/a b",
            "http://[::1/",
        ] {
            assert!(UpstreamUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
