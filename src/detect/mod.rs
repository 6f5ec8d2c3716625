//! The detection engine: one compiled detector set per config snapshot, run over every message in
//! both directions.
//!
//! ```text
//!  body ──simd-json tape (the envelope check's parse)──▶ extract: every string + zone + key + tool
//!       ──▶ normalise each (NFKC, case, look-alikes, invisibles, percent) + decode blobs/tag text
//!       ──▶ families: literal prefilter (aho-corasick/memchr) → precise confirmation
//!       ──▶ rug-pull pins (tools/list) ──▶ policy: action per rule, upstream, tool ──▶ Verdict
//! ```
//!
//! - [`scan`]: the shared vocabulary (families, rules, zones, fields, hits, the `Detector` trait).
//! - [`extract`], [`normalize`], [`blobs`], [`confusables`]: from bytes to scannable text.
//! - one file per family: [`injection`], [`poisoning`], [`rugpull`], [`secrets`], [`pii`],
//!   [`paths`], [`ssrf`], [`command`] (and their helpers).
//! - [`policy`]: built-in actions and their config overrides; [`engine`]: the scan;
//!   [`redact`]: rewriting a message that keeps it valid JSON; [`check`]: `mcpguard check`.

pub mod argctx;
pub mod arginj;
pub mod blobs;
pub mod check;
pub mod checksum;
pub mod command;
pub mod command_data;
pub mod command_payloads;
pub mod confusables;
pub mod derive;
pub mod engine;
pub mod extract;
pub mod hidden;
#[cfg(test)]
pub mod inj_testutil;
pub mod injection;
pub mod normalize;
pub mod paths;
pub mod paths_files;
pub mod paths_search;
pub mod phrase_set;
pub mod phrases;
pub mod phrases_exfil;
pub mod phrases_intent;
pub mod phrases_override;
pub mod phrases_secret;
pub mod pii;
pub mod pii_numbers;
pub mod poisoning;
pub mod poisoning_specs;
pub mod policy;
pub mod purpose;
pub mod redact;
pub mod rugpull;
pub mod scan;
pub mod secrets;
pub mod secrets_context;
pub mod secrets_literals;
pub mod secrets_services;
pub mod secrets_tokens;
pub mod shape;
pub mod ssrf;
pub mod ssrf_host;
#[cfg(test)]
mod structural_tests;
#[cfg(test)]
pub mod testfold;
#[cfg(test)]
pub mod testgen;
#[cfg(test)]
pub mod testkit;
pub mod textview;
pub mod views;
