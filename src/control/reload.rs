//! Live configuration: the control thread owns the configuration source, loads, validates and
//! builds a new snapshot off the reactors and publishes it atomically. Triggers: a watch on the
//! config file and on every file it names (certificates, keys, CA bundles, the session secret),
//! SIGHUP, and `POST /config/reload` on the admin listener.
//!
//! An invalid configuration is rejected whole, with every problem and its key path logged; the
//! old one keeps serving. Restart-only settings that changed are reported, not silently ignored.
//! Replaced snapshots are kept here until no worker holds them, so their last drop (automata,
//! TLS configs) never lands on a reactor.

use crate::config::{self, ConfigError, Issue, Model, Overrides, Settings};
use crate::pipeline::live::Live;
use crate::pipeline::snapshot::{Builder, Snapshot};
use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What asked for a reload (logged with the outcome).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// A watched file changed.
    File,
    /// SIGHUP.
    Signal,
    /// `POST /config/reload`.
    Admin,
}

impl Trigger {
    pub fn name(self) -> &'static str {
        match self {
            Trigger::File => "file",
            Trigger::Signal => "signal",
            Trigger::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A new snapshot serves from now on.
    Applied {
        generation: u64,
        /// Restart-only keys whose new values are not in effect.
        restart_required: Vec<&'static str>,
    },
    /// The watched files hold what is already in force.
    Unchanged { generation: u64 },
    /// The configuration is invalid; the previous one keeps serving.
    Rejected { generation: u64, errors: Vec<Issue> },
}

impl Outcome {
    /// `{"result": ..., "generation": N, ...}` for the admin API.
    pub fn to_json(&self) -> String {
        let v = match self {
            Outcome::Applied {
                generation,
                restart_required,
            } => serde_json::json!({
                "result": "applied",
                "generation": generation,
                "restart_required": restart_required,
            }),
            Outcome::Unchanged { generation } => {
                serde_json::json!({"result": "unchanged", "generation": generation})
            }
            Outcome::Rejected { generation, errors } => serde_json::json!({
                "result": "rejected",
                "generation": generation,
                "errors": errors
                    .iter()
                    .map(|i| serde_json::json!({"path": i.path, "message": i.message}))
                    .collect::<Vec<_>>(),
            }),
        };
        v.to_string()
    }
}

/// Reload counts for `/metrics`.
#[derive(Default)]
pub struct ReloadCounters {
    pub success: AtomicU64,
    pub failure: AtomicU64,
    pub unchanged: AtomicU64,
    /// Unix seconds of the last successful reload (or of the start).
    pub last_success_unix: AtomicU64,
}

struct State {
    builder: Builder,
    /// The restart-only settings the process started with.
    settings: Settings,
    /// The files of the model in force, and the fingerprint of their bytes.
    files: Vec<PathBuf>,
    fingerprint: u64,
    generation: u64,
    retired: Vec<Arc<Snapshot>>,
}

pub struct Reloader {
    file: Option<PathBuf>,
    overrides: Overrides,
    live: Arc<Live>,
    state: Mutex<State>,
    pub counters: ReloadCounters,
    jwks: Arc<crate::pipeline::jwks::JwksRegistry>,
    /// The limiter state every snapshot shares (metrics, sweeping).
    pub limiter: Arc<crate::ratelimit::Registry>,
}

impl Reloader {
    /// Builds the first snapshot from `model` (already validated) and the handle the workers will
    /// read; `file` is what reloads read again, with the same `overrides` applied.
    pub fn start(
        file: Option<PathBuf>,
        overrides: Overrides,
        model: &Model,
    ) -> Result<(Arc<Reloader>, Arc<Live>), ConfigError> {
        let mut builder = Builder::new();
        let first = builder.build(model, 1).map_err(ConfigError::Invalid)?;
        let live = Live::new(first);
        let counters = ReloadCounters::default();
        counters
            .last_success_unix
            .store(now_unix(), Ordering::Relaxed);
        let jwks = builder.jwks();
        let limiter = builder.limiter();
        let reloader = Arc::new(Reloader {
            jwks,
            limiter,
            file,
            overrides,
            live: live.clone(),
            state: Mutex::new(State {
                builder,
                settings: model.settings.clone(),
                files: model.files.clone(),
                fingerprint: fingerprint(&model.files),
                generation: 1,
                retired: Vec::new(),
            }),
            counters,
        });
        Ok((reloader, live))
    }

