//! Tests across the three structural families (paths, ssrf, command): robustness on random
//! and very large input, and the throughput measurement on a realistic benign tools/call.
//! Test-only.

use crate::detect::command::CommandDetector;
use crate::detect::scan::{Direction, Zone};
use crate::detect::testfold::hits_real;
use crate::detect::testkit::hits;

/// Random mixtures of shell syntax, URL and path pieces, multi-byte characters and
/// percent-escapes, under every kind of key: no detector may panic (every slice must fall
/// on a character boundary), and each must stay linear on a large field.
#[test]
fn robustness() {
    use crate::detect::paths::PathsDetector;
    use crate::detect::scan::Detector;
    use crate::detect::ssrf::SsrfDetector;
    let pieces = [
        "http://",
        "file:///",
        "../",
        "..\\",
        "%2e",
        "%c0%ae",
        "%0a",
        ";",
        "&&",
        "|",
        "$(",
        "`",
        ">",
        "@",
        "[",
        "]",
        ":",
        "/",
        "\\",
        "é",
        "𝔘",
        "\u{200b}",
        "ａ",
        "。",
        "127.0.0.1",
        "169.254.169.254",
        "0x7f",
        "[::ffff:",
        "~/.ssh/",
        "/etc/",
        "rm -rf",
        "curl ",
        "| sh",
        "{a,b}",
        "$IFS",
        "'",
        "\"",
        "\n",
        " ",
        "%",
        "%u2215",
        "localhost",
        "id",
        "\r",
    ];
    let keys = ["path", "url", "host", "command", "code", "text", "name", ""];
    let tools = ["read_file", "run_command", "execute_python", "fetch"];
    let dets: [Box<dyn Detector>; 3] = [
        Box::new(PathsDetector::new()),
        Box::new(SsrfDetector::new()),
        Box::new(CommandDetector::new()),
    ];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    for _ in 0..3000 {
        let len = 1 + next(12);
        let v: String = (0..len).map(|_| pieces[next(pieces.len())]).collect();
        let key = keys[next(keys.len())];
        let tool = tools[next(tools.len())];
        for d in &dets {
            hits_real(d.as_ref(), Some(tool), &[(key, v.as_str(), Zone::Argument)]);
            hits(
                d.as_ref(),
                Direction::Request,
                None,
                Some(tool),
                &[(key, v.as_str(), Zone::ResourceUri)],
            );
        }
    }
    // Large fields (256 KB); the timing includes the test fold.
    let doc = "Notes on the release; see docs/ & tests (v1.2). ".repeat(5400);
    let blob = "QUJD".repeat(65_000);
    // Many URLs in one token (a JSON blob without spaces): the nested ones are data.
    let urls = "http://a.example/?u=http://10.0.0.1/".repeat(7000);
    for d in &dets {
        for (k, v) in [
            ("content", doc.as_str()),
            ("data", blob.as_str()),
            ("path", blob.as_str()),
            ("config", urls.as_str()),
        ] {
            let t = std::time::Instant::now();
            let r = hits(
                d.as_ref(),
                Direction::Request,
                Some("tools/call"),
                Some("x"),
                &[(k, v, Zone::Argument)],
            );
            assert!(r.is_empty(), "{k}: {r:?}");
            // Generous bound for debug builds on a shared machine; linear scans take ~ms.
            assert!(
                t.elapsed().as_millis() < 2_000,
                "{k} took {:?}",
                t.elapsed()
            );
        }
    }
}

/// Release-mode timing: `cargo test --release -- --ignored throughput --nocapture`.
#[test]
#[ignore]
fn throughput() {
    use crate::detect::paths::PathsDetector;
    use crate::detect::scan::Detector;
    use crate::detect::ssrf::SsrfDetector;
    use crate::detect::testkit::Owned;
    let items: Vec<(&str, &str, Zone)> = vec![
        ("path", "/home/dev/project/src/main.rs", Zone::Argument),
        ("file", "src/lib.rs", Zone::Argument),
        ("output_dir", "./build/out", Zone::Argument),
        ("config", ".github/workflows/ci.yml", Zone::Argument),
        ("env_file", ".env.example", Zone::Argument),
        ("url", "https://api.github.com/repos/acme/widgets/pulls?state=open&per_page=50", Zone::Argument),
        ("webhook_url", "https://hooks.example.com/services/T000/B000/XXXX", Zone::Argument),
        ("image_url", "https://cdn.example.com/img/logo.png", Zone::Argument),
        ("docs", "https://docs.python.org/3/library/pathlib.html#pathlib.Path.resolve", Zone::Argument),
        ("command", "grep -rn TODO src | wc -l", Zone::Argument),
        ("build", "npm run build && npm test", Zone::Argument),
        ("query", "how do I configure the build cache for monorepos with many packages?", Zone::Argument),
        ("message", "Refactor the parser; add tests for edge cases & update the changelog (v10.0.1).", Zone::Argument),
        ("description", "This change moves configuration loading into its own module so that the CLI and the server share one implementation. It also fixes a bug where relative paths were resolved against the wrong directory, adds tracing around the slow start-up path, and documents the new environment variables in docs/configuration.md. No behaviour changes for existing users; see the migration notes for details.", Zone::Argument),
        ("branch", "feature/parser-refactor", Zone::Argument),
        ("title", "Parser refactor & config module", Zone::Argument),
        ("host", "db.example.com", Zone::Argument),
        ("timeout", "30s", Zone::Argument),
        ("content", "fn main() {\n    let args: Vec<String> = std::env::args().collect();\n    println!(\"{:?}\", args);\n}\n", Zone::Argument),
        ("format", "json", Zone::Argument),
    ];
    let o = Owned::new(&items, Some("create_pull_request"));
    let dets: Vec<(&str, Box<dyn Detector>)> = vec![
        ("paths", Box::new(PathsDetector::new())),
        ("ssrf", Box::new(SsrfDetector::new())),
        ("command", Box::new(CommandDetector::new())),
    ];
    // 100,000 scans per family, timed in 10 rounds; the best round is reported because
    // the machine may be shared (the rounds differ only by interference).
    const ROUNDS: u32 = 10;
    const PER_ROUND: u32 = 10_000;
    o.with(
        Direction::Request,
        Some("tools/call"),
        Some("create_pull_request"),
        |scan| {
            let mut out = Vec::with_capacity(16);
            let mut total = 0.0;
            let only = std::env::var("ONLY").unwrap_or_default();
            for (name, d) in dets.iter().filter(|(n, _)| only.is_empty() || *n == only) {
                let mut best = f64::MAX;
                for _ in 0..ROUNDS {
                    let t = std::time::Instant::now();
                    for _ in 0..PER_ROUND {
                        out.clear();
                        d.scan(std::hint::black_box(scan), &mut out);
                    }
                    best = best.min(t.elapsed().as_nanos() as f64 / f64::from(PER_ROUND));
                }
                total += best;
                assert!(out.is_empty(), "{name} fired on benign traffic: {out:?}");
                eprintln!("{name}: {best:.0} ns/message");
            }
            eprintln!("all three: {total:.0} ns/message ({} fields)", items.len());
        },
    );
}
