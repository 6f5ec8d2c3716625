//! Which files and directories the paths family treats as sensitive: system files reached
//! from the root (`/etc/passwd`, `/proc/self/...`, `C:\Windows\System32\config\SAM`) and
//! credential stores wherever they sit (SSH keys, cloud CLI credentials, `.env`, shell
//! history, MCP client configs), judged on the segments of a path after `.` and `..` have
//! been resolved.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) enum Level {
    #[default]
    None,
    /// Only in path-like arguments.
    Weak,
    /// Also in command lines and single-token prose arguments.
    Strong,
}

#[derive(Debug, Default)]
pub(crate) struct Sens {
    pub sys: Level,
    pub cred: Level,
}

impl Sens {
    fn sys(&mut self, l: Level) {
        self.sys = self.sys.max(l);
    }
    fn cred(&mut self, l: Level) {
        self.cred = self.cred.max(l);
    }
}

/// macOS keeps /etc and /var under /private.
fn strip_private<'s, 'a>(s: &'s [&'a str]) -> &'s [&'a str] {
    match s {
        ["private", rest @ ..] if matches!(rest.first(), Some(&"etc" | &"var")) => rest,
        _ => s,
    }
}

/// The sensitivity of a resolved path; `rooted` when it is absolute (or climbed out of its
/// starting directory), so `etc/passwd` inside a project does not count.
pub(crate) fn classify(segs: &[&str], rooted: bool) -> Sens {
    let mut r = Sens::default();
    if rooted {
        rooted_patterns(strip_private(segs), &mut r);
    }
    anywhere_patterns(segs, &mut r);
    r
}

