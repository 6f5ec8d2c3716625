//! `[[limits]]` (GCRA rate limits) and `[concurrency]` (requests in flight, open streams),
//! validated into the model with their key paths. The limiter cells are built by the pipeline's
//! snapshot builder from here; their state lives outside the snapshot ([`crate::ratelimit`]).

use crate::config::compile::Issues;
use crate::config::duration::parse_duration;
use crate::config::raw::{RawConcurrency, RawRateLimit};
use std::time::Duration;

/// Cells one limit holds by default before new keys share its overflow cell.
pub const DEFAULT_MAX_KEYS: usize = 100_000;

/// The facts a limit's key is made of, as bits.
pub mod part {
    pub const TENANT: u8 = 1;
    pub const SUBJECT: u8 = 2;
    pub const TOOL: u8 = 4;
    pub const METHOD: u8 = 8;
    pub const UPSTREAM: u8 = 16;
    pub const IP: u8 = 32;
    /// Config names, in the order the key is hashed.
    pub const NAMES: [(&str, u8); 6] = [
        ("tenant", TENANT),
        ("subject", SUBJECT),
        ("tool", TOOL),
        ("method", METHOD),
        ("upstream", UPSTREAM),
        ("ip", IP),
    ];
}

/// One validated `[[limits]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitSpec {
    pub name: String,
    /// `count` per `period`.
    pub count: u64,
    pub period: Duration,
    pub burst: u64,
    /// [`part`] bits.
    pub key: u8,
    pub max_keys: usize,
    /// Globs (each list empty: no condition).
    pub routes: Vec<String>,
    pub tenants: Vec<String>,
    pub tools: Vec<String>,
    pub methods: Vec<String>,
}

impl RateLimitSpec {
    /// A stable id for the limit's state: its name and key parts (a limit whose key changes
    /// starts with fresh cells; one whose rate changes keeps them).
    pub fn state_id(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self.name.bytes().chain([0xff, self.key]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    }
}

/// `[concurrency]`; `None`: no cap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Concurrency {
    pub per_upstream: Option<usize>,
    pub per_identity: Option<usize>,
    pub streams_per_identity: Option<usize>,
}

pub(crate) fn rate_limits(raw: &[RawRateLimit], issues: &mut Issues) -> Vec<RateLimitSpec> {
    let mut out = Vec::with_capacity(raw.len());
    for (i, l) in raw.iter().enumerate() {
        let p = |k: &str| format!("limits[{i}].{k}");
        if l.name.is_empty()
            || !l
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            issues.add(p("name"), "use letters, digits, '-', '_' or '.'");
        }
        if raw[..i].iter().any(|x| x.name == l.name) {
            issues.add(p("name"), format!("duplicate limit name `{}`", l.name));
        }
        let (count, period) = match parse_rate(&l.rate) {
            Ok(r) => r,
            Err(e) => {
                issues.add(p("rate"), e);
                (1, Duration::from_secs(1))
            }
        };
        let burst = match l.burst {
            Some(0) => {
                issues.add(p("burst"), "must be at least 1");
                1
            }
            Some(b) => b,
            None => count,
        };
        let mut key = 0u8;
        for (j, k) in l.key.iter().enumerate() {
            match part::NAMES.iter().find(|(n, _)| n == k) {
                Some((_, bit)) if key & bit != 0 => {
                    issues.add(format!("limits[{i}].key[{j}]"), format!("`{k}` twice"));
                }
                Some((_, bit)) => key |= bit,
                None => issues.add(
                    format!("limits[{i}].key[{j}]"),
                    format!("`{k}`: use tenant, subject, tool, method, upstream or ip"),
                ),
            }
        }
        let max_keys = match l.max_keys {
            Some(0) => {
                issues.add(p("max_keys"), "must be at least 1");
                DEFAULT_MAX_KEYS
            }
            Some(n) if n > 100_000_000 => {
                issues.add(p("max_keys"), "at most 100000000");
                DEFAULT_MAX_KEYS
            }
            Some(n) => n,
            None => DEFAULT_MAX_KEYS,
        };
        for (k, list) in [
            ("routes", &l.routes),
            ("tenants", &l.tenants),
            ("tools", &l.tools),
            ("methods", &l.methods),
        ] {
            for (j, g) in list.iter().enumerate() {
                if g.is_empty() {
                    issues.add(format!("limits[{i}].{k}[{j}]"), "an empty glob");
                }
            }
        }
        out.push(RateLimitSpec {
            name: l.name.clone(),
            count,
            period,
            burst,
            key,
            max_keys,
            routes: l.routes.clone(),
            tenants: l.tenants.clone(),
            tools: l.tools.clone(),
            methods: l.methods.clone(),
        });
    }
    out
}

