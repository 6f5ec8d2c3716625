//! Test-only: builds a `Scan` the way the gateway's normaliser would (NFKC, lower-case,
//! Cyrillic/Greek look-alikes folded, invisible characters removed and counted, tag text
//! decoded into a derived field), with a tool per field, for injection and poisoning tests.
#![allow(dead_code)]
use crate::detect::scan::*;
use unicode_normalization::UnicodeNormalization;

fn confusable(c: char) -> Option<char> {
    Some(match c {
        'а' => 'a',
        'е' => 'e',
        'о' => 'o',
        'р' => 'p',
        'с' => 'c',
        'х' => 'x',
        'і' => 'i',
        'у' => 'y',
        'к' => 'k',
        'м' => 'm',
        'т' => 't',
        'ѕ' => 's',
        'ј' => 'j',
        'һ' => 'h',
        'ο' => 'o',
        'α' => 'a',
        'ε' => 'e',
        'ι' => 'i',
        'ρ' => 'p',
        'ν' => 'v',
        'τ' => 't',
        'κ' => 'k',
        'χ' => 'x',
        _ => return None,
    })
}

/// Folds one string; returns (folded, hidden counts, decoded tag text).
pub fn fold(s: &str) -> (String, Hidden, String) {
    let mut h = Hidden::default();
    let mut tags = String::new();
    let mut out = String::new();
    let mut space = false;
    let chars: Vec<char> = s.nfkc().collect();
    for (i, &c) in chars.iter().enumerate() {
        let cp = c as u32;
        if (0xE0000..=0xE007F).contains(&cp) {
            h.tags += 1;
            if (0xE0020..=0xE007E).contains(&cp) {
                tags.push(char::from_u32(cp - 0xE0000).unwrap());
            }
            continue;
        }
        if matches!(
            c,
            '\u{200B}' | '\u{200C}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}' | '\u{FE00}'
                ..='\u{FE0F}'
        ) {
            h.zero_width += 1;
            continue;
        }
        if c == '\u{200D}' {
            let emoji = |x: Option<&char>| x.is_some_and(|x| (*x as u32) >= 0x2600);
            if !(i > 0 && emoji(chars.get(i - 1)) && emoji(chars.get(i + 1))) {
                h.zero_width += 1;
            }
            continue;
        }
        if matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
        {
            h.bidi += 1;
            continue;
        }
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        for l in c.to_lowercase() {
            match confusable(l) {
                Some(x) => {
                    h.confusables += 1;
                    out.push(x)
                }
                None => out.push(l),
            }
        }
    }
    (out, h, tags)
}

pub struct Item<'s> {
    pub key: &'s str,
    pub value: &'s str,
    pub zone: Zone,
    pub tool: Option<&'s str>,
    /// Set for a field the engine decoded from another one (a base64 blob's text).
    pub derived: Option<(u32, Decoding)>,
}

pub fn item<'s>(key: &'s str, value: &'s str, zone: Zone, tool: Option<&'s str>) -> Item<'s> {
    Item {
        key,
        value,
        zone,
        tool,
        derived: None,
    }
}

/// A field as the engine derives it: `value` decoded (`how`) from field `from`.
pub fn derived_item<'s>(
    key: &'s str,
    value: &'s str,
    zone: Zone,
    from: u32,
    how: Decoding,
) -> Item<'s> {
    Item {
        derived: Some((from, how)),
        ..item(key, value, zone, None)
    }
}

/// (key, value, zone, tool, derived, hidden) of one field.
type OwnedField = (
    String,
    String,
    Zone,
    Option<String>,
    Option<(u32, Decoding)>,
    Hidden,
);

struct Owned {
    fields: Vec<OwnedField>,
    folded: String,
    bounds: Vec<u32>,
}

