//! Where a client-to-server string sits and what shape it has, shared by the paths, ssrf and
//! command families: which strings are in scope (request arguments and resource URIs, and
//! what the engine decoded from them), what the member name says the value is (a path, a URL,
//! a command, prose ...), what kind of tool receives it, plus small text helpers.
//!
//! These families are structural: `/etc/passwd` in a `path` argument is an attack, the same
//! words in a chat message are not. The member name decides most of that; where it says
//! nothing (array elements have no key) the value's own shape, one token or many words,
//! decides the rest.

use crate::detect::scan::{Direction, Scan, Zone};
use aho_corasick::{packed, AhoCorasick, AhoCorasickKind, MatchKind};

/// What a member name says about its value. Decided by the head noun of the key
/// (`image_url` is a URL, `file_content` is prose).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Url,
    Path,
    Host,
    Command,
    Code,
    Prose,
    Neutral,
}

/// What the receiving tool does with its arguments, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ToolKind {
    /// Runs shell commands (run_command, bash, terminal ...): commands are expected.
    Shell,
    /// Runs code (execute_python, code_interpreter ...): code is expected.
    Code,
    Other,
}

/// One in-scope string with everything the families need to judge its shape.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReqField<'a> {
    pub index: usize,
    /// Original text (JSON-unescaped, original case).
    pub value: &'a str,
    /// Normalised text: NFKC, lower-case, percent-decoded, whitespace collapsed.
    pub folded: &'a str,
    pub zone: Zone,
    pub kind: KeyKind,
    pub tool: ToolKind,
}

impl ReqField<'_> {
    /// The tool runs commands or code, or the key names a command.
    pub fn command_context(&self) -> bool {
        self.tool != ToolKind::Other || self.kind == KeyKind::Command
    }

    /// The value is one token (no whitespace inside), e.g. a path or URL on its own.
    pub fn single_token(&self) -> bool {
        token_count(self.folded, 2) <= 1
    }
}

/// The strings of a client request these families look at: arguments and resource URIs (and
/// fields the engine decoded from them), never anything a server sent.
pub(crate) fn request_fields<'s, 'a>(
    scan: &'s Scan<'a>,
) -> impl Iterator<Item = ReqField<'a>> + 's {
    let active = scan.direction == Direction::Request;
    let scan_tool = tool_kind(scan.tool.unwrap_or(""));
    let fields = if active { scan.fields } else { &[] };
    fields.iter().enumerate().filter_map(move |(index, f)| {
        if f.zone != Zone::Argument && f.zone != Zone::ResourceUri && f.derived.is_none() {
            return None;
        }
        // A derived field (decoded base64/hex) stands where its source stood.
        let src = f
            .derived
            .and_then(|(from, _)| scan.fields.get(from as usize));
        let zone = src.map_or(f.zone, |s| s.zone);
        if zone != Zone::Argument && zone != Zone::ResourceUri {
            return None;
        }
        let key = match src {
            Some(s) if f.key.is_empty() => s.key,
            _ => f.key,
        };
        let tool = match (f.tool, scan.tool) {
            (Some(t), Some(s)) if t == s => scan_tool,
            (Some(t), _) => tool_kind(t),
            (None, _) => scan_tool,
        };
        let folded = scan.folded_field(index);
        Some(ReqField {
            index,
            value: f.value,
            folded,
            zone,
            kind: key_kind(key),
            tool,
        })
    })
}

/// Words of an identifier: split at non-alphanumerics and lower-to-upper case changes.
fn words(s: &str) -> impl Iterator<Item = &str> {
    let b = s.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() && !b[i].is_ascii_alphanumeric() {
            i += 1;
        }
        if i >= b.len() {
            return None;
        }
        let start = i;
        i += 1;
        while i < b.len()
            && b[i].is_ascii_alphanumeric()
            && !(b[i].is_ascii_uppercase() && b[i - 1].is_ascii_lowercase())
        {
            i += 1;
        }
        Some(&s[start..i])
    })
}

fn is_in(word: &str, list: &[&str]) -> bool {
    list.iter().any(|w| w.eq_ignore_ascii_case(word))
}

/// Edit tools' before/after text is code or prose whatever the head word says.
const CODE_KEYS: &[&str] = &[
    "old_string",
    "new_string",
    "old_str",
    "new_str",
    "old_text",
    "new_text",
    "oldString",
    "newString",
];

