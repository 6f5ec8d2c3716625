//! Rate and concurrency limits through the real binary: one key driven from many connections
//! over all workers stays within the GCRA bound; a flood of distinct keys stays within the cap;
//! the 429's headers; a reload keeps the cells and applies a changed limit; in-flight caps.

#![allow(unsafe_code, clippy::unwrap_used)]

mod common;

use common::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn config(upstream: &str, limits: &str) -> String {
    format!(
        "[[upstreams]]\nname = \"demo\"\nurl = \"{upstream}\"\n\n[[routes]]\npath = \"/mcp\"\nupstream = \"demo\"\n\n{limits}"
    )
}

fn ping(id: u64) -> String {
    format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#)
}

/// Sends `n` requests built by `body` on one keep-alive connection; returns (admitted, limited).
fn drive(
    gw: &Gateway,
    sid: &str,
    mut body: impl FnMut(u64) -> String,
    until: Instant,
) -> (u64, u64) {
    let mut c = gw.connect();
    let (mut ok, mut limited) = (0, 0);
    let mut i = 0u64;
    while Instant::now() < until {
        i += 1;
        c.send(&post_bytes("/mcp", &body(i), &[("Mcp-Session-Id", sid)]));
        let r = c.read_response();
        match r.status {
            429 => limited += 1,
            200 => ok += 1,
            other => panic!("unexpected {other}: {}", r.text()),
        }
    }
    (ok, limited)
}

fn gcra_bound_holds_with(workers: &str) {
    let up = mcpguard::demo::DemoServer::start(([127, 0, 0, 1], 0).into()).expect("demo");
    let dir = TempDir::new("limits-gcra");
    let (rate, burst) = (40u64, 10u64);
    let path = write_config(
        &dir,
        &config(
            &up.url(),
            &format!("[[limits]]\nname = \"pings\"\nrate = \"{rate}/s\"\nburst = {burst}\nkey = [\"method\"]\nmethods = [\"ping\"]\n"),
        ),
    );
    let (gw, admin) = start_with_admin(&["--config", &path, "--workers", workers]);
    let sid = initialize(gw.addr);
    let admitted = AtomicU64::new(0);
    let limited = AtomicU64::new(0);
    let start = Instant::now();
    let until = start + Duration::from_millis(1500);
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                let (a, l) = drive(&gw, &sid, ping, until);
                admitted.fetch_add(a, Ordering::Relaxed);
                limited.fetch_add(l, Ordering::Relaxed);
            });
        }
    });
    let elapsed = start.elapsed().as_secs_f64();
    let (a, l) = (admitted.into_inner(), limited.into_inner());
    let upper = burst as f64 + rate as f64 * elapsed + 1.0;
    assert!(
        (a as f64) <= upper,
        "workers {workers}: {a} admitted in {elapsed:.3}s, the GCRA bound is {upper:.1} ({l} limited)"
    );
    // The offered load is far above the rate, so nearly the whole bound is admitted.
    let lower = burst as f64 + rate as f64 * elapsed * 0.5;
    if (a + l) as f64 > 2.0 * upper {
        assert!(
            (a as f64) >= lower,
            "workers {workers}: only {a} admitted in {elapsed:.3}s of {} (lower bound {lower:.1})",
            a + l
        );
    }
    assert_eq!(
        admin_metric(admin, "mcpguard_rate_limited_total{limit=\"pings\"}") as u64,
        l
    );
    assert_eq!(
        admin_metric(admin, "mcpguard_rate_limit_cells{limit=\"pings\"}"),
        1.0
    );
    eprintln!("workers {workers}: {a} admitted, {l} limited in {elapsed:.3}s (bound {upper:.1})");
}

#[test]
fn one_key_from_many_connections_stays_within_the_gcra_bound_on_1_worker() {
    gcra_bound_holds_with("1");
}

#[test]
fn one_key_from_many_connections_stays_within_the_gcra_bound_on_2_workers() {
    gcra_bound_holds_with("2");
}

#[test]
fn one_key_from_many_connections_stays_within_the_gcra_bound_on_4_workers() {
    gcra_bound_holds_with("4");
}

