//! Unit tests of `ssrf_host` (kept apart for size).
use super::*;

fn class(h: &str) -> Option<Class> {
    classify(h, true).map(|v| v.class)
}

fn odd(h: &str) -> bool {
    classify(h, true).is_some_and(|v| v.odd_form)
}

#[test]
fn ipv4_spellings_of_metadata() {
    for h in [
        "169.254.169.254",
        "2852039166",
        "0xa9fea9fe",
        "0xA9FEA9FE",
        "0251.0376.0251.0376",
        "0xa9.0xfe.0xa9.0xfe",
        "0251.254.43518",
        "169.16689662",
        "0xa9.254.0251.0376",
        "169.254.169.254.",
        "169.254.169.254:80",
        "%31%36%39.254.169.254",
        "%2531%2536%2539.254.169.254",
        "0000251.0376.0251.0376",
    ] {
        assert_eq!(class(h), Some(Class::Metadata), "{h}");
    }
    assert!(!odd("169.254.169.254"));
    assert!(odd("2852039166"));
    assert!(odd("%31%36%39.254.169.254"));
}

#[test]
fn ipv4_loopback_private_link_local() {
    for h in [
        "127.0.0.1",
        "127.1",
        "0177.0.0.1",
        "0x7f000001",
        "2130706433",
        "0",
        "0.0.0.0",
    ] {
        assert_eq!(class(h), Some(Class::Loopback), "{h}");
    }
    for h in ["017700000001", "127.000.000.001", "0x7f.1", "127.0.1"] {
        assert_eq!(class(h), Some(Class::Loopback), "{h}");
    }
    for h in [
        "10.0.0.5",
        "10.1",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "100.64.0.1",
    ] {
        assert_eq!(class(h), Some(Class::Private), "{h}");
    }
    assert_eq!(class("169.254.1.1"), Some(Class::LinkLocal));
    for h in [
        "8.8.8.8",
        "172.32.0.1",
        "192.169.0.1",
        "100.128.0.1",
        "1.2.3.4",
    ] {
        assert_eq!(class(h), None, "{h}");
    }
    // Not numbers: ordinary names.
    for h in [
        "10.example.com",
        "example.10x",
        "256.1.1.1.1",
        "1.2.3.4.5",
        "09.1.1.1",
    ] {
        assert_eq!(class(h), None, "{h}");
    }
    assert_eq!(parse_ipv4("256.0.0.1"), None);
    assert_eq!(parse_ipv4("1.2.3.4"), Some((0x0102_0304, true)));
    assert_eq!(parse_ipv4("1.2.65535"), Some((0x0102_ffff, false)));
    assert_eq!(parse_ipv4("1.2.65536"), None);
    assert_eq!(parse_ipv4("4294967296"), None);
}

#[test]
fn ipv6_forms() {
    assert_eq!(class("[::1]"), Some(Class::Loopback));
    assert!(!odd("[::1]"));
    assert_eq!(class("[0:0:0:0:0:0:0:1]"), Some(Class::Loopback));
    assert!(odd("[0:0:0:0:0:0:0:1]"));
    assert_eq!(class("[::]"), Some(Class::Loopback));
    for h in [
        "[::ffff:169.254.169.254]",
        "[::ffff:a9fe:a9fe]",
        "[0:0:0:0:0:ffff:a9fe:a9fe]",
        "[::169.254.169.254]",
        "[64:ff9b::a9fe:a9fe]",
        "[64:ff9b::169.254.169.254]",
        "[2002:a9fe:a9fe::1]",
        "[fd00:ec2::254]",
        "[::ffff:0:169.254.169.254]",
    ] {
        assert_eq!(class(h), Some(Class::Metadata), "{h}");
    }
    assert!(odd("[::ffff:a9fe:a9fe]"));
    assert!(!odd("[fd00:ec2::254]"));
    assert_eq!(class("[::ffff:127.0.0.1]:8080"), Some(Class::Loopback));
    assert_eq!(class("[::ffff:7f00:1]"), Some(Class::Loopback));
    assert_eq!(class("[fe80::1%25eth0]"), Some(Class::LinkLocal));
    assert_eq!(class("[fd12:3456::1]"), Some(Class::Private));
    assert_eq!(class("::1"), Some(Class::Loopback));
    assert_eq!(class("[2001:4860:4860::8888]"), None);
    assert_eq!(class("[::ffff:8.8.8.8]"), None);
    assert_eq!(parse_ipv6("1::2::3"), None);
    assert_eq!(parse_ipv6("1:2:3:4:5:6:7:8:9"), None);
    assert_eq!(parse_ipv6("12345::"), None);
}