/// The kind one word of a member name stands for. Runs for every argument of every
/// message: a `match` (compiled to length and byte comparisons) on the lower-cased word.
fn word_kind(w: &str) -> Option<KeyKind> {
    let mut buf = [0u8; 24];
    let lw = buf.get_mut(..w.len())?;
    lw.copy_from_slice(w.as_bytes());
    lw.make_ascii_lowercase();
    Some(match std::str::from_utf8(lw).ok()? {
        "callback" | "callbacks" | "endpoint" | "endpoints" | "feed" | "homepage" | "hook"
        | "href" | "link" | "links" | "origin" | "proxy" | "redirect" | "site" | "uri" | "uris"
        | "url" | "urls" | "webhook" | "webhooks" | "website" => KeyKind::Url,
        "attachment" | "attachments" | "cert" | "certificate" | "cwd" | "dest" | "destination"
        | "dir" | "directories" | "directory" | "dirs" | "dst" | "file" | "filename"
        | "filenames" | "filepath" | "filepaths" | "files" | "fname" | "folder" | "folders"
        | "glob" | "include" | "infile" | "keyfile" | "location" | "mount" | "outdir"
        | "outfile" | "output" | "path" | "pathname" | "paths" | "root" | "src" | "target"
        | "volume" | "wd" | "workdir" => KeyKind::Path,
        "addr" | "domain" | "host" | "hostname" | "hosts" | "ip" | "ipaddr" | "ipaddress"
        | "server" => KeyKind::Host,
        "bash" | "cmd" | "cmdline" | "cmds" | "command" | "commandline" | "commands" | "exec"
        | "powershell" | "pwsh" | "sh" | "shell" => KeyKind::Command,
        "cell" | "code" | "css" | "diff" | "expression" | "function" | "html" | "javascript"
        | "js" | "patch" | "program" | "python" | "script" | "scripts" | "snippet" | "sql"
        | "template" => KeyKind::Code,
        "about" | "answer" | "article" | "bio" | "body" | "caption" | "comment" | "comments"
        | "content" | "contents" | "context" | "desc" | "description" | "detail" | "details"
        | "explanation" | "feedback" | "input" | "instruction" | "instructions" | "keywords"
        | "label" | "markdown" | "md" | "message" | "messages" | "msg" | "note" | "notes"
        | "paragraph" | "post" | "prompt" | "q" | "query" | "question" | "reason" | "replace"
        | "replacement" | "reply" | "response" | "review" | "search" | "sentence" | "statement"
        | "status" | "subject" | "summary" | "text" | "title" | "topic" | "transcript"
        | "translation" => KeyKind::Prose,
        _ => return None,
    })
}

/// Classifies a member name by its last meaningful word (`image_url` -> Url,
/// `file_content` -> Prose, `command_line` -> Command).
pub(crate) fn key_kind(key: &str) -> KeyKind {
    if is_in(key, CODE_KEYS) {
        return KeyKind::Code;
    }
    let mut ws: [&str; 8] = [""; 8];
    let mut n = 0;
    for w in words(key) {
        if n == ws.len() {
            ws.rotate_left(1);
            n -= 1;
        }
        ws[n] = w;
        n += 1;
    }
    ws[..n]
        .iter()
        .rev()
        .find_map(|w| word_kind(w))
        .unwrap_or(KeyKind::Neutral)
}

/// Whether a member name holds the arguments of a program named in another member
/// (`args`, `argv`, `arguments`, `command_args`): tools that spawn a process take the two
/// apart and run them as one command line.
pub(crate) fn args_key(key: &str) -> bool {
    words(key)
        .last()
        .is_some_and(|w| is_in(w, &["args", "argv", "arguments", "argument", "params"]))
}

/// Classifies a tool by its name (`run_command` -> Shell, `execute_python` -> Code).
pub(crate) fn tool_kind(name: &str) -> ToolKind {
    // Namespaced names ("server.tool", "server/tool"): the last part is the tool.
    let base = name.rsplit(['.', '/']).next().unwrap_or(name);
    if base == "start_process" || base == "interact_with_process" {
        return ToolKind::Shell; // Desktop Commander
    }
    let (mut shell, mut code, mut lang, mut runs) = (false, false, false, false);
    for w in words(base) {
        let mut buf = [0u8; 24];
        let Some(lw) = buf.get_mut(..w.len()) else {
            continue;
        };
        lw.copy_from_slice(w.as_bytes());
        lw.make_ascii_lowercase();
        match std::str::from_utf8(lw).unwrap_or("") {
            // Tools that "execute" something that is not a shell command.
            "sql" | "query" | "queries" | "graphql" | "cypher" | "search" | "workflow"
            | "pipeline" | "job" | "action" | "tool" | "prompt" | "plan" => return ToolKind::Other,
            "command" | "commands" | "cmd" | "shell" | "bash" | "sh" | "zsh" | "terminal"
            | "powershell" | "pwsh" | "script" | "subprocess" | "console" => shell = true,
            "exec" | "execute" => {
                shell = true;
                runs = true;
            }
            "run" | "eval" => runs = true,
            // Code runners on their own, or next to a "run" word (`run_code`).
            "python" | "interpreter" | "repl" | "jupyter" | "notebook" => code = true,
            "code" | "javascript" | "js" | "node" | "ruby" | "perl" => lang = true,
            _ => {}
        }
    }
    if code || (lang && runs) {
        ToolKind::Code
    } else if shell {
        ToolKind::Shell
    } else {
        ToolKind::Other
    }
}

