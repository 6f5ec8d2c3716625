//! The offline subcommands: `check` (dry-run detection on one message), `rules`, `pins` and
//! `audit` (reading and approving what the running gateway stored).

use anyhow::Context;
use clap::{Args, Subcommand};
use mcpguard::config::{self, Overrides};
use mcpguard::detect::check::{check as run_check, render_json, render_text, CheckInput};
use mcpguard::detect::scan::Direction;
use mcpguard::store::{self, AuditQuery, Store};
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct CheckArgs {
    /// The message: a file holding one JSON-RPC message, or `-` / nothing for stdin.
    file: Option<PathBuf>,
    /// Configuration whose `[detect]` policy applies (default: the built-in rule set).
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Which way the message travels: request (client to server) or response (server to
    /// client); guessed from the message when omitted.
    #[arg(long)]
    direction: Option<String>,
    /// For a response: the method of the request it answers (e.g. tools/list).
    #[arg(long)]
    method: Option<String>,
    /// For a response to tools/call: the tool that was called.
    #[arg(long)]
    tool: Option<String>,
    /// Upstream name whose overrides apply.
    #[arg(long)]
    upstream: Option<String>,
    /// Also decide authorization for this caller of the config's tenants: `TENANT/SUBJECT`
    /// (a subject of its keys, or `anonymous`), or `TENANT/SUBJECT` with --roles for a token
    /// caller.
    #[arg(long)]
    identity: Option<String>,
    /// The roles of a token caller given with --identity (comma-separated).
    #[arg(long, requires = "identity")]
    roles: Option<String>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct PinsArgs {
    /// The database (default: the one `run` uses).
    #[arg(long)]
    store: Option<PathBuf>,
    #[command(subcommand)]
    action: PinsAction,
}

#[derive(Subcommand)]
enum PinsAction {
    /// Every pinned tool; changed ones are marked.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Accept the changed definition of a tool (or of every tool of the upstream) as its pin.
    Approve {
        upstream: String,
        tool: Option<String>,
    },
    /// Drop pins so the next tools/list pins afresh.
    Forget {
        upstream: String,
        tool: Option<String>,
    },
}

#[derive(Args)]
pub struct AuditArgs {
    #[arg(long)]
    store: Option<PathBuf>,
    /// At most this many records, newest first.
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// Only records with a finding of this rule id.
    #[arg(long)]
    rule: Option<String>,
    /// Only records with a finding of this family.
    #[arg(long)]
    family: Option<String>,
    /// Only records with this decision (log, redact, filter, block).
    #[arg(long)]
    decision: Option<String>,
    #[arg(long)]
    upstream: Option<String>,
    /// Only records of callers of this tenant.
    #[arg(long)]
    tenant: Option<String>,
    /// Only records of this subject (with or without --tenant).
    #[arg(long)]
    subject: Option<String>,
    /// Only records whose JSON-RPC id starts with this.
    #[arg(long)]
    id: Option<String>,
    /// Only records of the last N seconds.
    #[arg(long)]
    since_secs: Option<u64>,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
}

pub fn check(a: CheckArgs) -> anyhow::Result<()> {
    let snap = match &a.config {
        Some(path) => config::load(Some(path), &Overrides::default())?,
        // No file: the built-in policy, with a placeholder upstream to attach it to.
        None => config::load(
            None,
            &Overrides {
                upstream: Some("http://127.0.0.1:9/mcp".into()),
                store: Some("none".into()),
                ..Default::default()
            },
        )?,
    };
    let body = match &a.file {
        Some(p) if p.as_os_str() != "-" => {
            std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?
        }
        _ => {
            let mut b = Vec::new();
            std::io::stdin()
                .read_to_end(&mut b)
                .context("cannot read stdin")?;
            b
        }
    };
    let direction = match a.direction.as_deref() {
        None => None,
        Some("request") => Some(Direction::Request),
        Some("response") => Some(Direction::Response),
        Some(other) => anyhow::bail!("--direction {other}: use request or response"),
    };
    let input = CheckInput {
        direction,
        method: a.method,
        tool: a.tool,
        upstream: a.upstream,
    };
    let engine = mcpguard::detect::engine::Engine::new(snap.detect.clone());
    let names: Vec<&str> = snap.upstreams.iter().map(|u| u.name.as_str()).collect();
    let report = run_check(&engine, &names, &body, &input)?;
    let authz = match &a.identity {
        Some(id) => Some(authorize(&snap, id, a.roles.as_deref(), &body)?),
        None => None,
    };
    if a.json {
        match &authz {
            None => println!("{}", render_json(&report)),
            Some(z) => {
                let detection: serde_json::Value = serde_json::from_str(&render_json(&report))?;
                println!(
                    "{}",
                    serde_json::json!({"detection": detection, "authorization": z})
                );
            }
        }
    } else {
        print!("{}", render_text(&report));
        if let Some(z) = &authz {
            match z["decision"].as_str() {
                Some("deny") => println!(
                    "authorization: deny {} ({}) for {}",
                    z["reason"].as_str().unwrap_or(""),
                    z["rule"].as_str().unwrap_or(""),
                    z["identity"].as_str().unwrap_or("")
                ),
                _ => println!(
                    "authorization: allow for {}",
                    z["identity"].as_str().unwrap_or("")
                ),
            }
        }
    }
    // Scripts can tell a refusal from a pass by the exit status.
    let denied = authz.as_ref().is_some_and(|z| z["decision"] == "deny");
    if report.verdict.decision == mcpguard::detect::engine::Decision::Block || denied {
        std::process::exit(3);
    }
    Ok(())
}

/// The authorization phase's decision for `identity` on every message of `body`.
fn authorize(
    model: &config::Model,
    identity: &str,
    roles: Option<&str>,
    body: &[u8],
) -> anyhow::Result<serde_json::Value> {
    use mcpguard::pipeline::auth::{AuthMethod, AuthTable};
    let (tenant_name, subject) = identity
        .split_once('/')
        .context("--identity: TENANT/SUBJECT")?;
    let table = AuthTable::build(model, &Default::default());
    let tenant = table
        .tenants
        .iter()
        .find(|t| &*t.name == tenant_name)
        .with_context(|| format!("no tenant `{tenant_name}` in the configuration"))?;
    let made;
    let p = match roles {
        Some(r) => {
            let roles: Vec<String> = r.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect();
            made = tenant.principal(subject, &roles, AuthMethod::Jwt, [0; 32]);
            &made
        }
        None => tenant.by_subject(subject).with_context(|| {
            format!("tenant `{tenant_name}` has no key for `{subject}` (give --roles for a token caller)")
        })?,
    };
    let v: serde_json::Value = serde_json::from_slice(body).context("the message is not JSON")?;
    let messages: Vec<&serde_json::Value> = match &v {
        serde_json::Value::Array(batch) => batch.iter().collect(),
        one => vec![one],
    };
    let who = format!("{tenant_name}/{subject}");
    for m in messages {
        let Some(method) = m.get("method").and_then(serde_json::Value::as_str) else {
            continue;
        };
        let params = m.get("params");
        let field = if method.starts_with("resources/") {
            "uri"
        } else {
            "name"
        };
        let name = params
            .and_then(|p| p.get(field))
            .and_then(serde_json::Value::as_str);
        let args = || params.and_then(|p| p.get("arguments"));
        if let Err((d, _)) = tenant.authorize_message(p, method, name, args) {
            return Ok(serde_json::json!({
                "decision": "deny", "reason": d.reason, "rule": d.rule,
                "method": method, "name": name, "identity": who,
            }));
        }
    }
    Ok(serde_json::json!({"decision": "allow", "identity": who}))
}

pub fn rules(json: bool) -> anyhow::Result<()> {
    let all = mcpguard::detect::engine::all_rules();
    if json {
        let v: Vec<_> = all
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id, "family": r.family.name(), "severity": r.severity.name(),
                    "action": r.action.name(), "default_on": r.default_on, "summary": r.summary,
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(v));
        return Ok(());
    }
    println!(
        "{:<36} {:<9} {:<8} {:<7} summary",
        "rule", "family", "severity", "action"
    );
    for r in all {
        let action = if r.default_on { r.action.name() } else { "off" };
        println!(
            "{:<36} {:<9} {:<8} {:<7} {}",
            r.id,
            r.family.name(),
            r.severity.name(),
            action,
            r.summary
        );
    }
    Ok(())
}

fn open_store(path: Option<PathBuf>) -> anyhow::Result<Store> {
    let path = match path {
        Some(p) => p,
        None => {
            let snap = config::load(
                None,
                &Overrides {
                    upstream: Some("http://127.0.0.1:9/mcp".into()),
                    ..Default::default()
                },
            )?;
            snap.settings
                .store_path
                .context("no database: pass --store PATH (or set MCPGUARD_STATE_DIR)")?
        }
    };
    open_existing(&path)
}

fn open_existing(path: &Path) -> anyhow::Result<Store> {
    Store::open_existing(path).with_context(|| format!("cannot open {}", path.display()))
}

pub fn pins(a: PinsArgs) -> anyhow::Result<()> {
    let store = open_store(a.store)?;
    match a.action {
        PinsAction::List { json } => {
            let rows = store::pins::list_pins(&store)?;
            for r in rows {
                if json {
                    println!("{}", serde_json::to_string(&r)?);
                } else {
                    let state = if r.changed.is_some() {
                        "CHANGED"
                    } else {
                        "pinned"
                    };
                    println!(
                        "{:<20} {:<32} {:<8} {}",
                        r.upstream,
                        r.tool,
                        state,
                        &store::hex(&r.hash)[..16]
                    );
                }
            }
        }
        PinsAction::Approve { upstream, tool } => {
            let n = store::pins::approve_pin(&store, &upstream, tool.as_deref())?;
            println!("approved {n} pin(s); a running gateway picks this up on restart");
        }
        PinsAction::Forget { upstream, tool } => {
            let n = store::pins::forget_pins(&store, &upstream, tool.as_deref())?;
            println!("forgot {n} pin(s); a running gateway picks this up on restart");
        }
    }
    Ok(())
}

pub fn audit(a: AuditArgs) -> anyhow::Result<()> {
    let store = open_store(a.store)?;
    let since_ms = a
        .since_secs
        .map(|s| store::now_ms().saturating_sub(s * 1000));
    let q = AuditQuery {
        since_ms,
        rpc_id_prefix: a.id,
        decision: a.decision,
        upstream: a.upstream,
        tenant: a.tenant,
        subject: a.subject,
        rule: a.rule,
        family: a.family,
        limit: Some(a.limit),
        ..Default::default()
    };
    for r in store::audit::query_audit(&store, &q)? {
        if a.json {
            println!("{}", serde_json::to_string(&r)?);
        } else {
            let mut rules: Vec<&str> = r.findings.iter().map(|f| f.rule.as_str()).collect();
            // A rejection has no findings: its reason says why.
            if let Some(reason) = &r.reason {
                rules.push(reason);
            }
            let who = match (&r.tenant, &r.subject) {
                (Some(t), Some(s)) => format!("{t}/{s}"),
                _ => "-".into(),
            };
            println!(
                "{} {:<8} {:<6} {:<12} {:<16} {:<16} {:<20} {}",
                r.ts_ms,
                r.direction,
                r.decision,
                r.upstream,
                who,
                r.method.as_deref().unwrap_or("-"),
                r.tool.as_deref().unwrap_or("-"),
                rules.join(",")
            );
        }
    }
    Ok(())
}

/// `mcpguard keygen`: 32 random bytes as `mcpg_<base64url>`, shown once, with its hash.
pub fn keygen() -> anyhow::Result<()> {
    use base64::Engine as _;
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| anyhow::anyhow!("no system randomness"))?;
    let key = format!(
        "mcpg_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let hash = mcpguard::config::auth::hash_text(&mcpguard::config::auth::hash_key(key.as_bytes()));
    println!("key:  {key}");
    println!("hash: {hash}");
    eprintln!("The key is shown only now: give it to the client. Put the hash in the config.");
    Ok(())
}

/// `mcpguard hash-key [KEY]`: the hash of a given key (stdin without an argument).
pub fn hash_key(key: Option<String>) -> anyhow::Result<()> {
    let key = match key {
        Some(k) => k,
        None => {
            let mut s = String::new();
            std::io::stdin().read_line(&mut s)?;
            s.trim().to_string()
        }
    };
    if key.is_empty() {
        anyhow::bail!("empty key");
    }
    println!(
        "{}",
        mcpguard::config::auth::hash_text(&mcpguard::config::auth::hash_key(key.as_bytes()))
    );
    Ok(())
}
