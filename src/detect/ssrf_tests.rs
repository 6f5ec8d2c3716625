//! Unit tests of `ssrf` (kept apart for size).
use super::*;
use crate::detect::scan::Direction;
use crate::detect::testfold::hits_real;
use crate::detect::testkit::hits;

fn arg(key: &str, value: &str) -> Vec<&'static str> {
    let d = SsrfDetector::new();
    let a = hits(
        &d,
        Direction::Request,
        Some("tools/call"),
        Some("fetch"),
        &[(key, value, Zone::Argument)],
    );
    let b = hits_real(&d, Some("fetch"), &[(key, value, Zone::Argument)]);
    assert_eq!(a, b, "naive and real fold disagree on {key}={value:?}");
    a
}

fn real(tool: &str, key: &str, value: &str) -> Vec<&'static str> {
    hits_real(
        &SsrfDetector::new(),
        Some(tool),
        &[(key, value, Zone::Argument)],
    )
}

const MD: &str = "ssrf.cloud_metadata";
const OBF: &str = "ssrf.obfuscated_ip";

#[test]
fn cloud_metadata_in_every_spelling() {
    for v in [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://metadata.google.internal./computeMetadata/v1/",
        "http://metadata/computeMetadata/v1/",
        "http://169.254.170.2/v2/credentials/x",
        "http://100.100.100.200/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "HTTP://169.254.169.254:80/latest/",
        "169.254.169.254/latest/meta-data",
        "//169.254.169.254/latest",
    ] {
        assert_eq!(arg("url", v), vec![MD], "{v}");
    }
    for v in [
        "http://2852039166/latest/meta-data/",
        "http://0xa9fea9fe/",
        "http://0xA9.0xFE.0xA9.0xFE/",
        "http://0251.0376.0251.0376/",
        "http://0251.254.169.254/",
        "http://169.254.43518/",
        "http://[::ffff:169.254.169.254]/",
        "http://[::ffff:a9fe:a9fe]/latest",
        "http://[0:0:0:0:0:ffff:a9fe:a9fe]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://%31%36%39.%32%35%34.%31%36%39.%32%35%34/",
        "http://%2531%2536%2539.254.169.254/",
    ] {
        assert_eq!(arg("url", v), vec![MD, OBF], "{v}");
    }
    // Fullwidth digits and ideographic dots, folded by NFKC / IDNA.
    assert_eq!(
        real("fetch", "url", "http://１６９．２５４．１６９．２５４/"),
        vec![MD, OBF]
    );
    assert_eq!(
        real("fetch", "url", "http://169。254。169。254/"),
        vec![MD, OBF]
    );
    assert_eq!(
        real("fetch", "url", "http://①⑥⑨.②⑤④.①⑥⑨.②⑤④/"),
        vec![MD, OBF]
    );
}

#[test]
fn loopback() {
    for v in [
        "http://localhost/admin",
        "http://LOCALHOST:8080/",
        "http://127.0.0.1:6379/",
        "http://[::1]/",
        "http://0.0.0.0:8000/",
        "https://app.localhost/",
        "ws://localhost:9222/devtools/browser",
        "localhost:8080/actuator/env",
        "127.0.0.1",
    ] {
        assert_eq!(arg("url", v), vec!["ssrf.loopback"], "{v}");
    }
    for v in [
        "http://127.1/",
        "http://0177.0.0.1/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0/",
        "http://[0:0:0:0:0:0:0:1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://127.000.000.001/",
        "http://%6c%6f%63%61%6c%68%6f%73%74/",
    ] {
        assert_eq!(arg("url", v), vec!["ssrf.loopback", OBF], "{v}");
    }
    // Look-alike letters and zero-width characters in "localhost".
    assert_eq!(
        real("fetch", "url", "http://ｌｏｃａｌｈｏｓｔ/"),
        vec!["ssrf.loopback", OBF]
    );
    assert_eq!(
        real("fetch", "url", "http://local\u{200b}host/"),
        vec!["ssrf.loopback", OBF]
    );
}