/// A literal prefilter: a SIMD (Teddy) searcher for up to 64 needles where the CPU has it
/// (Aho-Corasick has no fast prefilter for many needles with common first bytes and then
/// walks its automaton byte by byte), else an Aho-Corasick DFA. Leftmost-longest and
/// non-overlapping: callers make a needle stand for the needles it contains where that
/// matters.
pub(crate) enum Needles {
    Teddy(packed::Searcher),
    Automaton(AhoCorasick),
}

impl Needles {
    pub fn new(needles: &[&str]) -> Self {
        if needles.len() <= 64 {
            let teddy = packed::Config::new()
                .match_kind(packed::MatchKind::LeftmostLongest)
                .builder()
                .extend(needles)
                .build();
            if let Some(t) = teddy {
                return Needles::Teddy(t);
            }
        }
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .build(needles)
            .expect("needles compile");
        Needles::Automaton(ac)
    }

    /// Calls `f(start, end, needle index)` for each match, left to right.
    pub fn for_each(&self, text: &str, mut f: impl FnMut(usize, usize, usize)) {
        match self {
            Needles::Teddy(t) => {
                for m in t.find_iter(text) {
                    f(m.start(), m.end(), m.pattern().as_usize());
                }
            }
            Needles::Automaton(ac) => {
                for m in ac.find_iter(text) {
                    f(m.start(), m.end(), m.pattern().as_usize());
                }
            }
        }
    }
}

/// First byte position where `f` holds. Delimiters are ASCII, so positions found this way
/// are char boundaries (the folded text has only ASCII whitespace).
pub(crate) fn find_byte(s: &str, f: impl Fn(u8) -> bool) -> Option<usize> {
    s.bytes().position(f)
}

/// Last byte position where `f` holds (see [`find_byte`]).
pub(crate) fn rfind_byte(s: &str, f: impl Fn(u8) -> bool) -> Option<usize> {
    s.bytes().rposition(f)
}

/// Counts whitespace-separated tokens, stopping at `cap`.
pub(crate) fn token_count(s: &str, cap: usize) -> usize {
    let mut n = 0;
    for _ in s.split_ascii_whitespace() {
        n += 1;
        if n >= cap {
            break;
        }
    }
    n
}

/// Does `hay` contain `needle` (ASCII case-insensitive)? `needle` must be lower-case.
pub(crate) fn contains_ci(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if n.is_empty() {
        return true;
    }
    h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// One round of percent-decoding (`%XX`, and IIS-style `%uXXXX`) of `src` into `out`;
/// returns whether anything was decoded.
fn percent_round(src: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    let mut changed = false;
    let mut i = 0;
    while i < src.len() {
        if src[i] == b'%' {
            if let (Some(&h), Some(&l)) = (src.get(i + 1), src.get(i + 2)) {
                if let (Some(h), Some(l)) = (hex_val(h), hex_val(l)) {
                    out.push(h << 4 | l);
                    i += 3;
                    changed = true;
                    continue;
                }
            }
            if matches!(src.get(i + 1), Some(b'u' | b'U')) && src.len() >= i + 6 {
                let v = src[i + 2..i + 6]
                    .iter()
                    .try_fold(0u32, |acc, &b| hex_val(b).map(|d| acc << 4 | u32::from(d)));
                if let Some(c) = v.and_then(char::from_u32) {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    i += 6;
                    changed = true;
                    continue;
                }
            }
        }
        out.push(src[i]);
        i += 1;
    }
    changed
}

/// Overlong UTF-8 encodings of '.', '/' and '\\' (`%c0%ae`, `%e0%80%ae`, `%c0%af`, `%c1%9c`)
/// that old decoders accepted, rewritten to the ASCII they smuggle. Lenient decoders only
/// mask the continuation bytes (`b & 0x3f`) without checking their top bits, so `%c0%2e` is a
/// dot to them as well: any sequence whose masked value is one of those three counts.
fn fold_overlong(bytes: &mut Vec<u8>) {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        let (lead, len) = match rest[0] {
            0xc0 | 0xc1 => (u32::from(rest[0] & 0x1f), 2),
            0xe0 => (0, 3),
            0xf0 => (0, 4),
            b => {
                out.push(b);
                i += 1;
                continue;
            }
        };
        let value = rest
            .get(1..len)
            .map(|tail| tail.iter().fold(lead, |v, &b| v << 6 | u32::from(b & 0x3f)));
        match value {
            Some(v @ (0x2e | 0x2f | 0x5c)) => {
                out.push(v as u8);
                i += len;
            }
            _ => {
                out.push(rest[0]);
                i += 1;
            }
        }
    }
    *bytes = out;
}

