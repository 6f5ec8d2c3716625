//! `[[limits]]` (GCRA rate limits) and `[concurrency]` (requests in flight, open streams),
//! validated into the model with their key paths. The limiter cells are built by the pipeline's
//! snapshot builder from here; their state lives outside the snapshot ([`crate::ratelimit`]).

use crate::config::compile::Issues;
use crate::config::duration::parse_duration;
use crate::config::raw::{RawBudget, RawConcurrency, RawCost, RawRateLimit};
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

/// A budget's window, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Hour,
    Day,
    Month,
}

impl Window {
    /// The index of the window holding `unix` seconds, and when it ends (unix seconds).
    pub fn at(self, unix: u64) -> (u64, u64) {
        match self {
            Window::Hour => (unix / 3600, (unix / 3600 + 1) * 3600),
            Window::Day => (unix / 86_400, (unix / 86_400 + 1) * 86_400),
            Window::Month => {
                let (y, m) = civil_month(unix / 86_400);
                let index = y * 12 + (m - 1);
                let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                (index, days_from_civil(ny, nm) * 86_400)
            }
        }
    }
}

/// Year and month (1-12) of a day count since 1970-01-01 (H. Hinnant's civil_from_days).
fn civil_month(days: u64) -> (u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m)
}

/// Days since 1970-01-01 of the first of month `m` of year `y` (y ≥ 1970).
fn days_from_civil(y: u64, m: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Whom a budget counts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Per {
    /// Tenant and subject (the client IP on an open route).
    Identity,
    /// The gateway session (`Mcp-Session-Id`, as the session phase opened it).
    Session,
    /// The tenant (all its callers together).
    Tenant,
}

/// One validated `[[budgets]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetSpec {
    pub name: String,
    pub units: u64,
    pub window: Window,
    pub per: Per,
    pub tenants: Vec<String>,
    pub tools: Vec<String>,
    pub max_keys: usize,
}

impl BudgetSpec {
    /// Stable across reloads that keep its name, window and whom it counts for.
    pub fn state_id(&self) -> u64 {
        let mut h: u64 = 0x84222325cbf29ce4;
        let tag = [0xff, self.window as u8, self.per as u8];
        for b in self.name.bytes().chain(tag) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    }
}

/// `[[costs]]`, in file order: (tool glob, cost).
pub type Costs = Vec<(String, u64)>;

pub(crate) fn budgets(raw: &[RawBudget], issues: &mut Issues) -> Vec<BudgetSpec> {
    let mut out = Vec::with_capacity(raw.len());
    for (i, b) in raw.iter().enumerate() {
        let p = |k: &str| format!("budgets[{i}].{k}");
        if b.name.is_empty()
            || !b
                .name
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(&c))
        {
            issues.add(p("name"), "use letters, digits, '-', '_' or '.'");
        }
        if raw[..i].iter().any(|x| x.name == b.name) {
            issues.add(p("name"), format!("duplicate budget name `{}`", b.name));
        }
        if b.units == 0 || b.units > crate::ratelimit::MAX_UNITS {
            issues.add(
                p("units"),
                format!("between 1 and {}", crate::ratelimit::MAX_UNITS),
            );
        }
        let window = match b.window.as_str() {
            "hour" => Window::Hour,
            "day" => Window::Day,
            "month" => Window::Month,
            other => {
                issues.add(p("window"), format!("`{other}`: use hour, day or month"));
                Window::Day
            }
        };
        let per = match b.per.as_deref().unwrap_or("identity") {
            "identity" => Per::Identity,
            "session" => Per::Session,
            "tenant" => Per::Tenant,
            other => {
                issues.add(
                    p("per"),
                    format!("`{other}`: use identity, session or tenant"),
                );
                Per::Identity
            }
        };
        let max_keys = match b.max_keys {
            Some(0) => {
                issues.add(p("max_keys"), "must be at least 1");
                DEFAULT_MAX_KEYS
            }
            Some(n) => n,
            None => DEFAULT_MAX_KEYS,
        };
        out.push(BudgetSpec {
            name: b.name.clone(),
            units: b.units,
            window,
            per,
            tenants: b.tenants.clone(),
            tools: b.tools.clone(),
            max_keys,
        });
    }
    out
}

pub(crate) fn costs(raw: &[RawCost], issues: &mut Issues) -> Costs {
    raw.iter()
        .enumerate()
        .map(|(i, c)| {
            if c.tool.is_empty() {
                issues.add(format!("costs[{i}].tool"), "an empty glob");
            }
            if c.cost > crate::ratelimit::MAX_UNITS {
                issues.add(format!("costs[{i}].cost"), "too large");
            }
            (c.tool.clone(), c.cost)
        })
        .collect()
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
        assert_eq!(m.costs, vec![("generate_*".to_string(), 10)]);
        assert_eq!(
            (m.budgets[0].units, m.budgets[0].window),
            (1000, Window::Day)
        );
    }

    #[test]
    fn windows() {
        // 2026-12-08T05:00:00Z
        let t = 1_796_706_000;
        assert_eq!(Window::Hour.at(t), (t / 3600, t + 3600));
        let (m, end) = Window::Month.at(t);
        assert_eq!(m, 2026 * 12 + 11);
        // 2027-01-01T00:00:00Z
        assert_eq!(end, 1_798_761_600);
        let (feb, end) = Window::Month.at(1_709_164_800); // 2024-02-29
        assert_eq!(feb, 2024 * 12 + 1);
        assert_eq!(end, 1_709_251_200); // 2024-03-01
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