    pub fn generation(&self) -> u64 {
        self.live.generation()
    }

    /// The JWKS sets the snapshots use (fetched by `control::jwks`).
    pub fn jwks(&self) -> Arc<crate::pipeline::jwks::JwksRegistry> {
        self.jwks.clone()
    }

    pub fn live(&self) -> &Arc<Live> {
        &self.live
    }

    /// Loads, validates, builds and publishes. `force`: rebuild even when no watched file changed
    /// (SIGHUP and the admin endpoint: a rebuild also resolves upstream names anew).
    pub fn reload(&self, trigger: Trigger, force: bool) -> Outcome {
        let mut st = match self.state.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        let outcome = self.reload_locked(&mut st, force);
        match &outcome {
            Outcome::Applied {
                generation,
                restart_required,
            } => {
                self.counters.success.fetch_add(1, Ordering::Relaxed);
                self.counters
                    .last_success_unix
                    .store(now_unix(), Ordering::Relaxed);
                tracing::info!(
                    trigger = trigger.name(),
                    generation,
                    "configuration reloaded"
                );
                if !restart_required.is_empty() {
                    tracing::warn!(
                        keys = %restart_required.join(", "),
                        "these settings changed but take effect only after a restart"
                    );
                }
            }
            Outcome::Unchanged { .. } => {
                self.counters.unchanged.fetch_add(1, Ordering::Relaxed);
            }
            Outcome::Rejected { errors, .. } => {
                self.counters.failure.fetch_add(1, Ordering::Relaxed);
                for e in errors {
                    tracing::error!(
                        trigger = trigger.name(),
                        key = %e.path,
                        "configuration rejected, the previous one keeps serving: {}",
                        e.message
                    );
                }
            }
        }
        outcome
    }

    fn reload_locked(&self, st: &mut State, force: bool) -> Outcome {
        let generation = st.generation;
        let rejected = |errors| Outcome::Rejected { generation, errors };
        let text = match &self.file {
            Some(path) => match config::read(path) {
                Ok(t) => t,
                Err(e) => return rejected(issues_of(e)),
            },
            None => String::new(),
        };
        let model = match config::load_text(self.file.as_deref(), &text, &self.overrides) {
            Ok(m) => m,
            Err(e) => return rejected(issues_of(e)),
        };
        let print = fingerprint(&model.files);
        if !force && print == st.fingerprint && model.files == st.files {
            return Outcome::Unchanged { generation };
        }
        let next = match st.builder.build(&model, generation + 1) {
            Ok(s) => s,
            Err(errors) => return rejected(errors),
        };
        let old = self.live.publish(next);
        st.retired.push(old);
        st.generation = generation + 1;
        st.files = model.files.clone();
        st.fingerprint = print;
        Outcome::Applied {
            generation: generation + 1,
            restart_required: st.settings.changed_keys(&model.settings),
        }
    }

    /// Reloads when a watched file's bytes change; polls every `period`. Also releases replaced
    /// snapshots once no worker holds them.
    pub fn poll(&self) {
        let (files, print) = {
            let mut st = match self.state.lock() {
                Ok(s) => s,
                Err(p) => p.into_inner(),
            };
            st.retired.retain(|s| Arc::strong_count(s) > 1);
            (st.files.clone(), st.fingerprint)
        };
        if fingerprint(&files) != print {
            // An editor's write can be seen half done: a rejected half file is retried at the
            // next poll, when the bytes have changed again.
            self.reload(Trigger::File, false);
        }
    }

