//! Phase `origin` (second, on the head alone): the `Origin` against the allow-list (the transport
//! spec's DNS-rebinding defence). Requests without `Origin` come from non-browser clients and pass;
//! a refused one gets 403.

use crate::config::OriginPattern;

pub fn check(allowed: &[OriginPattern], origin: Option<&[u8]>) -> Result<(), &'static str> {
    let Some(raw) = origin else { return Ok(()) };
    let Ok(text) = std::str::from_utf8(raw) else {
        return Err("origin_invalid");
    };
    let Some((scheme, rest)) = text.split_once("://") else {
        return Err("origin_not_allowed");
    };
    let (host, port) = split_host_port(rest, scheme);
    let ok = allowed.iter().any(|p| {
        p.scheme.eq_ignore_ascii_case(scheme)
            && p.host.eq_ignore_ascii_case(host)
            && p.port.is_none_or(|want| Some(want) == port)
    });
    if ok {
        Ok(())
    } else {
        Err("origin_not_allowed")
    }
}

fn split_host_port<'a>(rest: &'a str, scheme: &str) -> (&'a str, Option<u16>) {
    let default = match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    };
    if rest.starts_with('[') {
        return match rest.find(']') {
            Some(i) => (
                &rest[..=i],
                rest[i + 1..]
                    .strip_prefix(':')
                    .and_then(|p| p.parse().ok())
                    .or(default),
            ),
            None => (rest, default),
        };
    }
    match rest.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().ok()),
        None => (rest, default),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::compile::parse_origin;

    #[test]
    fn allow_list_with_port_wildcards() {
        let allowed = vec![
            parse_origin("http://localhost:*").unwrap(),
            parse_origin("https://app.example.com").unwrap(),
            parse_origin("http://[::1]:3000").unwrap(),
        ];
        assert!(check(&allowed, None).is_ok());
        assert!(check(&allowed, Some(b"http://localhost:5173")).is_ok());
        assert!(check(&allowed, Some(b"https://APP.example.com")).is_ok());
        assert!(check(&allowed, Some(b"http://[::1]:3000")).is_ok());
        assert!(check(&allowed, Some(b"http://[::1]:3001")).is_err());
        assert!(check(&allowed, Some(b"http://evil.example")).is_err());
        assert!(check(&allowed, Some(b"null")).is_err());
        assert!(check(&allowed, Some(b"https://localhost.evil.example")).is_err());
    }
}
