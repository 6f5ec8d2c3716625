//! The vocabulary every detector family shares: what a scan sees (one JSON-RPC message's strings,
//! JSON-decoded and normalised, each with its place in the message) and what it reports (hits
//! against named rules).
//!
//! The engine builds one [`Scan`] per message; each family reads it and pushes [`Hit`]s. Families
//! never see the raw bytes and never decide the action: that is policy (the config may override
//! every rule's built-in action per upstream and per tool).

/// A group of rules with one purpose; a config can turn a family off or change its action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// Instructions aimed at the model: in tool arguments (direct) and in anything a server
    /// returns or sends (indirect).
    Injection,
    /// Hidden instructions in tool definitions (tools/list).
    Poisoning,
    /// A tool definition that changed after it was first seen.
    RugPull,
    /// Credentials: cloud keys, tokens, private keys, JWTs, connection strings.
    Secrets,
    /// Personal data: payment cards, national ids, IBANs, e-mail addresses, phone numbers.
    Pii,
    /// Sensitive files and directories, and path traversal.
    Paths,
    /// URLs that point at cloud metadata, loopback, link-local or private networks.
    Ssrf,
    /// Shell command injection shapes in arguments.
    Command,
}

impl Family {
    pub const ALL: [Family; 8] = [
        Family::Injection,
        Family::Poisoning,
        Family::RugPull,
        Family::Secrets,
        Family::Pii,
        Family::Paths,
        Family::Ssrf,
        Family::Command,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Family::Injection => "injection",
            Family::Poisoning => "poisoning",
            Family::RugPull => "rugpull",
            Family::Secrets => "secrets",
            Family::Pii => "pii",
            Family::Paths => "paths",
            Family::Ssrf => "ssrf",
            Family::Command => "command",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// What the gateway does about a finding. Ordered: the strongest action of a message wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Record it (audit and metrics) and forward the message unchanged.
    Log,
    /// Replace the offending text and forward the message, still valid JSON.
    Redact,
    /// Refuse the message with a JSON-RPC error.
    Block,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Log => "log",
            Action::Redact => "redact",
            Action::Block => "block",
        }
    }
}

/// One rule of the built-in set. Ids are `family.name`, stable, and what configs refer to.
#[derive(Debug)]
pub struct Rule {
    pub id: &'static str,
    pub family: Family,
    pub severity: Severity,
    /// The built-in action; the config may override it.
    pub action: Action,
    /// False for rules a policy must ask for (e-mail addresses, phone numbers).
    pub default_on: bool,
    /// One line for operators: what the rule catches.
    pub summary: &'static str,
}

/// Which way a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Client to server: requests and notifications from the client, responses to server requests.
    Request,
    /// Server to client: results, and requests or notifications the server sends.
    Response,
}

impl Direction {
    pub fn name(self) -> &'static str {
        match self {
            Direction::Request => "request",
            Direction::Response => "response",
        }
    }
}

/// Where in the message a string sits; families use it to decide what they look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Zone {
    /// `params.name` of tools/call and prompts/get; `tools[].name` in a tools/list result.
    ToolName,
    /// Any string under `params` of a client request (tools/call arguments, prompts/get
    /// arguments, completion values, ...), except the names and URIs above and below.
    Argument,
    /// `params.uri` of resources/read and resources/(un)subscribe; `uri` members in results.
    ResourceUri,
    /// `tools[].description`, `title` and `annotations` strings in a tools/list result.
    ToolDescription,
    /// Strings and member names under `tools[].inputSchema` / `outputSchema` in tools/list.
    ToolSchema,
    /// Text a server returns or sends: tool results, resource contents, prompt messages,
    /// `sampling/createMessage` and `elicitation/create` params, log messages, errors.
    Content,
    /// Any other string under `params`, `result` or `error`.
    Other,
}

/// How a derived field was obtained from its source field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decoding {
    Base64,
    Hex,
    /// Unicode tag characters (U+E0020..U+E007E) read as the ASCII they smuggle.
    Tags,
    /// A string inside JSON text that a string holds (tools often return JSON as text).
    Json,
    /// Short, digit-heavy neighbouring strings joined without separators, so a number split
    /// across fields (`card_part1`, `card_part2`) is seen whole.
    Joined,
    /// A JSON number of nine or more digits, written out (card numbers sent as numbers).
    Number,
    /// HTML/XML character references decoded (`views`).
    Entities,
    /// Text after a right-to-left override, reordered as it is displayed (`views`).
    Bidi,
    /// Text read backwards (`views`).
    Reversed,
    /// ROT13 undone (`views`).
    Rot13,
    /// Digits and symbols standing for letters mapped back (`views`).
    Leet,
    /// Characters spaced apart joined (`views`).
    Spaced,
    /// An identifier of a tool definition split into its words (`views`).
    Words,
    /// Numbers and IBANs rewritten compact in ASCII digits (`views`).
    Digits,
    /// A bare private-key body given its PEM armour back (`views`).
    Armour,
    /// Instruction words of other languages glossed in English (`views`).
    Gloss,
    /// Token-like fragments of neighbouring strings joined (a secret split across fields).
    Fragments,
}

impl Decoding {
    /// Whether the decoded text keeps literal values (tokens, numbers) as the sender meant
    /// them. Leetspeak and ROT13 views change digits and letters of every word they touch:
    /// they read text for its meaning (injection, poisoning) and would turn placeholders into
    /// look-alike credentials for the literal families (secrets, PII).
    pub fn keeps_literals(self) -> bool {
        !matches!(self, Decoding::Leet | Decoding::Rot13 | Decoding::Gloss)
    }
}