    /// How many replaced snapshots some worker still holds.
    pub fn retired(&self) -> usize {
        match self.state.lock() {
            Ok(s) => s.retired.len(),
            Err(p) => p.into_inner().retired.len(),
        }
    }
}

/// The period of the file watch: a change is in force well within a second.
pub const WATCH_PERIOD: Duration = Duration::from_millis(250);

/// A hash of every file's bytes (a missing file hashes as such): content, not metadata, so an
/// atomic rename, a ConfigMap symlink swap or a same-second rewrite are all seen.
fn fingerprint(files: &[PathBuf]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for f in files {
        hash_file(&mut h, f);
    }
    h.finish()
}

fn hash_file(h: &mut impl Hasher, f: &Path) {
    match std::fs::read(f) {
        Ok(bytes) => {
            h.write_u8(1);
            h.write(&bytes);
        }
        Err(_) => h.write_u8(0),
    }
}

fn issues_of(e: ConfigError) -> Vec<Issue> {
    match e {
        ConfigError::Invalid(v) => v,
        ConfigError::Parse { path, message } => vec![Issue { path, message }],
        ConfigError::Read { path, source } => vec![Issue {
            path: "config".into(),
            message: format!("cannot read {}: {source}", path.display()),
        }],
    }
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "[[upstreams]]\nname = \"a\"\nurl = \"http://127.0.0.1:9/mcp\"\n[[routes]]\npath = \"/mcp\"\nupstream = \"a\"\n";

    fn setup(text: &str) -> (tempdir::Dir, Arc<Reloader>, Arc<Live>) {
        let dir = tempdir::Dir::new();
        let path = dir.0.join("mcpguard.toml");
        std::fs::write(&path, text).unwrap();
        let model = config::load(Some(&path), &Overrides::default()).unwrap();
        let (r, live) = Reloader::start(Some(path), Overrides::default(), &model).unwrap();
        (dir, r, live)
    }

    mod tempdir {
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Self {
                static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
                let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let p = std::env::temp_dir()
                    .join(format!("mcpguard-reload-{}-{n}", std::process::id()));
                std::fs::create_dir_all(&p).unwrap();
                Dir(p)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn applies_rejects_and_skips_unchanged() {
        let (dir, r, live) = setup(BASE);
        let path = dir.0.join("mcpguard.toml");
        assert_eq!(
            r.reload(Trigger::File, false),
            Outcome::Unchanged { generation: 1 }
        );
        std::fs::write(&path, format!("{BASE}[detect]\nenabled = false\n")).unwrap();
        r.poll();
        assert_eq!(live.generation(), 2);
        assert!(!live.load().detect.enabled());
        // A broken file is refused whole and generation 2 keeps serving.
        std::fs::write(&path, format!("{BASE}[server.limits]\nmax_body_byts = 1\n")).unwrap();
        let Outcome::Rejected { generation, errors } = r.reload(Trigger::Admin, true) else {
            panic!("accepted a broken file");
        };
        assert_eq!(generation, 2);
        assert_eq!(errors[0].path, "server.limits.max_body_byts");
        assert_eq!(live.generation(), 2);
        assert_eq!(r.counters.failure.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn restart_only_keys_are_reported() {
        let (dir, r, _live) = setup(BASE);
        let path = dir.0.join("mcpguard.toml");
        std::fs::write(&path, format!("[server]\nlisten = \"127.0.0.1:1\"\n{BASE}")).unwrap();
        let Outcome::Applied {
            restart_required, ..
        } = r.reload(Trigger::Signal, false)
        else {
            panic!("not applied");
        };
        assert_eq!(restart_required, vec!["server.listen"]);
    }

    #[test]
    fn replaced_snapshots_are_released_once_unused() {
        let (dir, r, live) = setup(BASE);
        let path = dir.0.join("mcpguard.toml");
        let held = live.load();
        std::fs::write(&path, format!("{BASE}\n# changed\n")).unwrap();
        r.poll();
        assert_eq!(live.generation(), 2);
        r.poll();
        assert_eq!(r.retired(), 1, "a worker still holds generation 1");
        drop(held);
        r.poll();
        assert_eq!(r.retired(), 0);
    }
}