#[test]
fn private_and_link_local() {
    for v in [
        "http://10.0.0.5/",
        "http://172.16.4.2:8080/",
        "https://192.168.1.1/admin",
        "http://100.64.1.1/",
        "http://[fd12:3456::1]/",
        "http://db.internal:5432/",
        "http://printer.local/",
        "http://jenkins:8080/job/x",
        "http://kubernetes.default.svc/api",
    ] {
        assert_eq!(arg("webhook_url", v), vec!["ssrf.private_network"], "{v}");
    }
    assert_eq!(
        arg("url", "http://10.1/"),
        vec!["ssrf.private_network", OBF]
    );
    assert_eq!(arg("url", "http://169.254.1.1/"), vec!["ssrf.link_local"]);
    assert_eq!(
        arg("url", "http://[fe80::1%25eth0]/"),
        vec!["ssrf.link_local"]
    );
}

#[test]
fn parser_confusion() {
    assert_eq!(
        arg("url", "http://good.com@127.0.0.1/"),
        vec!["ssrf.loopback", "ssrf.parser_confusion"]
    );
    assert_eq!(
        arg("url", "http://user:pass@169.254.169.254/"),
        vec![MD, "ssrf.parser_confusion"]
    );
    assert_eq!(
        arg("url", "http://127.0.0.1:80@evil.example/"),
        vec!["ssrf.loopback", "ssrf.parser_confusion"]
    );
    assert_eq!(
        arg("url", "http://evil.example\\@169.254.169.254/"),
        vec![MD, "ssrf.parser_confusion"]
    );
    assert_eq!(
        arg("url", "http:\\\\127.0.0.1\\admin"),
        vec!["ssrf.loopback"]
    );
    assert_eq!(arg("url", "http:/127.0.0.1/"), vec!["ssrf.loopback"]);
    assert_eq!(
        arg("url", "http://127.0.0.1#@evil.example/"),
        vec!["ssrf.loopback"]
    );
}

#[test]
fn dangerous_schemes() {
    assert_eq!(
        arg("url", "gopher://127.0.0.1:6379/_SET%20x%201"),
        vec!["ssrf.loopback", "ssrf.dangerous_scheme"]
    );
    assert_eq!(
        arg("url", "dict://localhost:11211/stats"),
        vec!["ssrf.loopback", "ssrf.dangerous_scheme"]
    );
    assert_eq!(
        arg("target", "gopher://10.0.0.3:25/xHELO"),
        vec!["ssrf.private_network", "ssrf.dangerous_scheme"]
    );
    // Public gopher is not SSRF.
    assert!(arg("url", "gopher://gopher.floodgap.com/1/world").is_empty());
    assert!(arg("url", "dict://dict.org/d:hello").is_empty());
}

#[test]
fn wildcard_dns() {
    assert_eq!(
        arg("url", "http://127.0.0.1.nip.io/"),
        vec!["ssrf.wildcard_dns"]
    );
    assert_eq!(
        arg("url", "http://169.254.169.254.sslip.io/latest"),
        vec!["ssrf.wildcard_dns"]
    );
    assert_eq!(
        arg("url", "http://app.localtest.me:3000/"),
        vec!["ssrf.wildcard_dns"]
    );
    assert_eq!(
        arg("url", "http://7f000001.c0a80001.rbndr.us/"),
        vec!["ssrf.wildcard_dns"]
    );
    assert!(arg("url", "http://8.8.8.8.nip.io/").is_empty());
}