fn build(items: &[Item<'_>]) -> Owned {
    let mut o = Owned {
        fields: Vec::new(),
        folded: String::new(),
        bounds: vec![0],
    };
    let mut derived = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let (f, h, tags) = fold(it.value);
        o.folded.push_str(&f);
        o.folded.push('\n');
        o.bounds.push(o.folded.len() as u32);
        o.fields.push((
            it.key.into(),
            it.value.into(),
            it.zone,
            it.tool.map(Into::into),
            it.derived,
            h,
        ));
        if !tags.is_empty() {
            derived.push((i, tags));
        }
    }
    for (i, tags) in derived {
        let (f, h, _) = fold(&tags);
        o.folded.push_str(&f);
        o.folded.push('\n');
        o.bounds.push(o.folded.len() as u32);
        let src = &items[i];
        o.fields.push((
            src.key.into(),
            tags,
            src.zone,
            src.tool.map(Into::into),
            Some((i as u32, Decoding::Tags)),
            h,
        ));
    }
    o
}

/// Runs `d` and returns (rule id, field index) of every hit.
pub fn run(
    d: &dyn Detector,
    dir: Direction,
    method: Option<&str>,
    tool: Option<&str>,
    items: &[Item<'_>],
) -> Vec<(&'static str, usize)> {
    let o = build(items);
    let fields: Vec<Field<'_>> = o
        .fields
        .iter()
        .map(|(k, v, z, t, d, h)| Field {
            value: v,
            key: k,
            zone: *z,
            tool: t.as_deref(),
            derived: *d,
            hidden: *h,
        })
        .collect();
    let scan = Scan {
        direction: dir,
        method,
        tool,
        fields: &fields,
        folded: &o.folded,
        bounds: &o.bounds,
    };
    let mut out = Vec::new();
    d.scan(&scan, &mut out);
    for h in &out {
        assert!(h.span.is_none());
    }
    out.iter().map(|h| (h.rule.id, h.field as usize)).collect()
}

/// Rule ids hit by a tools/call request with these arguments.
pub fn call(d: &dyn Detector, args: &[&str]) -> Vec<&'static str> {
    let keys: Vec<String> = (0..args.len()).map(|i| format!("arg{i}")).collect();
    let mut items = vec![item("name", "some_tool", Zone::ToolName, Some("some_tool"))];
    items.extend(
        args.iter()
            .zip(&keys)
            .map(|(v, k)| item(k, v, Zone::Argument, Some("some_tool"))),
    );
    run(
        d,
        Direction::Request,
        Some("tools/call"),
        Some("some_tool"),
        &items,
    )
    .into_iter()
    .map(|x| x.0)
    .collect()
}

/// Rule ids hit by a tools/call result with these text blocks.
pub fn result(d: &dyn Detector, texts: &[&str]) -> Vec<&'static str> {
    let items: Vec<Item<'_>> = texts
        .iter()
        .map(|t| item("text", t, Zone::Content, Some("some_tool")))
        .collect();
    run(
        d,
        Direction::Response,
        Some("tools/call"),
        Some("some_tool"),
        &items,
    )
    .into_iter()
    .map(|x| x.0)
    .collect()
}

/// One tool of a tools/list result: (name, description, [(property, property description)]).
pub type ToolDef<'s> = (&'s str, &'s str, &'s [(&'s str, &'s str)]);

/// Hits (rule id, tool name) for a tools/list result.
pub fn list(d: &dyn Detector, tools: &[ToolDef<'_>]) -> Vec<(&'static str, String)> {
    let mut items = Vec::new();
    for (name, desc, props) in tools {
        items.push(item("name", name, Zone::ToolName, Some(name)));
        items.push(item("description", desc, Zone::ToolDescription, Some(name)));
        for (p, pd) in props.iter() {
            items.push(item("", p, Zone::ToolSchema, Some(name)));
            items.push(item("description", pd, Zone::ToolSchema, Some(name)));
        }
    }
    let hits = run(d, Direction::Response, Some("tools/list"), None, &items);
    hits.into_iter()
        .map(|(r, f)| {
            (
                r,
                items.get(f).map_or_else(
                    || "derived".to_string(),
                    |i| i.tool.unwrap_or("").to_string(),
                ),
            )
        })
        .collect()
}
