//! The audit trail: one row per inspected message that the policy says to record, with its
//! findings as a JSON array (findings are read together with their message, never on their own,
//! so a child table would buy joins and nothing else).
//!
//! Reactors build an [`AuditRecord`] and hand it to [`StoreSink::audit`]; the JSON is serialised
//! on the writer thread, not on the reactor. The CLI reads with [`query_audit`] on its own
//! connection.
//!
//! [`StoreSink::audit`]: super::writer::StoreSink::audit

use super::{from_sql_ms, to_sql_ms, Store, StoreError};
use rusqlite::types::Value;
use rusqlite::Statement;
use serde::{Deserialize, Serialize};

/// One message as the gateway saw it. The `&'static str` fields come from the detector's and the
/// pipeline's own vocabularies (`Direction::name`, `Action::name`, rule ids), so recording them
/// allocates nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub ts_ms: u64,
    pub worker: u16,
    pub route: String,
    pub upstream: String,
    /// `"request"` (client to server) or `"response"` (server to client).
    pub direction: &'static str,
    pub method: Option<String>,
    pub tool: Option<String>,
    /// The JSON-RPC id as text (a number's digits, or the string itself).
    pub rpc_id: Option<String>,
    /// `"allow"`, `"log"`, `"redact"` or `"block"`: what the gateway did with the message.
    pub decision: &'static str,
    pub client: Option<String>,
    pub findings: Vec<FindingRecord>,
    /// For an answer the gateway gave itself (`decision` `"reject"`): its stable reason.
    pub reason: Option<&'static str>,
    /// The authenticated caller's tenant and subject (`None` on an open route or before
    /// authentication).
    pub tenant: Option<String>,
    pub subject: Option<String>,
}

/// One rule hit inside a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingRecord {
    pub rule: &'static str,
    pub family: &'static str,
    pub severity: &'static str,
    pub action: &'static str,
    /// Where in the message: `params.arguments.path`, `result.tools[3].description`.
    pub location: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
}

/// A finding read back (owned strings: the reader is not the process that wrote it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingRow {
    pub rule: String,
    pub family: String,
    pub severity: String,
    pub action: String,
    pub location: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
}

/// An audit row read back; serialises as the CLI's `--json` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub ts_ms: u64,
    pub worker: u16,
    pub route: String,
    pub upstream: String,
    pub direction: String,
    pub method: Option<String>,
    pub tool: Option<String>,
    pub rpc_id: Option<String>,
    pub decision: String,
    pub client: Option<String>,
    pub findings: Vec<FindingRow>,
    pub reason: Option<String>,
    pub tenant: Option<String>,
    pub subject: Option<String>,
}

/// Filters for [`query_audit`]; every `None` is "any". Rows come newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Rows with `ts_ms >= since_ms`.
    pub since_ms: Option<u64>,
    /// Rows with `ts_ms < until_ms`.
    pub until_ms: Option<u64>,
    /// Rows whose JSON-RPC id starts with this (case-sensitive; uses the rpc_id index).
    pub rpc_id_prefix: Option<String>,
    pub decision: Option<String>,
    pub upstream: Option<String>,
    pub tool: Option<String>,
    /// Rows of callers of this tenant, and of this subject.
    pub tenant: Option<String>,
    pub subject: Option<String>,
    /// Rows with at least one finding of this rule id (exact).
    pub rule: Option<String>,
    /// Rows with at least one finding of this family (exact).
    pub family: Option<String>,
    /// At most this many rows; `None` for all.
    pub limit: Option<usize>,
}

pub(crate) const INSERT_SQL: &str = "INSERT INTO audit
    (ts_ms, worker, route, upstream, direction, method, tool, rpc_id, decision, client, findings,
     reason, tenant, subject)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";

/// Writes one record with the writer's prepared [`INSERT_SQL`].
pub(crate) fn insert(st: &mut Statement<'_>, rec: &AuditRecord) -> Result<(), StoreError> {
    let findings = if rec.findings.is_empty() {
        "[]".to_owned()
    } else {
        // Cannot fail for these types (strings only); mapped rather than unwrapped all the same.
        serde_json::to_string(&rec.findings).map_err(|e| StoreError::Decode(e.to_string()))?
    };
    st.execute(rusqlite::params![
        to_sql_ms(rec.ts_ms),
        rec.worker,
        rec.route,
        rec.upstream,
        rec.direction,
        rec.method,
        rec.tool,
        rec.rpc_id,
        rec.decision,
        rec.client,
        findings,
        rec.reason,
        rec.tenant,
        rec.subject,
    ])?;
    Ok(())
}