#[test]
fn where_urls_count() {
    // Any single-token value with a scheme, whatever its key.
    assert_eq!(
        real("fetch", "", "http://127.0.0.1:2375/containers/json"),
        vec!["ssrf.loopback"]
    );
    assert_eq!(
        real("crawl", "start", "http://192.168.0.1/"),
        vec!["ssrf.private_network"]
    );
    assert_eq!(real("render", "q", "http://169.254.169.254/"), vec![MD]);
    // JSON blobs in a string.
    assert_eq!(
        real(
            "configure",
            "settings",
            r#"{"callback":"http://10.0.0.8/hook"}"#
        ),
        vec!["ssrf.private_network"]
    );
    // Resource URIs.
    let d = SsrfDetector::new();
    let r = hits_real(
        &d,
        None,
        &[("uri", "http://169.254.169.254/latest", Zone::ResourceUri)],
    );
    assert_eq!(r, vec![MD]);
    // Host-named arguments: only metadata.
    assert_eq!(real("connect", "host", "169.254.169.254"), vec![MD]);
    assert_eq!(
        real("connect", "hostname", "metadata.google.internal"),
        vec![MD]
    );
    assert!(real("connect_db", "host", "localhost").is_empty());
    assert!(real("connect_db", "server", "10.0.0.5:5432").is_empty());
    // ... but a URL in a host-named argument is a URL.
    assert_eq!(
        real("api_request", "server", "http://192.168.76.209:8081"),
        vec!["ssrf.private_network"]
    );
    assert_eq!(
        real("api_request", "server", "http://localhost:8888"),
        vec!["ssrf.loopback"]
    );
    assert_eq!(
        real("api_request", "server", "http://[fe80::1]:5984"),
        vec!["ssrf.link_local"]
    );
    assert_eq!(
        real("api_request", "server", "http://2130706433:2379"),
        vec!["ssrf.loopback", OBF]
    );
    assert_eq!(
        real(
            "api_request",
            "server",
            "http://trusted.example.com@0177.00.00.01:15672"
        ),
        vec!["ssrf.loopback", OBF, "ssrf.parser_confusion"]
    );
    assert!(real("api_request", "server", "https://api.example.com").is_empty());
    // Command lines: only metadata, with or without scheme.
    assert_eq!(
        real(
            "run_command",
            "command",
            "curl -s http://169.254.169.254/latest/meta-data/"
        ),
        vec![MD]
    );
    assert_eq!(
        real("bash", "command", "curl 169.254.169.254/latest/user-data"),
        vec![MD]
    );
    assert_eq!(
        real("bash", "command", "wget -qO- http://0xa9fea9fe/"),
        vec![MD, OBF]
    );
    assert!(real(
        "run_command",
        "command",
        "curl -s http://localhost:8080/health"
    )
    .is_empty());
    // A metadata URL nested in a query still counts; loopback there does not.
    assert_eq!(
        arg(
            "url",
            "https://proxy.example/fetch?u=http://169.254.169.254/latest"
        ),
        vec![MD]
    );
}

/// A host in one argument and the path in another: the tool builds the URL.
#[test]
fn split_host_and_route() {
    let d = SsrfDetector::new();
    let call = |items: &[(&str, &str)]| {
        let items: Vec<_> = items
            .iter()
            .map(|(k, v)| (*k, *v, Zone::Argument))
            .collect();
        hits_real(&d, Some("call_api"), &items)
    };
    assert_eq!(
        call(&[("host", "127.0.0.2:3000"), ("endpoint", "/api/admin/users")]),
        vec!["ssrf.loopback"]
    );
    assert_eq!(
        call(&[("hostname", "10.1.2.3"), ("route", "/internal/metrics")]),
        vec!["ssrf.private_network"]
    );
    assert_eq!(
        call(&[("host", "localhost:8888"), ("path", "/api/sessions")]),
        vec!["ssrf.loopback"]
    );
    // No route beside it: a database or SSH host, not a URL.
    assert!(call(&[("host", "localhost"), ("database", "app")]).is_empty());
    assert!(call(&[("host", "10.0.0.5"), ("query", "/users")]).is_empty());
    assert!(call(&[("host", "10.0.0.5"), ("route", "//cdn.example.com/x")]).is_empty());
    // A public host with a route is fine.
    assert!(call(&[("host", "api.example.com"), ("endpoint", "/v1/users")]).is_empty());
}

