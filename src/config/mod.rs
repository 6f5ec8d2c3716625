//! Configuration: the TOML file and the command-line flags, merged and validated into one
//! [`Model`]. Nothing here builds runtime objects; `pipeline::snapshot` does, from the model.

pub mod auth;
pub mod compile;
pub mod detect;
pub mod duration;
pub mod limits;
pub mod model;
pub mod raw;
pub mod structure;
pub mod url;

pub use auth::{RouteAccess, Tenant, UpstreamCredential};
pub use compile::Issue;
pub use model::{
    DriverChoice, Limits, Model, OriginPattern, Route, Settings, TlsFiles, Transport, UpstreamSpec,
};
pub use raw::RawConfig;

use std::fmt;
use std::path::{Path, PathBuf};

/// The commented starter file `mcpguard init` writes.
pub const STARTER_CONFIG: &str = include_str!("starter.toml");

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{}", IssueList(.0))]
    Invalid(Vec<Issue>),
}

struct IssueList<'a>(&'a [Issue]);

impl fmt::Display for IssueList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the configuration has {} problem(s):", self.0.len())?;
        for i in self.0 {
            writeln!(f, "  {}: {}", i.path, i.message)?;
        }
        Ok(())
    }
}

/// Command-line values that override or extend the file.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<String>,
    /// Fronts one upstream at `/mcp` (added as upstream `default` and route `/mcp`).
    pub upstream: Option<String>,
    pub workers: Option<usize>,
    pub driver: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub admin: Option<String>,
    pub drain_timeout: Option<String>,
    /// The SQLite database (`none` or "" for memory only).
    pub store: Option<String>,
}

/// Parses TOML text. Invalid TOML is one `Parse` error with its line and column; otherwise every
/// structural problem (unknown key, wrong type, missing key) is one `Invalid` issue with its key
/// path and line (`server.limits.max_body_byts: unknown key, did you mean ...`).
pub fn parse(text: &str) -> Result<RawConfig, ConfigError> {
    let parsed = structure::check(text)?;
    parsed.structure.into_result()?;
    Ok(parsed.raw)
}

/// Loads an optional file, applies the flags, and validates.
pub fn load(file: Option<&Path>, o: &Overrides) -> Result<Model, ConfigError> {
    match file {
        Some(path) => {
            let text = read(path)?;
            load_text(Some(path), &text, o)
        }
        None => load_text(None, "", o),
    }
}

/// Reads a config file (the reloader hashes the same bytes it then parses).
pub fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Validates `text`, the content of `file` (or of no file), with the flags applied.
pub fn load_text(file: Option<&Path>, text: &str, o: &Overrides) -> Result<Model, ConfigError> {
    // The file's structural problems wait for compile's, so one run reports both.
    let (mut raw, base, found) = match file {
        Some(path) => {
            let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
            let parsed = structure::check(text)?;
            (parsed.raw, base, parsed.structure)
        }
        None => (RawConfig::default(), PathBuf::from("."), Default::default()),
    };
    apply(&mut raw, o);
    let mut model = found.merge(compile::compile(&raw, &base))?;
    if let Some(path) = file {
        model.files.insert(0, path.to_path_buf());
    }
    Ok(model)
}

fn apply(raw: &mut RawConfig, o: &Overrides) {
    let s = &mut raw.server;
    if o.listen.is_some() {
        s.listen.clone_from(&o.listen);
    }
    if o.workers.is_some() {
        s.workers = o.workers;
    }
    if o.driver.is_some() {
        s.driver.clone_from(&o.driver);
    }
    if o.drain_timeout.is_some() {
        s.drain_timeout.clone_from(&o.drain_timeout);
    }
    if let (Some(cert), Some(key)) = (&o.tls_cert, &o.tls_key) {
        s.tls = Some(raw::RawTls {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: s.tls.as_ref().and_then(|t| t.client_ca.clone()),
            client_auth: s.tls.as_ref().and_then(|t| t.client_auth.clone()),
        });
    }
    if let Some(store) = &o.store {
        raw.store.path = Some(if store == "none" {
            String::new()
        } else {
            store.clone()
        });
    }
    if let Some(admin) = &o.admin {
        raw.admin = Some(raw::RawAdmin {
            listen: admin.clone(),
        });
    }
    if let Some(url) = &o.upstream {
        let name = unique_name(raw, "default");
        raw.upstreams.push(raw::RawUpstream {
            name: name.clone(),
            url: url.clone(),
            transport: None,
            ca_file: None,
            tls_server_name: None,
            connect_timeout: None,
            response_timeout: None,
            idle_stream_timeout: None,
            pool_max_idle: None,
            pool_idle_timeout: None,
            credential: None,
            passthrough_client_credential: None,
        });
        // The flag's upstream takes `/mcp` unless the file already routes it.
        if !raw
            .routes
            .iter()
            .any(|r| r.path.trim_end_matches('/') == "/mcp" && r.host.is_none())
        {
            raw.routes.push(raw::RawRoute {
                path: "/mcp".into(),
                host: None,
                upstream: name,
                auth: None,
            });
        }
    }
}

fn unique_name(raw: &RawConfig, base: &str) -> String {
    let mut name = base.to_string();
    let mut n = 1;
    while raw.upstreams.iter().any(|u| u.name == name) {
        n += 1;
        name = format!("{base}-{n}");
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_errors_with_their_path() {
        let err = parse("[server.limits]\nmax_body_byts = 5\n").unwrap_err();
        let ConfigError::Invalid(issues) = err else {
            panic!("wrong error")
        };
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(issues[0].path, "server.limits.max_body_byts");
        let message = &issues[0].message;
        assert!(message.contains("max_body_bytes"), "{message}");
        assert!(message.contains("line 2"), "{message}");
    }

    #[test]
    fn starter_config_is_valid() {
        let raw = parse(STARTER_CONFIG).unwrap();
        compile::compile(&raw, Path::new(".")).unwrap();
    }

    #[test]
    fn flags_extend_and_override_the_file() {
        let mut raw = parse(
            "[server]\nlisten = \"127.0.0.1:1\"\n[[upstreams]]\nname = \"default\"\nurl = \"http://127.0.0.1:2/mcp\"\n[[routes]]\npath = \"/x\"\nupstream = \"default\"\n",
        )
        .unwrap();
        let o = Overrides {
            listen: Some("127.0.0.1:3".into()),
            upstream: Some("http://127.0.0.1:4/mcp".into()),
            ..Default::default()
        };
        apply(&mut raw, &o);
        let snap = compile::compile(&raw, Path::new(".")).unwrap();
        assert_eq!(snap.settings.listen.port(), 3);
        assert_eq!(snap.upstreams.len(), 2);
        assert_eq!(snap.upstreams[1].name, "default-2");
        assert!(snap
            .routes
            .iter()
            .any(|r| r.path == "/mcp" && r.upstream == 1));
    }

    #[test]
    fn upstream_flag_alone_is_a_complete_config() {
        let o = Overrides {
            upstream: Some("http://127.0.0.1:4/mcp".into()),
            ..Default::default()
        };
        let snap = load(None, &o).unwrap();
        assert_eq!(snap.routes.len(), 1);
        assert_eq!(snap.settings.listen.to_string(), "127.0.0.1:8080");
    }
}
