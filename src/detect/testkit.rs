//! Test-only helpers: build a `Scan` from (key, value, zone) triples with a naive fold
//! (lower-case, whitespace collapsed). The real normaliser replaces this in the gateway.
#![allow(dead_code)]
use crate::detect::scan::*;

pub struct Owned {
    pub fields: Vec<(String, String, Zone, Option<String>)>,
    pub folded: String,
    pub bounds: Vec<u32>,
}

pub fn naive_fold(s: &str) -> String {
    let lower = s.to_lowercase();
    lower.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Owned {
    pub fn new(items: &[(&str, &str, Zone)], tool: Option<&str>) -> Self {
        let mut folded = String::new();
        let mut bounds = vec![0u32];
        let mut fields = Vec::new();
        for (k, v, z) in items {
            folded.push_str(&naive_fold(v));
            folded.push('\n');
            bounds.push(folded.len() as u32);
            fields.push((k.to_string(), v.to_string(), *z, tool.map(str::to_string)));
        }
        Self {
            fields,
            folded,
            bounds,
        }
    }

    pub fn with<R>(
        &self,
        direction: Direction,
        method: Option<&str>,
        tool: Option<&str>,
        f: impl FnOnce(&Scan<'_>) -> R,
    ) -> R {
        let fields: Vec<Field<'_>> = self
            .fields
            .iter()
            .map(|(k, v, z, t)| Field {
                value: v,
                key: k,
                zone: *z,
                tool: t.as_deref(),
                derived: None,
                hidden: Hidden::default(),
            })
            .collect();
        let scan = Scan {
            direction,
            method,
            tool,
            fields: &fields,
            folded: &self.folded,
            bounds: &self.bounds,
        };
        f(&scan)
    }
}

/// Runs `d` over the fields and returns the rule ids hit.
pub fn hits(
    d: &dyn Detector,
    direction: Direction,
    method: Option<&str>,
    tool: Option<&str>,
    items: &[(&str, &str, Zone)],
) -> Vec<&'static str> {
    let o = Owned::new(items, tool);
    o.with(direction, method, tool, |scan| {
        let mut out = Vec::new();
        d.scan(scan, &mut out);
        out.iter().map(|h| h.rule.id).collect()
    })
}
