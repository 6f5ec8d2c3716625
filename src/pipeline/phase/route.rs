//! Phase `route` (first, on the head alone): the route for a request from its Host and path,
//! longest prefix first. No route: 404 `no_route`.

use crate::config::Route;
use crate::net::h1::request::RequestHead;

/// Returns the route and the rest of the path after its prefix (`""` for an exact match).
pub fn find<'r, 'h>(routes: &'r [Route], head: &'h RequestHead) -> Option<(&'r Route, &'h str)> {
    let path = head.path();
    let host = head.host().map(strip_port);
    routes.iter().find_map(|r| {
        if let Some(want) = &r.host {
            if !host.is_some_and(|h| h.eq_ignore_ascii_case(want)) {
                return None;
            }
        }
        let rest = if r.path == "/" {
            path.strip_prefix('/')?
        } else {
            path.strip_prefix(&r.path)?
        };
        if r.path == "/" {
            return Some((r, rest));
        }
        (rest.is_empty() || rest.starts_with('/')).then_some((r, rest))
    })
}

fn strip_port(host: &str) -> &str {
    if let Some(v6) = host.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6);
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::h1::request::{parse_request_head, Limits};

    fn head(path: &str, host: &str) -> RequestHead {
        let raw = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n");
        parse_request_head(raw.as_bytes(), &Limits::default())
            .unwrap()
            .unwrap()
    }

    fn route(id: u32, path: &str, host: Option<&str>) -> Route {
        Route {
            id,
            path: path.into(),
            host: host.map(Into::into),
            upstream: id as usize,
            access: crate::config::RouteAccess::Open,
        }
    }

    #[test]
    fn longest_prefix_and_host() {
        let routes = vec![
            route(0, "/mcp/github", Some("a.example")),
            route(1, "/mcp/github", None),
            route(2, "/mcp", None),
        ];
        let h = head("/mcp/github?x=1", "a.example:8080");
        assert_eq!(
            find(&routes, &h).map(|(r, rest)| (r.id, rest)),
            Some((0, ""))
        );
        let h = head("/mcp/github/sse", "b.example");
        assert_eq!(
            find(&routes, &h).map(|(r, rest)| (r.id, rest)),
            Some((1, "/sse"))
        );
        let h = head("/mcp", "b.example");
        assert_eq!(find(&routes, &h).map(|(r, _)| r.id), Some(2));
        // A prefix must end at a path segment boundary.
        let h = head("/mcpx", "b.example");
        assert!(find(&routes, &h).is_none());
    }
}