/// The rows matching `q`, newest first (by timestamp, then by insertion order).
pub fn query_audit(store: &Store, q: &AuditQuery) -> Result<Vec<AuditRow>, StoreError> {
    let mut sql = String::from(
        "SELECT id, ts_ms, worker, route, upstream, direction, method, tool, rpc_id, decision,
                client, findings, reason, tenant, subject
         FROM audit WHERE 1 = 1",
    );
    let mut args: Vec<Value> = Vec::new();
    if let Some(v) = q.since_ms {
        sql.push_str(" AND ts_ms >= ?");
        args.push(Value::Integer(to_sql_ms(v)));
    }
    if let Some(v) = q.until_ms {
        sql.push_str(" AND ts_ms < ?");
        args.push(Value::Integer(to_sql_ms(v)));
    }
    if let Some(p) = &q.rpc_id_prefix {
        // GLOB, not LIKE: it is case-sensitive like the ids themselves, and SQLite turns a GLOB
        // whose pattern starts with literal text into a range scan of the (BINARY) rpc_id index.
        sql.push_str(" AND rpc_id GLOB ?");
        args.push(Value::Text(glob_prefix(p)));
    }
    for (column, value) in [
        ("decision", &q.decision),
        ("upstream", &q.upstream),
        ("tool", &q.tool),
        ("tenant", &q.tenant),
        ("subject", &q.subject),
    ] {
        if let Some(v) = value {
            sql.push_str(" AND ");
            sql.push_str(column);
            sql.push_str(" = ?");
            args.push(Value::Text(v.clone()));
        }
    }
    for (key, value) in [("$.rule", &q.rule), ("$.family", &q.family)] {
        if let Some(v) = value {
            // Exact matches on the JSON members (LIKE on the text would also match a rule id
            // that merely contains the one asked for). A scan, which is fine for a CLI.
            sql.push_str(
                " AND EXISTS (SELECT 1 FROM json_each(audit.findings) f
                              WHERE json_extract(f.value, ?) = ?)",
            );
            args.push(Value::Text(key.to_owned()));
            args.push(Value::Text(v.clone()));
        }
    }
    sql.push_str(" ORDER BY ts_ms DESC, id DESC LIMIT ?");
    args.push(Value::Integer(
        q.limit.map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX)),
    ));

    let mut st = store.conn.prepare(&sql)?;
    let rows = st.query_map(rusqlite::params_from_iter(args), |r| {
        Ok((
            AuditRow {
                id: r.get(0)?,
                ts_ms: from_sql_ms(r.get(1)?),
                worker: r.get(2)?,
                route: r.get(3)?,
                upstream: r.get(4)?,
                direction: r.get(5)?,
                method: r.get(6)?,
                tool: r.get(7)?,
                rpc_id: r.get(8)?,
                decision: r.get(9)?,
                client: r.get(10)?,
                findings: Vec::new(),
                reason: r.get(12)?,
                tenant: r.get(13)?,
                subject: r.get(14)?,
            },
            r.get::<_, String>(11)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (mut row, findings) = row?;
        row.findings = serde_json::from_str(&findings)
            .map_err(|e| StoreError::Decode(format!("audit row {}: findings: {e}", row.id)))?;
        out.push(row);
    }
    Ok(out)
}

/// Deletes the rows older than `before_ms`; returns how many. Deletes in chunks, each its own
/// transaction, so that the gateway's writer (waiting on the busy timeout) gets the lock between
/// chunks instead of waiting for the whole prune.
pub fn prune_audit(store: &Store, before_ms: u64) -> Result<usize, StoreError> {
    const CHUNK: i64 = 5_000;
    let mut st = store.conn.prepare(
        "DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE ts_ms < ?1 LIMIT ?2)",
    )?;
    let mut total = 0;
    loop {
        let n = st.execute(rusqlite::params![to_sql_ms(before_ms), CHUNK])?;
        total += n;
        if (n as i64) < CHUNK {
            return Ok(total);
        }
    }
}

/// `prefix*` with GLOB's metacharacters in `prefix` made literal (`[*]`, `[?]`, `[[]`).
fn glob_prefix(prefix: &str) -> String {
    let mut s = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        match c {
            '*' | '?' | '[' => {
                s.push('[');
                s.push(c);
                s.push(']');
            }
            _ => s.push(c),
        }
    }
    s.push('*');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testutil::TempDb;
    use crate::store::writer::spawn_writer;
    use std::time::Duration;

    fn rec(
        ts_ms: u64,
        rpc_id: &str,
        decision: &'static str,
        rules: &[&'static str],
    ) -> AuditRecord {
        AuditRecord {
            ts_ms,
            worker: 3,
            route: "/mcp".into(),
            upstream: "files".into(),
            direction: "request",
            method: Some("tools/call".into()),
            tool: Some("read_file".into()),
            rpc_id: Some(rpc_id.into()),
            decision,
            client: Some("10.0.0.7".into()),
            findings: rules
                .iter()
                .map(|r| FindingRecord {
                    rule: r,
                    family: r.split('.').next().unwrap_or(""),
                    severity: "high",
                    action: decision,
                    location: "params.arguments.path".into(),
                    tool: Some("read_file".into()),
                })
                .collect(),
            reason: None,
            tenant: None,
            subject: None,
        }
    }

    fn ids(rows: &[AuditRow]) -> Vec<&str> {
        rows.iter().filter_map(|r| r.rpc_id.as_deref()).collect()
    }

    #[test]
    fn records_round_trip_through_the_writer_and_filters_work() {
        let tmp = TempDb::new("audit");
        let (sink, handle) = spawn_writer(Store::open(tmp.path()).unwrap(), 64).unwrap();
        let records = [
            rec(1_000, "a-1", "allow", &[]),
            rec(2_000, "a-2", "log", &["secrets.aws_key"]),
            rec(
                3_000,
                "b-1",
                "block",
                &["paths.traversal", "secrets.aws_key_id"],
            ),
            rec(4_000, "a*3", "redact", &["pii.card"]),
            rec(4_000, "A-4", "allow", &[]),
        ];
        for r in &records {
            sink.audit(r.clone());
        }
        assert!(sink.flush(Duration::from_secs(5)));
        assert_eq!(sink.written(), 5);

        let reader = Store::open_existing(tmp.path()).unwrap();
        let all = query_audit(&reader, &AuditQuery::default()).unwrap();
        // Newest first; equal timestamps by insertion order, newest first.
        assert_eq!(ids(&all), ["A-4", "a*3", "b-1", "a-2", "a-1"]);
        let b1 = &all[2];
        assert_eq!(b1.worker, 3);
        assert_eq!(b1.direction, "request");
        assert_eq!(b1.method.as_deref(), Some("tools/call"));
        assert_eq!(b1.client.as_deref(), Some("10.0.0.7"));
        assert_eq!(b1.findings.len(), 2);
        assert_eq!(b1.findings[0].rule, "paths.traversal");
        assert_eq!(b1.findings[0].family, "paths");
        assert_eq!(b1.findings[0].location, "params.arguments.path");
        assert_eq!(b1.findings[0].tool.as_deref(), Some("read_file"));

        let q = |f: &dyn Fn(&mut AuditQuery)| {
            let mut q = AuditQuery::default();
            f(&mut q);
            ids(&query_audit(&reader, &q).unwrap())
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(q(&|q| q.since_ms = Some(3_000)), ["A-4", "a*3", "b-1"]);
        assert_eq!(q(&|q| q.until_ms = Some(3_000)), ["a-2", "a-1"]);
        assert_eq!(q(&|q| q.rpc_id_prefix = Some("a-".into())), ["a-2", "a-1"]);
        // GLOB metacharacters in the prefix are literal; the prefix is case-sensitive.
        assert_eq!(q(&|q| q.rpc_id_prefix = Some("a*".into())), ["a*3"]);
        assert_eq!(q(&|q| q.rpc_id_prefix = Some("A".into())), ["A-4"]);
        assert_eq!(q(&|q| q.decision = Some("block".into())), ["b-1"]);
        // Exact rule match: secrets.aws_key does not match secrets.aws_key_id.
        assert_eq!(q(&|q| q.rule = Some("secrets.aws_key".into())), ["a-2"]);
        assert_eq!(q(&|q| q.family = Some("secrets".into())), ["b-1", "a-2"]);
        assert_eq!(
            q(&|q| {
                q.family = Some("secrets".into());
                q.decision = Some("log".into());
            }),
            ["a-2"]
        );
        assert_eq!(q(&|q| q.limit = Some(2)), ["A-4", "a*3"]);
        assert_eq!(
            q(&|q| q.upstream = Some("other".into())),
            Vec::<String>::new()
        );

        drop(sink);
        handle.join().unwrap();
    }

    #[test]
    fn rpc_id_prefix_uses_the_index() {
        let s = Store::open_in_memory().unwrap();
        let plan: Vec<String> = s
            .conn
            .prepare("EXPLAIN QUERY PLAN SELECT id FROM audit WHERE rpc_id GLOB ?1")
            .unwrap()
            .query_map([glob_prefix("abc")], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            plan.iter()
                .any(|p| p.contains("USING") && p.contains("audit_rpc_id")),
            "{plan:?}"
        );
    }

    #[test]
    fn prune_deletes_older_rows() {
        let s = Store::open_in_memory().unwrap();
        {
            let mut st = s.conn.prepare(INSERT_SQL).unwrap();
            for i in 0..12_000u64 {
                insert(&mut st, &rec(i, "x", "allow", &[])).unwrap();
            }
        }
        assert_eq!(prune_audit(&s, 11_000).unwrap(), 11_000);
        let left = query_audit(&s, &AuditQuery::default()).unwrap();
        assert_eq!(left.len(), 1_000);
        assert_eq!(left.last().map(|r| r.ts_ms), Some(11_000));
    }

    #[test]
    fn corrupt_findings_are_an_error_not_a_panic() {
        let s = Store::open_in_memory().unwrap();
        s.conn
            .execute(
                "INSERT INTO audit (ts_ms, worker, route, upstream, direction, decision, findings)
                 VALUES (1, 0, '/', 'u', 'request', 'log', 'not json')",
                [],
            )
            .unwrap();
        let err = query_audit(&s, &AuditQuery::default()).unwrap_err();
        assert!(matches!(err, StoreError::Decode(_)), "{err}");
    }
}