#[test]
fn a_rate_limited_request_gets_429_with_its_headers_and_is_counted() {
    let up = mcpguard::demo::DemoServer::start(([127, 0, 0, 1], 0).into()).expect("demo");
    let dir = TempDir::new("limits-headers");
    let path = write_config(
        &dir,
        &config(
            &up.url(),
            "[[limits]]\nname = \"per-ip\"\nrate = \"1/m\"\nburst = 1\nkey = [\"ip\"]\nmethods = [\"ping\"]\n",
        ),
    );
    let (gw, admin) = start_with_admin(&["--config", &path]);
    let sid = initialize(gw.addr);
    let first = post_rpc(gw.addr, &ping(2), &[("Mcp-Session-Id", &sid)]);
    assert_eq!(first.status, 200, "{}", first.text());
    let r = post_rpc(gw.addr, &ping(3), &[("Mcp-Session-Id", &sid)]);
    let v = assert_rpc_error(&r, 429, -31912, "rate_limited");
    assert_eq!(v["id"], 3, "{v}");
    assert_eq!(v["error"]["data"]["limit"], "per-ip", "{v}");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert_eq!(r.header("ratelimit-policy"), Some("\"per-ip\";q=1;w=60"));
    assert_eq!(
        r.header("ratelimit").unwrap(),
        format!("\"per-ip\";r=0;t={retry}")
    );
    assert_eq!(r.header("x-ratelimit-limit"), Some("1"));
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(r.header("x-ratelimit-reset").unwrap(), retry.to_string());
    // Other methods are not under this limit.
    let other = post_rpc(
        gw.addr,
        r#"{"jsonrpc":"2.0","id":4,"method":"tools/list"}"#,
        &[("Mcp-Session-Id", &sid)],
    );
    assert_eq!(other.status, 200, "{}", other.text());
    assert_eq!(
        admin_metric(admin, "mcpguard_rate_limited_total{limit=\"per-ip\"}"),
        1.0
    );
    assert_eq!(
        admin_metric(
            admin,
            "mcpguard_rejections_by_reason_total{reason=\"rate_limited\"}"
        ),
        1.0
    );
}