/// Absolute locations (or reached by climbing out with `..`).
fn rooted_patterns(s: &[&str], r: &mut Sens) {
    use Level::{Strong, Weak};
    let at = |i: usize| s.get(i).copied().unwrap_or("");
    match at(0) {
        "etc" => match at(1) {
            "passwd" | "passwd-" | "sudoers" | "sudoers.d" | "ld.so.preload" => r.sys(Strong),
            "shadow" | "shadow-" | "gshadow" | "gshadow-" | "master.passwd" => r.cred(Strong),
            "security" if at(2) == "opasswd" => r.cred(Strong),
            "ssl" if at(2) == "private" => r.cred(Strong),
            "kubernetes"
                if matches!(
                    at(2),
                    "admin.conf"
                        | "super-admin.conf"
                        | "pki"
                        | "kubelet.conf"
                        | "scheduler.conf"
                        | "controller-manager.conf"
                ) =>
            {
                r.cred(Strong)
            }
            // Service credentials kept in /etc: the MySQL maintenance account, Kerberos
            // keytabs, VPN and PPP secrets, Wi-Fi passwords, k3s's admin kubeconfig.
            "mysql" if at(2) == "debian.cnf" => r.cred(Strong),
            "krb5.keytab" | "ipsec.secrets" => r.cred(Strong),
            "ppp" if matches!(at(2), "chap-secrets" | "pap-secrets") => r.cred(Strong),
            "wireguard" if at(2).ends_with(".conf") || at(2).ends_with(".key") => r.cred(Strong),
            "networkmanager" if at(2) == "system-connections" => r.cred(Strong),
            "rancher" if at(2) == "k3s" && at(3) == "k3s.yaml" => r.cred(Strong),
            "pki" if at(2) == "tls" && at(3) == "private" => r.cred(Strong),
            "group" | "environment" | "crontab" => r.sys(Weak),
            x if x.starts_with("cron.") => r.sys(Weak),
            _ => {}
        },
        "proc" => {
            let p = at(1);
            if p == "self"
                || p == "thread-self"
                || (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            {
                // A process's environment, memory, command line and handles hold secrets;
                // /proc/1/cgroup and the like are everyday container checks.
                let secret = matches!(
                    at(2),
                    "environ" | "cmdline" | "mem" | "maps" | "fd" | "root" | "cwd" | "exe" | "auxv"
                );
                r.sys(if secret { Strong } else { Weak });
            }
        }
        // Root's home: its dotfiles anywhere; other files (containers run as root) only
        // as a path argument.
        "root" => r.sys(if at(1).is_empty() || at(1).starts_with('.') {
            Strong
        } else {
            Weak
        }),
        "var" | "run" => {
            // /var/run is /run.
            let run = match s {
                ["var", "run", rest @ ..] | ["run", rest @ ..] => rest,
                _ => &[],
            };
            match run.first().copied() {
                Some("secrets") => r.cred(Strong),
                Some("docker.sock") => r.sys(Weak),
                _ => {}
            }
            if matches!(
                s,
                ["var", "lib", "docker", ..] | ["var", "spool", "cron", ..]
            ) {
                r.sys(Weak);
            }
        }
        "dev" if matches!(at(1), "mem" | "kmem" | "port") => r.sys(Strong),
        "windows" | "winnt" => match at(1) {
            "win.ini" | "system.ini" => r.sys(Strong),
            "system32"
                if at(2) == "config"
                    && matches!(
                        at(3),
                        "sam" | "system" | "security" | "software" | "regback"
                    ) =>
            {
                r.cred(Strong)
            }
            "repair" if matches!(at(2), "sam" | "system" | "security") => r.cred(Strong),
            "panther" if at(2).starts_with("unattend") => r.cred(Strong),
            "ntds" => r.cred(Strong),
            // drivers\etc\hosts is Windows' stock file-disclosure probe (there is no
            // /etc/passwd to ask for); no agent workflow reads the system directory through
            // a path argument. Weak: `notepad ...\drivers\etc\hosts` in a shell is admin work.
            "system32" | "syswow64" | "sysnative" if at(2) == "drivers" && at(3) == "etc" => {
                r.sys(Weak)
            }
            _ => {}
        },
        // IIS: the deployed site's web.config holds connection strings and the machine key.
        "inetpub" if s.last().is_some_and(|f| *f == "web.config") => r.cred(Strong),
        "boot.ini" => r.sys(Strong),
        _ => {}
    }
}

fn is_private_key(f: &str) -> bool {
    matches!(
        f,
        "id_rsa"
            | "id_dsa"
            | "id_ecdsa"
            | "id_ed25519"
            | "id_ecdsa_sk"
            | "id_ed25519_sk"
            | "id_xmss"
    ) || (f.ends_with(".ppk") && f.len() > 4)
}

fn is_history(f: &str) -> bool {
    f == ".history"
        || f == "consolehost_history.txt"
        || (f.starts_with('.') && f.ends_with("_history") && f.len() > 9)
}

/// `.env` and `.env.<stage>`, but not the checked-in templates (`.env.example`, `.env.sample`).
fn is_env_file(f: &str) -> bool {
    if f == ".env" {
        return true;
    }
    let Some(suffix) = f.strip_prefix(".env.") else {
        return false;
    };
    const TEMPLATE: &[&str] = &[
        "example", "sample", "template", "tmpl", "tpl", "dist", "default", "schema",
    ];
    const CODE: &[&str] = &["ts", "d.ts", "js", "mjs", "cjs", "py", "rs", "go", "md"];
    !suffix.is_empty() && !TEMPLATE.iter().any(|t| suffix.contains(t)) && !CODE.contains(&suffix)
}

/// Credential stores and secrets wherever they sit (home directories, project trees).
fn anywhere_patterns(s: &[&str], r: &mut Sens) {
    use Level::{Strong, Weak};
    let last_seg = s.last().copied().unwrap_or("");
    for (i, &seg) in s.iter().enumerate() {
        let next = s.get(i + 1).copied().unwrap_or("");
        let prev = if i > 0 { s[i - 1] } else { "" };
        let last = i + 1 == s.len();
        match seg {
            ".ssh" => {
                if last {
                    r.cred(Weak);
                } else if is_private_key(last_seg) || last_seg.starts_with("authorized_keys") {
                    r.cred(Strong);
                } else if !last_seg.ends_with(".pub") {
                    r.cred(Weak);
                }
            }
            f if is_private_key(f) => r.cred(Strong),
            // administrators_authorized_keys: Windows OpenSSH's key list for admins.
            "authorized_keys" | "authorized_keys2" | "administrators_authorized_keys" => {
                r.cred(Strong)
            }
            // SSH host private keys: /etc/ssh on Unix, C:\ProgramData\ssh on Windows.
            f if f.starts_with("ssh_host_") && f.ends_with("_key") => r.cred(Strong),
            "known_hosts" | "known_hosts.old" => r.cred(Weak),
            ".aws" => r.cred(if matches!(next, "credentials" | "sso" | "cli") {
                Strong
            } else {
                Weak
            }),
            ".azure" => r.cred(
                if matches!(
                    next,
                    "accesstokens.json"
                        | "msal_token_cache.json"
                        | "msal_token_cache.bin"
                        | "service_principal_entries.json"
                ) {
                    Strong
                } else {
                    Weak
                },
            ),
            "gcloud" if matches!(prev, ".config" | "roaming") => r.cred(
                if matches!(
                    next,
                    "credentials.db"
                        | "access_tokens.db"
                        | "legacy_credentials"
                        | "application_default_credentials.json"
                ) {
                    Strong
                } else {
                    Weak
                },
            ),
            ".kube" => r.cred(if next.starts_with("config") {
                Strong
            } else {
                Weak
            }),
            ".docker" if next == "config.json" => r.cred(Strong),
            ".cursor" if next == "mcp.json" => r.cred(Strong),
            ".codeium" if s[i..].contains(&"mcp_config.json") => r.cred(Strong),
            ".cargo" if next.starts_with("credentials") => r.cred(Strong),
            ".gem" if next == "credentials" => r.cred(Strong),
            "gh" if prev == ".config" && next == "hosts.yml" => r.cred(Strong),
            ".terraform.d" if next == "credentials.tfrc.json" => r.cred(Strong),
            ".m2" if next == "settings-security.xml" => r.cred(Strong),
            "microsoft" if matches!(next, "credentials" | "protect" | "vault") => r.cred(Strong),
            "library" if next == "keychains" => r.cred(Strong),
            "application_default_credentials.json"
            | ".git-credentials"
            | ".netrc"
            | "_netrc"
            | ".pgpass"
            | ".pypirc"
            | ".my.cnf"
            | ".mylogin.cnf"
            | ".vault-token"
            | ".s3cfg"
            | ".boto"
            | ".passwd-s3fs"
            | ".claude.json"
            | "claude_desktop_config.json"
            | "ntds.dit"
            | ".gnupg"
            | "secring.gpg"
            | "private-keys-v1.d" => r.cred(Strong),
            ".npmrc" | ".htpasswd" => r.cred(Weak),
            f if is_history(f) => r.cred(Strong),
            f if f.starts_with("privkey") && f.ends_with(".pem") => r.cred(Strong),
            f if last && is_env_file(f) => r.cred(Weak),
            _ => {}
        }
    }
}

/// A file:// URI into a system directory (listing /etc is reconnaissance even when no
/// single file in it is a secret). World-readable trivia under /etc is allowed.
pub(crate) fn system_dir(segs: &[&str]) -> bool {
    const ETC_OK: &[&str] = &[
        "hosts",
        "hostname",
        "resolv.conf",
        "os-release",
        "lsb-release",
        "timezone",
        "localtime",
        "issue",
        "debian_version",
        "redhat-release",
        "alpine-release",
        "mime.types",
    ];
    let s = strip_private(segs);
    match s.first().copied() {
        None => true,
        Some("etc") => !(s.len() == 2 && ETC_OK.contains(&s[1])),
        Some("root" | "proc" | "sys" | "dev" | "boot" | "windows" | "winnt") => true,
        Some("var") => matches!(
            s.get(1).copied(),
            Some("run" | "lib" | "spool" | "db" | "backups")
        ),
        Some("run") => s.get(1) == Some(&"secrets"),
        _ => false,
    }
}