/// A URL in an open-redirect parameter of a public URL is where a fetcher ends up.
#[test]
fn open_redirect_to_internal() {
    for (v, want) in [
        (
            "https://redirect.northwind.com/out?to=http%3A%2F%2F127.0.0.1%3A2375%2Fcontainers%2Fjson",
            "ssrf.loopback",
        ),
        (
            "https://redirect.acme.com/out?to=http%253A%252F%252Flocalhost%253A8080%252Fadmin",
            "ssrf.loopback",
        ),
        (
            "https://login.hooli.com/logout?next=http%3A%2F%2F127.0.0.1%3A2375%2F",
            "ssrf.loopback",
        ),
        (
            "https://t.co/r?u=http%253A%252F%252Flocalhost%253A8080%252Fadmin",
            "ssrf.loopback",
        ),
        (
            "https://www.google.com/url?q=http%3A%2F%2F10.0.0.8%2Fadmin",
            "ssrf.private_network",
        ),
        (
            "https://example.com/redirect?a=1&return_to=HTTP%3A%2F%2F192.168.1.1%2F",
            "ssrf.private_network",
        ),
    ] {
        assert!(real("fetch", "url", v).contains(&want), "{v}");
    }
    // Not a redirect parameter, or written in the clear (a login's return address).
    for v in [
        "https://www.google.com/search?q=http%3A%2F%2Flocalhost%3A3000",
        "https://example.com/share?text=http%3A%2F%2Flocalhost%3A3000%2F",
        "https://example.com/redirect?next=http://localhost:3000/cb",
    ] {
        assert!(real("fetch", "url", v).is_empty(), "{v}");
    }
    // In a command line a nested loopback URL is still only data.
    assert!(real(
        "run_command",
        "command",
        "curl 'https://x.example/out?to=http://localhost:8080/'"
    )
    .is_empty());
}

#[test]
fn benign_urls_and_prose() {
    for v in [
        "https://docs.python.org/3/",
        "https://api.github.com/repos/x/y",
        "https://example.com/admin/metadata?host=localhost",
        "https://10.example.com/",
        "https://example.com/redirect?next=http://localhost:3000/cb",
        "https://example.com/login?redirect_uri=http://localhost:3000/cb",
        "https://accounts.example.com/o/oauth2/auth?client_id=x&redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2F",
        "https://example.com/share?text=see+http://localhost:3000/",
        "https://www.google.com/search?q=http://localhost:3000",
        "https://example.com/?ip=127.0.0.1",
        "https://user@github.com/org/repo.git",
        "https://localhost.example.com/",
        "https://news.ycombinator.com/item?id=1",
        "https://en.wikipedia.org/wiki/Private_network",
        "s3://bucket/key",
        "postgres://localhost/db",
        "mailto:dev@example.com",
        "file:///etc/hosts",
        "https://192.0.2.10.example.org/",
        "https://8.8.8.8/",
        "https://[2001:db8::1]/",
        "api",
        "10",
        "v1.2.3",
    ] {
        assert!(arg("url", v).is_empty(), "{v}");
    }
    let d = SsrfDetector::new();
    let prose = [
        (
            "message",
            "The staging box is at 10.0.0.12, try http://localhost:3000 after deploy",
        ),
        (
            "text",
            "Version 10.0.1 ships on 192.168 networks; see http://127.0.0.1:8080 docs",
        ),
        (
            "description",
            "Blocks requests to 169.254.169.254 and other metadata endpoints",
        ),
        ("version", "10.0.1"),
        ("query", "what is 127.0.0.1"),
    ];
    for (k, v) in prose {
        assert!(
            hits_real(&d, Some("send_message"), &[(k, v, Zone::Argument)]).is_empty(),
            "{k}"
        );
    }
    // Responses are never inspected.
    let r = hits(
        &d,
        Direction::Response,
        Some("tools/call"),
        Some("fetch"),
        &[("url", "http://127.0.0.1/", Zone::Content)],
    );
    assert!(r.is_empty());
}