#[test]
fn a_flood_of_distinct_keys_stays_within_the_cap_and_stale_cells_are_swept() {
    let up = mcpguard::demo::DemoServer::start(([127, 0, 0, 1], 0).into()).expect("demo");
    let dir = TempDir::new("limits-flood");
    let cap = 500u64;
    let path = write_config(
        &dir,
        &config(
            &up.url(),
            &format!(
                "[[limits]]\nname = \"per-tool\"\nrate = \"1/h\"\nburst = 1\nkey = [\"tool\"]\nmax_keys = {cap}\n\n\
                 [[limits]]\nname = \"fast\"\nrate = \"1000/s\"\nburst = 1\nkey = [\"tool\"]\n"
            ),
        ),
    );
    let (gw, admin) = start_with_admin(&["--config", &path, "--workers", "2"]);
    let sid = initialize(gw.addr);
    let next = AtomicU64::new(0);
    let total = 4000u64;
    let admitted = AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let mut c = gw.connect();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    let body = format!(
                        r#"{{"jsonrpc":"2.0","id":{i},"method":"tools/call","params":{{"name":"flood-{i}","arguments":{{}}}}}}"#
                    );
                    c.send(&post_bytes("/mcp", &body, &[("Mcp-Session-Id", &sid)]));
                    let r = c.read_response();
                    if r.status != 429 {
                        admitted.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let cells = admin_metric(admin, "mcpguard_rate_limit_cells{limit=\"per-tool\"}") as u64;
    assert!(cells <= cap, "{cells} cells over the cap {cap}");
    assert_eq!(cells, cap, "the first {cap} keys keep their own cells");
    // Keys beyond the cap share one overflow cell: one of them was admitted, at most.
    let a = admitted.into_inner();
    assert!(
        a <= cap + 1,
        "{a} admitted: keys over the cap were not limited together"
    );
    assert!(a >= cap, "{a} admitted: keys under the cap were refused");
    let overflow = admin_metric(
        admin,
        "mcpguard_rate_limit_overflow_total{limit=\"per-tool\"}",
    );
    assert_eq!(overflow as u64, total - cap);
    // The gateway keeps answering.
    let r = post_rpc(gw.addr, &ping(1), &[("Mcp-Session-Id", &sid)]);
    assert_eq!(r.status, 200, "{}", r.text());
    // The fast limit's cells are as good as fresh within a millisecond: the sweep removes them.
    assert!(
        wait_until(Duration::from_secs(5), || {
            admin_metric(admin, "mcpguard_rate_limit_cells{limit=\"fast\"}") == 0.0
        }),
        "the sweep left the fast limit's cells"
    );
    assert_eq!(
        admin_metric(admin, "mcpguard_rate_limit_cells{limit=\"per-tool\"}") as u64,
        cap,
        "cells still owed time were swept"
    );
}

#[test]
fn a_reload_keeps_the_cells_and_a_changed_limit_takes_effect() {
    let up = mcpguard::demo::DemoServer::start(([127, 0, 0, 1], 0).into()).expect("demo");
    let dir = TempDir::new("limits-reload");
    let limit = |burst: u64| {
        format!("[[limits]]\nname = \"keep\"\nrate = \"1/h\"\nburst = {burst}\nkey = [\"method\"]\nmethods = [\"ping\"]\n")
    };
    let path = write_config(&dir, &config(&up.url(), &limit(2)));
    let (gw, admin) = start_with_admin(&["--config", &path]);
    let sid = initialize(gw.addr);
    let status = |id| post_rpc(gw.addr, &ping(id), &[("Mcp-Session-Id", &sid)]).status;
    assert_eq!((status(2), status(3), status(4)), (200, 200, 429));

    // Same limit, other bytes (a comment): the cells are kept.
    write_config(
        &dir,
        &format!("# reloaded\n{}", config(&up.url(), &limit(2))),
    );
    assert_eq!(admin_post(admin, "/config/reload").status, 200);
    assert_eq!(config_generation(admin), 2);
    assert_eq!(
        status(5),
        429,
        "a reload that keeps the limit reset its cells"
    );

    // A larger burst applies at once, on the same cell: 2 of 5 are spent already, 3 remain.
    write_config(&dir, &config(&up.url(), &limit(5)));
    assert_eq!(admin_post(admin, "/config/reload").status, 200);
    assert_eq!(config_generation(admin), 3);
    let after: Vec<u16> = (6..10).map(status).collect();
    assert_eq!(after, vec![200, 200, 200, 429]);

    // A limit removed from the file stops applying.
    write_config(&dir, &config(&up.url(), ""));
    assert_eq!(admin_post(admin, "/config/reload").status, 200);
    assert_eq!(status(10), 200);
}

#[test]
fn requests_in_flight_per_upstream_are_capped_and_given_back() {
    let slow = FakeUpstream::slow(Duration::from_millis(400));
    let dir = TempDir::new("limits-inflight");
    let path = write_config(
        &dir,
        &config(&slow.url(), "[concurrency]\nper_upstream = 1\n"),
    );
    let gw = Gateway::start(&["--config", &path, "--workers", "2"]);
    let statuses: Vec<(u16, String)> = std::thread::scope(|s| {
        let first = s.spawn(|| {
            let r = post_rpc(gw.addr, &ping(1), &[]);
            (r.status, r.text())
        });
        std::thread::sleep(Duration::from_millis(200));
        let second = post_rpc(gw.addr, &ping(2), &[]);
        vec![first.join().unwrap(), (second.status, second.text())]
    });
    assert_eq!(statuses[0].0, 200, "{}", statuses[0].1);
    assert_eq!(statuses[1].0, 503, "{}", statuses[1].1);
    assert!(statuses[1].1.contains("upstream_busy"), "{}", statuses[1].1);
    // The first request's unit was given back when it ended.
    let r = post_rpc(gw.addr, &ping(3), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
}

const ALICE: &str = "mcpg_alice-key-0123456789";
const BOB: &str = "mcpg_bob-key-0123456789";

fn hash(key: &str) -> String {
    mcpguard::config::auth::hash_text(&mcpguard::config::auth::hash_key(key.as_bytes()))
}

#[test]
fn a_limit_keyed_by_subject_counts_each_caller_apart() {
    let up = mcpguard::demo::DemoServer::start(([127, 0, 0, 1], 0).into()).expect("demo");
    let dir = TempDir::new("limits-subject");
    let path = write_config(
        &dir,
        &config(
            &up.url(),
            &format!(
                "[[tenants]]\nname = \"acme\"\nroutes = [\"/mcp\"]\nauth = [\"api_key\"]\n\
                 [[tenants.keys]]\nsubject = \"alice\"\nhash = \"{}\"\n\
                 [[tenants.keys]]\nsubject = \"bob\"\nhash = \"{}\"\n\n\
                 [[limits]]\nname = \"per-caller\"\nrate = \"1/h\"\nburst = 2\nkey = [\"tenant\", \"subject\"]\ntenants = [\"acme\"]\ntools = [\"echo\"]\n",
                hash(ALICE),
                hash(BOB)
            ),
        ),
    );
    let gw = Gateway::start(&["--config", &path, "--workers", "2"]);
    let call = |key: &str, id: u64| {
        let sid = post_rpc(gw.addr, INIT, &[("X-API-Key", key)])
            .header("mcp-session-id")
            .unwrap()
            .to_string();
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"echo","arguments":{{"message":"x"}}}}}}"#
        );
        post_rpc(
            gw.addr,
            &body,
            &[("X-API-Key", key), ("Mcp-Session-Id", &sid)],
        )
    };
    // Across sessions of one caller: the key is the identity, not the session.
    assert_eq!(call(ALICE, 1).status, 200);
    assert_eq!(call(ALICE, 2).status, 200);
    let r = call(ALICE, 3);
    let v = assert_rpc_error(&r, 429, -31912, "rate_limited");
    assert_eq!(v["error"]["data"]["limit"], "per-caller");
    assert_eq!(call(BOB, 4).status, 200, "bob shares alice's cell");
    // Only the tools the limit names.
    let sid = post_rpc(gw.addr, INIT, &[("X-API-Key", ALICE)])
        .header("mcp-session-id")
        .unwrap()
        .to_string();
    let r = post_rpc(
        gw.addr,
        r#"{"jsonrpc":"2.0","id":5,"method":"tools/list"}"#,
        &[("X-API-Key", ALICE), ("Mcp-Session-Id", &sid)],
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn requests_in_flight_per_identity_are_capped() {
    let slow = FakeUpstream::slow(Duration::from_millis(400));
    let dir = TempDir::new("limits-identity");
    let path = write_config(
        &dir,
        &config(&slow.url(), "[concurrency]\nper_identity = 1\n"),
    );
    let gw = Gateway::start(&["--config", &path]);
    let (first, second) = std::thread::scope(|s| {
        let first = s.spawn(|| post_rpc(gw.addr, &ping(1), &[]).status);
        std::thread::sleep(Duration::from_millis(200));
        let second = post_rpc(gw.addr, &ping(2), &[]);
        (first.join().unwrap(), second)
    });
    assert_eq!(first, 200);
    let v = assert_rpc_error(&second, 429, -31912, "concurrency_limited");
    assert_eq!(v["error"]["data"]["limit"], "concurrency.per_identity");
    assert_eq!(second.header("retry-after"), Some("1"));
    assert_eq!(post_rpc(gw.addr, &ping(3), &[]).status, 200);
}

#[test]
fn invalid_limits_are_reported_with_their_key_paths() {
    let dir = TempDir::new("limits-invalid");
    let path = write_config(
        &dir,
        &config(
            "http://127.0.0.1:9/mcp",
            "[[limits]]\nname = \"a\"\nrate = \"ten per second\"\nkey = [\"tenant\", \"colour\"]\n\n\
             [[limits]]\nname = \"a\"\nrate = \"1/s\"\nburst = 0\nmax_keys = 0\n\n[concurrency]\nper_upstream = 0\n",
        ),
    );
    let out = std::process::Command::new(bin())
        .args(["validate", "--config", &path])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    for key in [
        "limits[0].rate",
        "limits[0].key[1]",
        "limits[1].name",
        "limits[1].burst",
        "limits[1].max_keys",
        "concurrency.per_upstream",
    ] {
        assert!(text.contains(key), "{key} not reported:\n{text}");
    }
}

#[test]
fn a_budget_admits_exactly_the_calls_it_covers_across_sessions_of_one_identity() {
    let up = mcpguard::demo::DemoServer::start(([127, 0, 0, 1], 0).into()).expect("demo");
    let dir = TempDir::new("limits-budget");
    let path = write_config(
        &dir,
        &config(
            &up.url(),
            &format!(
                "[[tenants]]\nname = \"acme\"\nroutes = [\"/mcp\"]\nauth = [\"api_key\"]\n\
                 [[tenants.keys]]\nsubject = \"alice\"\nhash = \"{}\"\n\
                 [[tenants.keys]]\nsubject = \"bob\"\nhash = \"{}\"\n\n\
                 [[costs]]\ntool = \"echo\"\ncost = 3\n\n\
                 [[budgets]]\nname = \"daily\"\nunits = 10\nwindow = \"day\"\nper = \"identity\"\n",
                hash(ALICE),
                hash(BOB)
            ),
        ),
    );
    let (gw, admin) = start_with_admin(&["--config", &path, "--workers", "2"]);
    let session = |key: &str| {
        post_rpc(gw.addr, INIT, &[("X-API-Key", key)])
            .header("mcp-session-id")
            .unwrap()
            .to_string()
    };
    let call = |key: &str, sid: &str, tool: &str, id: u64| {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"{tool}","arguments":{{"message":"x"}}}}}}"#
        );
        post_rpc(
            gw.addr,
            &body,
            &[("X-API-Key", key), ("Mcp-Session-Id", sid)],
        )
    };
    // 10 units, echo costs 3: three calls (9), over two sessions; the fourth is refused.
    let (one, two) = (session(ALICE), session(ALICE));
    assert_eq!(call(ALICE, &one, "echo", 1).status, 200);
    assert_eq!(call(ALICE, &two, "echo", 2).status, 200);
    assert_eq!(call(ALICE, &one, "echo", 3).status, 200);
    let r = call(ALICE, &two, "echo", 4);
    let v = assert_rpc_error(&r, 429, -31912, "budget_exhausted");
    assert_eq!(v["error"]["data"]["limit"], "daily");
    assert_eq!(r.header("x-ratelimit-remaining"), Some("1"));
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=86_400).contains(&retry), "{retry}");
    // A tool without a [[costs]] entry costs 1: exactly the unit left.
    assert_eq!(call(ALICE, &one, "other", 5).status, 200);
    assert_eq!(call(ALICE, &one, "other", 6).status, 429);
    // Another identity has its own budget.
    let b = session(BOB);
    assert_eq!(call(BOB, &b, "echo", 7).status, 200);
    assert_eq!(
        admin_metric(admin, "mcpguard_budget_spent_units_total{budget=\"daily\"}"),
        13.0
    );
    assert_eq!(
        admin_metric(admin, "mcpguard_budget_exhausted_total{budget=\"daily\"}"),
        2.0
    );
    assert_eq!(
        admin_metric(admin, "mcpguard_budget_keys{budget=\"daily\"}"),
        2.0
    );
}

