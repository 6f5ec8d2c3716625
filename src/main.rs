//! The `mcpguard` command line: parse, load the configuration, start the workers and the control
//! thread, wait for a signal, drain.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use mcpguard::config::{self, Model, Overrides};
use mcpguard::control::reload::{Reloader, Trigger};
use mcpguard::runtime::{self, Shutdown};
use std::path::PathBuf;
use std::sync::Arc;

mod cli;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "mcpguard",
    version,
    about = "A security gateway for the Model Context Protocol"
)]
struct Cli {
    /// Log filter (error, warn, info, debug, trace, or a tracing directive); RUST_LOG wins.
    #[arg(long, global = true, default_value = "info")]
    log_level: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway.
    Run(RunArgs),
    /// Check a configuration file and print every problem with its key path.
    Validate {
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Write a commented starter configuration.
    Init {
        /// Where to write it.
        #[arg(long, short, default_value = "mcpguard.toml")]
        output: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Start the gateway in front of a built-in demo MCP server.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Worker threads (default: one per core).
        #[arg(long)]
        workers: Option<usize>,
        /// Run only the demo MCP server on --listen (an upstream for tests and measurements).
        #[arg(long)]
        server_only: bool,
    },
    /// Show every detection finding for one JSON-RPC message (a file, or stdin) and the decision.
    Check(cli::CheckArgs),
    /// List the detection rules with their built-in actions.
    Rules {
        #[arg(long)]
        json: bool,
    },
    /// Tool-definition pins (rug-pull detection): list, approve a changed definition, forget.
    Pins(cli::PinsArgs),
    /// Query the audit log.
    Audit(cli::AuditArgs),
    /// Make a new random API key: prints the key once, and the hash to put in the config.
    Keygen,
    /// Print the `sha256:` hash of an API key, for `[[tenants.keys]]` or a keys file.
    HashKey {
        /// The key (read from stdin when omitted, so it stays out of the shell history).
        key: Option<String>,
    },
}

#[derive(Args)]
struct RunArgs {
    /// TOML configuration file (see `mcpguard init`).
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Listen address, e.g. 127.0.0.1:8080 (overrides server.listen).
    #[arg(long)]
    listen: Option<String>,
    /// Front this MCP server at /mcp (added to the file's upstreams and routes).
    #[arg(long)]
    upstream: Option<String>,
    /// Worker threads, one reactor per core (0 = all cores).
    #[arg(long)]
    workers: Option<usize>,
    /// io driver: auto, uring or legacy.
    #[arg(long)]
    driver: Option<String>,
    /// PEM certificate chain for TLS (with --tls-key).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for TLS (with --tls-cert).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Admin address for /metrics, /live and /ready, e.g. 127.0.0.1:9901.
    #[arg(long)]
    admin: Option<String>,
    /// How long in-flight requests and streams may run after SIGTERM, e.g. 30s.
    #[arg(long)]
    drain_timeout: Option<String>,
    /// SQLite database for the audit log and tool pins (`none`: memory only).
    #[arg(long)]
    store: Option<String>,
}

fn main() {
    let cli = Cli::parse();
    init_logging(&cli.log_level);
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Validate { config } => validate(&config),
        Command::Init { output, force } => init(&output, force),
        Command::Demo {
            listen,
            workers,
            server_only,
        } => demo(listen, workers, server_only),
        Command::Check(a) => cli::check(a),
        Command::Rules { json } => cli::rules(json),
        Command::Pins(a) => cli::pins(a),
        Command::Audit(a) => cli::audit(a),
        Command::Keygen => cli::keygen(),
        Command::HashKey { key } => cli::hash_key(key),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn run(a: RunArgs) -> anyhow::Result<()> {
    let overrides = Overrides {
        listen: a.listen,
        upstream: a.upstream,
        workers: a.workers,
        driver: a.driver,
        tls_cert: a.tls_cert,
        tls_key: a.tls_key,
        admin: a.admin,
        drain_timeout: a.drain_timeout,
        store: a.store,
    };
    let model = config::load(a.config.as_deref(), &overrides)?;
    serve(a.config, overrides, model, None)
}

/// Everything a start (or a reload) would check: the file, then building it (certificates,
/// keys, CA bundles, upstream names), so a file that validates is one that loads.
fn validate(path: &std::path::Path) -> anyhow::Result<()> {
    let model = config::load(Some(path), &Overrides::default())?;
    mcpguard::pipeline::snapshot::Builder::new()
        .build(&model, 1)
        .map_err(config::ConfigError::Invalid)?;
    println!(
        "{}: ok ({} upstream(s), {} route(s), listen {})",
        path.display(),
        model.upstreams.len(),
        model.routes.len(),
        model.settings.listen
    );
    Ok(())
}

fn init(output: &std::path::Path, force: bool) -> anyhow::Result<()> {
    if output.exists() && !force {
        anyhow::bail!("{} exists (use --force to overwrite)", output.display());
    }
    std::fs::write(output, config::STARTER_CONFIG)
        .with_context(|| format!("cannot write {}", output.display()))?;
    println!(
        "wrote {}; check it with `mcpguard validate --config {}`",
        output.display(),
        output.display()
    );
    Ok(())
}

fn demo(listen: String, workers: Option<usize>, server_only: bool) -> anyhow::Result<()> {
    if server_only {
        let addr = listen
            .parse()
            .with_context(|| format!("`{listen}` is not an IP:port"))?;
        let server =
            mcpguard::demo::DemoServer::start(addr).context("cannot start the demo MCP server")?;
        println!("demo MCP server: {}", server.url());
        let shutdown = Shutdown::default();
        install_signals(shutdown.clone(), None)?;
        while !shutdown.is_triggered() {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        server.shutdown();
        return Ok(());
    }
    let server = mcpguard::demo::DemoServer::start(([127, 0, 0, 1], 0).into())
        .context("cannot start the demo MCP server")?;
    let overrides = Overrides {
        listen: Some(listen),
        upstream: Some(server.url()),
        workers,
        ..Default::default()
    };
    let model = config::load(None, &overrides)?;
    let banner = Banner {
        demo_upstream: server.url(),
    };
    let r = serve(None, overrides, model, Some(banner));
    server.shutdown();
    r
}

struct Banner {
    demo_upstream: String,
}

fn serve(
    file: Option<PathBuf>,
    overrides: Overrides,
    model: Model,
    banner: Option<Banner>,
) -> anyhow::Result<()> {
    let shutdown = Shutdown::default();
    let (reloader, live) = Reloader::start(file, overrides, &model)?;
    install_signals(shutdown.clone(), Some(reloader.clone()))?;
    let settings = &model.settings;
    let running = runtime::start(settings, live, shutdown.clone())?;
    let scheme = if model.tls.is_some() { "https" } else { "http" };
    for r in &model.routes {
        let up = &model.upstreams[r.upstream];
        let auth = match r.access {
            config::RouteAccess::Open => "no authentication".to_string(),
            config::RouteAccess::Tenant(t) => format!("tenant {}", model.tenants[t].name),
        };
        tracing::info!(
            "route {scheme}://{}{} -> {} ({}), {auth}",
            running.addr,
            r.path,
            up.url,
            up.name
        );
    }
    if model.tenants.is_empty() {
        tracing::warn!(
            "no [[tenants]] configured: the gateway runs without authentication (every caller is anonymous)"
        );
    }
    let pins = settings
        .store_path
        .as_deref()
        .and_then(|p| mcpguard::control::watch::PinsWatch::open(p, running.shared.clone()));
    mcpguard::control::watch::spawn(reloader.clone(), pins, shutdown.clone())
        .context("cannot start the watch thread")?;
    mcpguard::control::jwks::spawn(reloader.jwks(), shutdown.clone())
        .context("cannot start the JWKS thread")?;
    if let Some(admin) = settings.admin {
        let state = mcpguard::control::ControlState {
            store: running
                .shared
                .sink
                .is_enabled()
                .then(|| running.shared.sink.counters()),
            workers: running.stats.clone(),
            shutdown: shutdown.clone(),
            driver: runtime::driver_name(settings.driver),
            reloader,
        };
        let bound = mcpguard::control::spawn(admin, state)
            .with_context(|| format!("cannot listen on the admin address {admin}"))?;
        tracing::info!("admin: http://{bound}/metrics /live /ready /config, POST /config/reload");
    }
    if let Some(b) = banner {
        let url = format!("{scheme}://{}/mcp", running.addr);
        println!("\nmcpguard demo is running.\n");
        println!("  MCP endpoint (Streamable HTTP): {url}");
        println!("  built-in demo server behind it: {}\n", b.demo_upstream);
        println!("Client config (Claude Desktop, Cursor, VS Code: mcpServers):");
        println!("  {{\"mcpServers\": {{\"mcpguard-demo\": {{\"type\": \"http\", \"url\": \"{url}\"}}}}}}\n");
        println!("Claude Code:  claude mcp add --transport http mcpguard-demo {url}");
        println!("Try it:       npx @modelcontextprotocol/inspector  (connect to {url})\n");
        println!("Ctrl-C stops it.");
    }
    running.join();
    tracing::info!("stopped");
    Ok(())
}

/// SIGTERM/SIGINT start the drain; a second one exits at once. SIGHUP reloads the configuration.
fn install_signals(shutdown: Shutdown, reloader: Option<Arc<Reloader>>) -> anyhow::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])
        .context("cannot install signal handlers")?;
    std::thread::Builder::new()
        .name("mcpguard-signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                if sig == SIGHUP {
                    match &reloader {
                        Some(r) => {
                            r.reload(Trigger::Signal, true);
                        }
                        None => tracing::info!("SIGHUP: nothing to reload"),
                    }
                    continue;
                }
                if shutdown.is_triggered() {
                    tracing::warn!(signal = sig, "second signal: exiting now");
                    std::process::exit(130);
                }
                tracing::info!(
                    signal = sig,
                    "draining: no new connections, finishing in-flight requests"
                );
                shutdown.trigger();
            }
        })?;
    Ok(())
}