#[test]
fn names() {
    for h in [
        "metadata.google.internal",
        "metadata.google.internal.",
        "metadata",
        "metadata.goog",
    ] {
        assert_eq!(class(h), Some(Class::Metadata), "{h}");
    }
    assert_eq!(class("instance-data"), Some(Class::Metadata));
    for h in [
        "localhost",
        "LOCALHOST",
        "app.localhost",
        "localhost.:8080",
        "ip6-localhost",
    ] {
        assert_eq!(class(h), Some(Class::Loopback), "{h}");
    }
    for h in [
        "db.internal",
        "printer.local",
        "redis.default.svc",
        "jenkins",
        "router.lan",
    ] {
        assert_eq!(class(h), Some(Class::Private), "{h}");
    }
    assert_eq!(classify("jenkins", false), None);
    for h in [
        "example.com",
        "docs.python.org",
        "api.github.com",
        "localhost.example.com",
    ] {
        assert_eq!(class(h), None, "{h}");
    }
    assert_eq!(class("metadata.example.com"), None);
    assert_eq!(class("{host}"), None);
    assert_eq!(class("127.0.0.1\u{3002}"), Some(Class::Loopback));
}

#[test]
fn wildcard_dns() {
    let w = |h: &str| classify(h, true).filter(|v| v.wildcard).map(|v| v.class);
    assert_eq!(w("127.0.0.1.nip.io"), Some(Class::Loopback));
    assert_eq!(w("app.10.0.0.1.nip.io"), Some(Class::Private));
    assert_eq!(w("169.254.169.254.sslip.io"), Some(Class::Metadata));
    assert_eq!(w("app-192-168-1-1.sslip.io"), Some(Class::Private));
    assert_eq!(w("7f000001.nip.io"), Some(Class::Loopback));
    assert_eq!(w("anything.localtest.me"), Some(Class::Loopback));
    assert_eq!(w("lvh.me"), Some(Class::Loopback));
    assert_eq!(w("7f000001.08080808.rbndr.us"), Some(Class::Loopback));
    assert_eq!(w("8.8.8.8.nip.io"), None);
    assert_eq!(w("nip.io"), None);
    assert_eq!(w("myapp.nip.io"), None);
}

#[test]
fn authority_readings() {
    fn hosts(rest: &str) -> Vec<(&str, Reading, bool)> {
        let (c, n) = candidates(rest);
        c[..n]
            .iter()
            .flatten()
            .map(|c| (c.host, c.reading, c.confusing))
            .collect()
    }
    assert_eq!(
        hosts("//example.com/x"),
        vec![("example.com", Reading::Main, false)]
    );
    assert_eq!(
        hosts("//good.com@127.0.0.1/"),
        vec![
            ("127.0.0.1", Reading::Main, true),
            ("good.com", Reading::Userinfo, true)
        ]
    );
    assert_eq!(
        hosts("//127.0.0.1:80@evil.com/"),
        vec![
            ("evil.com", Reading::Main, true),
            ("127.0.0.1", Reading::Userinfo, true)
        ]
    );
    assert_eq!(
        hosts("//evil.com\\@127.0.0.1/"),
        vec![
            ("evil.com", Reading::Main, false),
            ("127.0.0.1", Reading::Backslash, true)
        ]
    );
    assert_eq!(
        hosts("\\\\127.0.0.1\\x"),
        vec![("127.0.0.1", Reading::Main, false)]
    );
    assert_eq!(
        hosts("//127.0.0.1#@evil.com"),
        vec![("127.0.0.1", Reading::Main, false)]
    );
    assert_eq!(
        hosts("//[::1]:80/x"),
        vec![("[::1]:80", Reading::Main, false)]
    );
    assert_eq!(hosts("//a.com/x y"), vec![("a.com", Reading::Main, false)]);
}