#[test]
fn budgets_per_session_and_per_tenant() {
    let up = mcpguard::demo::DemoServer::start(([127, 0, 0, 1], 0).into()).expect("demo");
    let dir = TempDir::new("limits-budget-per");
    let path = write_config(
        &dir,
        &config(
            &up.url(),
            &format!(
                "[[tenants]]\nname = \"acme\"\nroutes = [\"/mcp\"]\nauth = [\"api_key\"]\n\
                 [[tenants.keys]]\nsubject = \"alice\"\nhash = \"{}\"\n\
                 [[tenants.keys]]\nsubject = \"bob\"\nhash = \"{}\"\n\n\
                 [[budgets]]\nname = \"session\"\nunits = 1\nwindow = \"hour\"\nper = \"session\"\ntools = [\"echo\"]\n\n\
                 [[budgets]]\nname = \"tenant\"\nunits = 3\nwindow = \"month\"\nper = \"tenant\"\ntenants = [\"acme\"]\n",
                hash(ALICE),
                hash(BOB)
            ),
        ),
    );
    let gw = Gateway::start(&["--config", &path]);
    let session = |key: &str| {
        post_rpc(gw.addr, INIT, &[("X-API-Key", key)])
            .header("mcp-session-id")
            .unwrap()
            .to_string()
    };
    let call = |key: &str, sid: &str, id: u64| {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"echo","arguments":{{"message":"x"}}}}}}"#
        );
        post_rpc(
            gw.addr,
            &body,
            &[("X-API-Key", key), ("Mcp-Session-Id", sid)],
        )
    };
    let one = session(ALICE);
    assert_eq!(call(ALICE, &one, 1).status, 200);
    let r = call(ALICE, &one, 2);
    let v = assert_rpc_error(&r, 429, -31912, "budget_exhausted");
    assert_eq!(v["error"]["data"]["limit"], "session");
    // A new session has its own; the tenant's 3 units are shared by its callers.
    assert_eq!(call(ALICE, &session(ALICE), 3).status, 200);
    assert_eq!(call(BOB, &session(BOB), 4).status, 200);
    let r = call(BOB, &session(BOB), 5);
    let v = assert_rpc_error(&r, 429, -31912, "budget_exhausted");
    assert_eq!(v["error"]["data"]["limit"], "tenant");
}