/// `s` lower-cased and percent-decoded up to `rounds` times, with overlong UTF-8 dots and
/// slashes folded; `None` when `s` has no percent-encoding to decode. Allocates: only called
/// for strings that contain '%'.
pub(crate) fn percent_decoded_lower(s: &str, rounds: usize) -> Option<String> {
    let mut cur = s.as_bytes().to_vec();
    let mut next = Vec::with_capacity(cur.len());
    let mut any = false;
    for _ in 0..rounds {
        if !percent_round(&cur, &mut next) {
            break;
        }
        any = true;
        std::mem::swap(&mut cur, &mut next);
    }
    if !any {
        return None;
    }
    fold_overlong(&mut cur);
    let mut text = String::from_utf8_lossy(&cur).into_owned();
    text.make_ascii_lowercase();
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_kinds_follow_the_head_noun() {
        assert_eq!(key_kind("path"), KeyKind::Path);
        assert_eq!(key_kind("filePath"), KeyKind::Path);
        assert_eq!(key_kind("image_url"), KeyKind::Url);
        assert_eq!(key_kind("file_content"), KeyKind::Prose);
        assert_eq!(key_kind("commit_message"), KeyKind::Prose);
        assert_eq!(key_kind("command_line"), KeyKind::Command);
        assert_eq!(key_kind("new_string"), KeyKind::Code);
        assert_eq!(key_kind("hostname"), KeyKind::Host);
        assert_eq!(key_kind("redirect_uri"), KeyKind::Url);
        assert_eq!(key_kind("name"), KeyKind::Neutral);
        assert_eq!(key_kind(""), KeyKind::Neutral);
    }

    #[test]
    fn args_keys() {
        for k in ["args", "argv", "arguments", "command_args", "extraArgs"] {
            assert!(args_key(k), "{k}");
        }
        for k in ["", "argsort", "command", "options", "parameters_doc_url"] {
            assert!(!args_key(k), "{k}");
        }
    }

    #[test]
    fn tool_kinds() {
        for t in [
            "run_command",
            "execute_command",
            "shell",
            "bash",
            "terminal_run",
            "exec",
        ] {
            assert_eq!(tool_kind(t), ToolKind::Shell, "{t}");
        }
        for t in [
            "powershell",
            "run_script",
            "desktop.start_process",
            "mcp__term__runCommand",
        ] {
            assert_eq!(tool_kind(t), ToolKind::Shell, "{t}");
        }
        for t in [
            "execute_code",
            "run_python",
            "python_repl",
            "code_interpreter",
            "python",
        ] {
            assert_eq!(tool_kind(t), ToolKind::Code, "{t}");
        }
        for t in [
            "read_file",
            "execute_sql",
            "run_query",
            "search_code",
            "fetch",
            "",
            "code",
        ] {
            assert_eq!(tool_kind(t), ToolKind::Other, "{t}");
        }
    }

    #[test]
    fn percent_decoding_handles_double_and_overlong() {
        assert_eq!(
            percent_decoded_lower("..%2F..%2f", 3).as_deref(),
            Some("../../")
        );
        assert_eq!(
            percent_decoded_lower("%252e%252e%255c", 3).as_deref(),
            Some("..\\")
        );
        assert_eq!(
            percent_decoded_lower("%c0%ae%c0%ae%c0%af", 3).as_deref(),
            Some("../")
        );
        assert_eq!(
            percent_decoded_lower("%e0%80%ae%e0%80%ae/", 3).as_deref(),
            Some("../")
        );
        // Lenient decoders ignore the continuation bytes' top bits.
        assert_eq!(
            percent_decoded_lower("%c0%2e%c0%2e%c0%2fetc", 3).as_deref(),
            Some("../etc")
        );
        assert_eq!(
            percent_decoded_lower("..%c1%1c..%f0%80%80%af", 3).as_deref(),
            Some("..\\../")
        );
        // Other bytes after a lead byte stay as they were.
        assert_eq!(
            percent_decoded_lower("%c0%41", 3).as_deref(),
            Some("\u{fffd}a")
        );
        assert_eq!(
            percent_decoded_lower("%e0%a4%ae", 3).as_deref(),
            Some("\u{92e}")
        );
        assert_eq!(
            percent_decoded_lower("%u002e%u002e%u2215", 3).as_deref(),
            Some("..∕")
        );
        assert_eq!(percent_decoded_lower("no escapes 100%", 3), None);
    }

    #[test]
    fn helpers() {
        assert_eq!(token_count("a b  c", 10), 3);
        assert_eq!(token_count("", 10), 0);
        assert!(contains_ci("http://LocalHost/", "localhost"));
        assert!(!contains_ci("http://l%6fcalhost/", "localhost"));
    }
}