/// Invisible or look-alike characters removed or folded while normalising one string.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hidden {
    /// Zero-width spaces/joiners, soft hyphens, word joiners, BOMs, variation selectors (a
    /// zero-width joiner between two emoji is not counted).
    pub zero_width: u16,
    /// Bidirectional controls (U+202A..U+202E, U+2066..U+2069, U+200E/F, U+061C).
    pub bidi: u16,
    /// Unicode tag characters (U+E0000..U+E007F).
    pub tags: u16,
    /// Letters from other scripts folded to the Latin letter they imitate.
    pub confusables: u16,
    /// Rounds of percent-decoding applied (0, 1 or 2).
    pub percent_rounds: u8,
}

/// One string of the message.
#[derive(Debug, Clone, Copy)]
pub struct Field<'a> {
    /// The string after JSON unescaping, in its original case. For a derived field: the
    /// decoded text.
    pub value: &'a str,
    /// The name of the member holding the value ("" for an array element). For a member-name
    /// field (keys under a tool schema) the key itself is `value` and `key` is "".
    pub key: &'a str,
    pub zone: Zone,
    /// The tool the string belongs to: the tools/call name, or the tools/list entry.
    pub tool: Option<&'a str>,
    /// `Some` when this field was decoded from `fields[from]`.
    pub derived: Option<(u32, Decoding)>,
    pub hidden: Hidden,
}

/// Everything one message offers the detectors.
#[derive(Debug, Clone, Copy)]
pub struct Scan<'a> {
    pub direction: Direction,
    /// The method of the message; for a response, of the request it answers (when known).
    pub method: Option<&'a str>,
    /// For tools/call (request or its result): the tool's name.
    pub tool: Option<&'a str>,
    pub fields: &'a [Field<'a>],
    /// The normalised text of every field in order, each followed by one `'\n'`: NFKC,
    /// lower-cased, confusables folded, invisible characters removed, percent-encoding decoded
    /// (up to twice) and every whitespace run collapsed to one space, so `'\n'` only ever
    /// separates fields and a pattern using `\s+` matches across them.
    pub folded: &'a str,
    /// `folded[bounds[i] as usize..bounds[i + 1] as usize - 1]` is the text of `fields[i]`;
    /// `bounds.len() == fields.len() + 1`.
    pub bounds: &'a [u32],
}

impl Field<'_> {
    /// False for a view that rewrote letters and digits (see [`Decoding::keeps_literals`]).
    pub fn literal(&self) -> bool {
        self.derived.is_none_or(|(_, d)| d.keeps_literals())
    }
}

impl<'a> Scan<'a> {
    /// The normalised text of field `i` (without its separator).
    pub fn folded_field(&self, i: usize) -> &'a str {
        let (Some(&s), Some(&e)) = (self.bounds.get(i), self.bounds.get(i + 1)) else {
            return "";
        };
        self.folded
            .get(s as usize..(e as usize).saturating_sub(1).max(s as usize))
            .unwrap_or("")
    }

    /// The field whose normalised text contains byte `offset` of `folded`.
    pub fn field_at(&self, offset: usize) -> usize {
        let off = offset as u32;
        match self.bounds.binary_search(&off) {
            Ok(i) => i.min(self.fields.len().saturating_sub(1)),
            Err(i) => i.saturating_sub(1),
        }
    }
}

/// A rule matched.
#[derive(Debug, Clone, Copy)]
pub struct Hit {
    pub rule: &'static Rule,
    /// Index into [`Scan::fields`] (for a cross-field match: the field where it starts).
    pub field: u32,
    /// Byte range within `fields[field].value` that redaction replaces; `None` when the match
    /// is not localised in the original text (redaction then replaces the whole value).
    pub span: Option<(u32, u32)>,
}

impl Hit {
    pub fn new(rule: &'static Rule, field: usize, span: Option<(usize, usize)>) -> Self {
        Self {
            rule,
            field: field as u32,
            span: span.map(|(s, e)| (s as u32, e as u32)),
        }
    }
}

/// What every family offers the engine. Built once per config snapshot on the control thread
/// (compiling automata and regexes); `scan` runs on a reactor and must not block or allocate
/// more than a little scratch.
pub trait Detector: Send + Sync {
    fn family(&self) -> Family;
    /// Every rule this family can report.
    fn rules(&self) -> &'static [Rule];
    fn scan(&self, scan: &Scan<'_>, out: &mut Vec<Hit>);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_field_and_field_at_agree() {
        let fields = [
            Field {
                value: "A",
                key: "a",
                zone: Zone::Argument,
                tool: None,
                derived: None,
                hidden: Hidden::default(),
            },
            Field {
                value: "Bc",
                key: "b",
                zone: Zone::Argument,
                tool: None,
                derived: None,
                hidden: Hidden::default(),
            },
        ];
        let bounds = [0u32, 2, 5];
        let scan = Scan {
            direction: Direction::Request,
            method: Some("tools/call"),
            tool: Some("t"),
            fields: &fields,
            folded: "a\nbc\n",
            bounds: &bounds,
        };
        assert_eq!(scan.folded_field(0), "a");
        assert_eq!(scan.folded_field(1), "bc");
        assert_eq!(scan.folded_field(2), "");
        assert_eq!(scan.field_at(0), 0);
        assert_eq!(scan.field_at(1), 0);
        assert_eq!(scan.field_at(2), 1);
        assert_eq!(scan.field_at(4), 1);
    }
}