pub(crate) fn concurrency(raw: &RawConcurrency, issues: &mut Issues) -> Concurrency {
    let mut cap = |k: &str, v: Option<usize>| match v {
        Some(0) => {
            issues.add(format!("concurrency.{k}"), "must be at least 1");
            None
        }
        v => v,
    };
    Concurrency {
        per_upstream: cap("per_upstream", raw.per_upstream),
        per_identity: cap("per_identity", raw.per_identity),
        streams_per_identity: cap("streams_per_identity", raw.streams_per_identity),
    }
}

/// `"100/s"`, `"6000/m"`, `"10/h"`, `"5/d"`, `"100/10s"` → (count, period).
pub fn parse_rate(text: &str) -> Result<(u64, Duration), String> {
    let bad = || format!("`{text}` is not a rate (use e.g. 100/s, 6000/m, 50/h, 1000/d, 20/10s)");
    let (n, unit) = text.trim().split_once('/').ok_or_else(bad)?;
    let count: u64 = n.trim().parse().map_err(|_| bad())?;
    if count == 0 {
        return Err(format!("`{text}`: the count must be at least 1"));
    }
    let period = match unit.trim() {
        "s" => Duration::from_secs(1),
        "m" => Duration::from_secs(60),
        "h" => Duration::from_secs(3600),
        "d" => Duration::from_secs(86_400),
        other => parse_duration(other).map_err(|_| bad())?,
    };
    if period.is_zero() || period > Duration::from_secs(366 * 86_400) {
        return Err(format!("`{text}`: the period must be between 1ns and 366d"));
    }
    if period.as_nanos() < u128::from(count) {
        return Err(format!("`{text}`: more than one per nanosecond"));
    }
    Ok((count, period))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starters_commented_limits_compile() {
        // The `[[limits]]` and `[concurrency]` blocks of the starter file, uncommented.
        let starter = crate::config::STARTER_CONFIG;
        let from = starter.find("# [[limits]]").unwrap();
        let block: String = starter[from..]
            .lines()
            .filter_map(|l| l.strip_prefix("# "))
            .filter(|l| l.starts_with('[') || l.contains(" = "))
            .map(|l| format!("{}\n", l.split("  #").next().unwrap_or(l)))
            .collect();
        let text = format!(
            "[[upstreams]]\nname = \"a\"\nurl = \"http://127.0.0.1:9/mcp\"\n[[routes]]\npath = \"/mcp\"\nupstream = \"a\"\n{block}"
        );
        let m = crate::config::load_text(
            Some(std::path::Path::new("t.toml")),
            &text,
            &crate::config::Overrides::default(),
        )
        .unwrap();
        let l = &m.rate_limits[0];
        assert_eq!(
            (l.count, l.period, l.burst),
            (600, Duration::from_secs(60), 20)
        );
        assert_eq!(l.key, part::TENANT | part::SUBJECT);
        assert_eq!(l.tools, vec!["search_*".to_string()]);
        assert_eq!(m.concurrency.per_upstream, Some(256));
        assert_eq!(m.concurrency.streams_per_identity, Some(4));
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("100/s"), Ok((100, Duration::from_secs(1))));
        assert_eq!(parse_rate("6000/m"), Ok((6000, Duration::from_secs(60))));
        assert_eq!(parse_rate("5/d"), Ok((5, Duration::from_secs(86_400))));
        assert_eq!(parse_rate("20/10s"), Ok((20, Duration::from_secs(10))));
        assert_eq!(parse_rate("3/500ms"), Ok((3, Duration::from_millis(500))));
        assert!(parse_rate("0/s").is_err());
        assert!(parse_rate("100").is_err());
        assert!(parse_rate("x/s").is_err());
        assert!(parse_rate("1/y").is_err());
    }
}
