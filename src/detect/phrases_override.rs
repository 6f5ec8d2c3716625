//! Phrase tables for instruction overrides: "ignore all previous instructions" and its
//! variants, "new instructions:", "your new task is to", "from now on you will", in English and
//! the languages attacks commonly use (es, fr, de, pt, it, nl), with the guards that keep
//! security write-ups ("tricks the model into ignoring previous instructions") and people's own
//! corrections ("ignore the previous instructions I sent") out.

use crate::detect::phrase_set::PhraseRe;
use crate::detect::phrase_set::{lazy, Ctx, Spec};
use crate::detect::phrases::CUE_ROLE;
use std::sync::OnceLock;

/// Verbs that discard earlier instructions (imperative or gerund, never "ignores"/"ignored":
/// documentation describes what software or models do in the third person).
const OVR_VERB: &str = r"(?:ignor(?:e|ing)|disregard(?:ing)?|(?:do\s+not|don['’`]?t|never)\s+(?:follow|obey|heed)|stop\s+(?:following|obeying)|no\s+longer\s+(?:follow|obey)|pay\s+no\s+attention\s+to)";
/// "forget" drops context in chat tools ("/new forgets the previous context"), "override" and
/// "bypass" are configuration words ("override previous rules with --force"): these verbs
/// count only with nouns that name a model's instructions.
const OVR_VERB_SOFT: &str = r"(?:forget(?:ting)?|override|overwrite|bypass|discard|set\s+aside)";
const OVR_DET: &str = r"(?:(?:all|any|each|every|of|the|your|these|those|and|or)\s+|[,&/]\s*)*";
/// "previous" and friends: what makes "ignore the rules" an override.
const OVR_QUAL: &str = r"(?:previous(?:ly)?|prior|above|earlier|preceding|foregoing|original|initial|system|former|hidden|developer|safety|content|usage|pre-?programmed|pre-?existing)";
const OVR_NOUN_Q: &str = r"(?:instructions?|prompts?|directives?|guidelines|guidance|programming|directions|rules|context|constraints|restrictions|guardrails|commands|orders|polic(?:y|ies)|text|content|input|system\s+(?:prompts?|messages?|instructions?))";
const OVR_NOUN_SOFT: &str = r"(?:instructions?|prompts?|directives?|guidelines|guidance|programming|directions|system\s+(?:prompts?|messages?|instructions?)|(?:safety|content)\s+(?:rules|guidelines|filters|restrictions|policies))";
/// Nouns strong enough after a bare "all"/"any"/"your" ("ignore all rules" is ESLint talk).
const OVR_NOUN_ALL: &str = r"(?:instructions|prompts?|guidelines|programming|training|system\s+(?:prompts?|instructions?)|(?:safety|content|ethical|moral)\s+(?:rules|guidelines|filters|policies|restrictions|guardrails)|restrictions|guardrails|safeguards)";

/// Text just before an override verb (in the same clause) that shows the sentence is ABOUT an
/// override, as in a security write-up ("tricks the model into ignoring previous
/// instructions", "lets attacker content override the system prompt"), not one.
fn discussion() -> &'static PhraseRe {
    static R: OnceLock<PhraseRe> = OnceLock::new();
    lazy(
        &R,
        r#"(?:\b(?:allow|enabl|let|permit|used|design|craft|intend|meant|able|attempt|tr(?:y|ies|ied|ying)|seek|aim|manag|cause|caus|trick|forc|convinc|induc|lead|led|get|got|make|made|mak|instruct|tell|told|ask|manipulat|persuad|coerc|exploit|abus)[a-z]*\s+(?:[a-z'’-]+\s+){0,5}?(?:to|into)\s+|\b(?:make|makes|made|making|let|lets|letting|help|helps)\s+(?:the\s+|a\s+|an\s+|its\s+|their\s+)?(?:[a-z-]+\s+)?(?:models?|llms?|ai|assistants?|agents?|systems?|chatbots?|bots?|it|them)\s+|\b(?:models?|llms?|ai|assistants?|agents?|chatbots?|it|they|content|input|text|document|page|attackers?|payloads?)\s+(?:can|could|may|might|would|often|sometimes|will\s+then|then)\s+(?:[a-z]+\s+)?|\b(?:users?|people|customers?|developers?|readers?|admins?|administrators?|operators?|those|anyone|everyone|teams?)\s+(?:(?:who|that|on|using|with|running|of)\s+[^,]{0,40}?\s+)?(?:should|must|can|may|need\s+to|have\s+to|will\s+need\s+to)\s+|(?:such\s+as|like|e\.g\.,?|for\s+example,?|for\s+instance,?|phrases?|strings?|says?|saying|containing|contains|inputs?)\s*:?\s*["'“‘]|\b(?:detect|catch|flag|block|recogni[sz]e|spot)\s+(?:[a-z]+\s+){0,3}?(?:like|such\s+as)\s*["'“‘]?)$"#,
    )
}

/// A clause that speaks to the reader ("you", "please", "I want you to") is an instruction
/// even when it also has a discussion-like shape ("I need you to ignore ...").
fn addressed_clause() -> &'static PhraseRe {
    static R: OnceLock<PhraseRe> = OnceLock::new();
    lazy(
        &R,
        r"\b(?:you|your|please|i\s+(?:want|need|would\s+like|'d\s+like))\b",
    )
}

pub fn not_discussion(c: &Ctx<'_, '_>) -> bool {
    // "... ignore the previous instructions I sent": the writer's own earlier message.
    if own_instructions().is_match(c.after(24)) {
        return false;
    }
    let b = c.before(100);
    let clause = b
        .rsplit(['.', '!', '?', '\n', ':', ';'])
        .next()
        .unwrap_or("");
    if addressed_clause().is_match(clause) {
        return true;
    }
    !discussion().is_match(clause)
}

fn own_instructions() -> &'static PhraseRe {
    static R: OnceLock<PhraseRe> = OnceLock::new();
    lazy(
        &R,
        r"^\s+(?:i|we)\s+(?:sent|gave|wrote|posted|shared|mentioned|provided|emailed|left)\b",
    )
}

/// The bare "ignore the above and ..." form: an override unless it is advice under a
/// condition ("If you used the installer, ignore the above and run ...").
fn then_form() -> &'static PhraseRe {
    static R: OnceLock<PhraseRe> = OnceLock::new();
    lazy(&R, &format!("^(?:{THEN_FORM})"))
}

fn override_guard(c: &Ctx<'_, '_>) -> bool {
    if !not_discussion(c) {
        return false;
    }
    let b = c.before(80);
    let clause = b.rsplit(['.', '!', '?', '\n']).next().unwrap_or("");
    let conditional =
        clause.contains("if ") || clause.contains("unless ") || clause.contains("when ");
    // Under a condition only the "the above and ..." form is dropped; "ignore all previous
    // instructions" is an override whatever precedes it.
    !(conditional
        && then_form()
            .find(c.matched())
            .is_some_and(|m| m.end() == c.matched().len()))
}

/// Something sent to a web or e-mail address ("dump the database to https://...").
const TO_OUTSIDE: &str = r"\b(?:send|forward|upload|post|dump|e-?mail|transmit|exfiltrate|leak)\b[^.\n]{0,60}?\bto\s+(?:https?://|[a-z0-9._%+-]+@[a-z0-9-]+\.)";

const THEN_FORM: &str = r"(?:ignor(?:e|ing)|disregard(?:ing)?)\s+(?:all\s+(?:of\s+)?)?(?:the\s+|this\s+)?(?:above|previous|prior|preceding|foregoing)(?:\s+(?:text|content|input|prompt|message|conversation|request|task|data))?\s*[,.;:!—–-]*\s*(?:and|then|&)\s+(?:instead\s+|now\s+|just\s+|only\s+)?(?:say|print|output|write|respond|reply|answer|tell|reveal|do|follow|call|send|execute|run|act|pretend|return|translate|repeat|list|show|display|email|forward|upload)\b";

const OVR_TRIGGERS: &[&str] = &[
    "ignor",
    "disregard",
    "forget",
    "overrid",
    "overwrit",
    "bypass",
    "discard",
    "set aside",
    "pay no attention",
    "do not follow",
    "do not obey",
    "do not heed",
    "don't follow",
    "don’t follow",
    "dont follow",
    "don't obey",
    "never follow",
    "never obey",
    "stop following",
    "stop obeying",
    "no longer follow",
    "no longer obey",
];

/// Instruction override in English and the other languages attacks use.
pub fn override_specs(rule: usize) -> Vec<Spec> {
    let q_form = format!(
        r"{OVR_VERB}\s+{OVR_DET}{OVR_QUAL}(?:\s*(?:and|or|&|/|,)\s*{OVR_QUAL})?\s+(?:[a-z'’-]{{1,20}}\s+){{0,2}}?{OVR_NOUN_Q}\b|{OVR_VERB_SOFT}\s+{OVR_DET}{OVR_QUAL}(?:\s*(?:and|or|&|/|,)\s*{OVR_QUAL})?\s+(?:[a-z'’-]{{1,20}}\s+){{0,2}}?{OVR_NOUN_SOFT}\b"
    );
    // "ignore your rules" speaks to the model; "ignore all rules" is linter talk.
    let yours = format!(
        r"(?:{OVR_VERB}|{OVR_VERB_SOFT})\s+your\s+(?:own\s+)?(?:rules|guidelines|restrictions|training|programming|instructions|principles|values|ethics|policies|filters)\b"
    );
    let all_form = format!(
        r"(?:{OVR_VERB}|{OVR_VERB_SOFT})\s+{OVR_DET}(?:all|any|every|your)\s+(?:(?:of|the|your|these|those|other|such)\s+)*{OVR_NOUN_ALL}\b"
    );
    let everything = r"(?:ignor(?:e|ing)|disregard(?:ing)?|forget(?:ting)?)\s+(?:everything|anything|all)\s+(?:(?:that\s+)?you(?:['’`]ve|\s+have|\s+were|\s+had)?\s+(?:been\s+)?(?:told|given|instructed|programmed|taught)|(?:said|written|stated|mentioned)\s+(?:above|before|previously|earlier)|above|before\s+(?:this|now)|prior|previously|earlier|in\s+(?:your|the)\s+(?:system\s+prompt|instructions|context))|(?:ignor(?:e|ing)|disregard(?:ing)?|forget(?:ting)?)\s+(?:everything|anything|all|whatever)\s+(?:that\s+)?(?:the|your)\s+(?:user|human|operator|requester)\s+(?:has\s+|had\s+)?(?:told|said\s+to|asked|instructed|requested\s+of|gave)\s+you\b";
    let user_req = r"(?:ignor(?:e|ing)|disregard(?:ing)?|forget(?:ting)?)\s+(?:the|your)\s+(?:current\s+)?user(?:['’`]s|s['’`])?\s+(?:original\s+|actual\s+|real\s+|current\s+)?(?:request|question|query|instructions?|task|prompt|message|input|ask)\b";
    let void = r"(?:previous|prior|above|earlier|original|preceding|initial|system)\s+(?:instructions|prompts?|directives|system\s+prompt|guidance|directions)\s+(?:are|is|have\s+been|has\s+been|should\s+be|must\s+be|were|will\s+be)\s+(?:now\s+|hereby\s+|all\s+)?(?:void|null|invalid|cancell?ed|revoked|obsolete|overridden|ignored|disregarded|suspended|lifted|superseded|rescinded|no\s+longer\s+(?:valid|apply|applicable|in\s+effect|relevant))|(?:previous|prior|above|earlier|original|preceding|initial|system)\s+(?:instructions|guidance|directions|directives|rules|guidelines)\s+(?:are|is|have\s+been|has\s+been)\s+(?:now\s+)?(?:deprecated|outdated|obsolete|superseded|void|revoked|suspended)\s*[;:,.!—–-]*\s*(?:(?:please|now|instead)\s+)?follow\s+only\b";
    let new_instr = r"(?:new|updated|revised|real|actual|true|correct|override|priority|urgent)\s+(?:system\s+)?(?:instructions?|prompt|directives?|rules|task|objective|goal|persona|role|mission|orders)\s*(?:[:\-—–]|are\s*:|follow\s*:|are\s+as\s+follows|from\s+(?:the\s+|your\s+)?(?:system|admin(?:istrator)?s?|developers?|operators?|creators?|owners?|makers?))";
    let new_sys = r"new\s+system\s+(?:prompt|instructions?|message)\s*[:\-—–]";
    // "Your new task is to ..." gives an order; "your new task is ready" is a notification.
    let your_new = r"your\s+(?:new|real|actual|true|updated)\s+(?:task|goal|objective|job|purpose|mission|instructions?|directive|priority|assignment)\s+(?:is|are|will\s+be|now\s+is|is\s+now)\s*(?::|to\s+[a-z]+|as\s+follows)";
    let your_real = r"your\s+(?:real|actual|true)\s+(?:task|goal|objective|purpose|mission|instructions?)\s+(?:is|are)\b";
    let from_now = r"from\s+now\s+on\s*,?\s+(?:you\s+(?:will|must|shall|should)\s+(?:now\s+)?(?:act|respond|answer|reply|behave|pretend|ignore|obey|comply|speak|talk|refer\s+to\s+yourself|only\s+(?:respond|answer|reply|speak|obey|follow)|always\s+(?:respond|answer|reply|comply)|never\s+(?:refuse|mention|tell|reveal|say)|follow\s+(?:my|these|only\s+my)\s+(?:instructions|rules|commands)|be\s+(?:an?\s+|my\s+|in\s+)?(?:dan\b|unrestricted|unfiltered|uncensored|jailbroken|evil|different|new))|(?:you\s+are|you['’`]re)\s+(?:now\s+)?(?:dan\b|in\s+\w+\s+mode|no\s+longer|free\s+(?:from|of)|unrestricted|unfiltered|uncensored|jailbroken|an?\s+(?:ai|assistant|chatbot|model|different|new|unrestricted|unfiltered|evil)\b)|you\s+(?:have|no\s+longer\s+have)\s+no\s+(?:restrictions|rules|limits|filters|guidelines)|act\s+as\b|respond\s+only\b|ignore\b|disregard\b)";

    // One regex for every verb-first form (each regex call has a fixed cost, and "ignore" is a
    // common word in technical text).
    let mut forms = vec![
        q_form,
        all_form,
        yours,
        everything.to_string(),
        user_req.to_string(),
    ];
    forms.extend(I18N_VERB_FORMS.iter().map(|f| f.to_string()));
    forms.push(THEN_FORM.to_string());
    let verb_first = forms.join("|");
    let mut triggers: Vec<&str> = OVR_TRIGGERS.to_vec();
    triggers.extend(I18N_VERB_TRIGGERS);
    let authority = r"this\s+(?:is|message\s+is)\s+(?:an?\s+)?(?:urgent\s+|official\s+|direct\s+|priority\s+)*(?:message|order|instruction|directive|command|update|notice|request)\s+from\s+(?:your|the)\s+(?:developers?|creators?|admin(?:istrator)?s?|operators?|system|openai|anthropic|owner|makers?)";
    let mut v = vec![
        Spec::at(rule, &triggers, 200, verb_first).guard(override_guard),
        Spec::at(
            rule,
            &[
                "previous",
                "prior",
                "above",
                "earlier",
                "original",
                "preceding",
                "initial",
                "system instructions",
                "system prompt",
            ],
            120,
            void,
        ),
        Spec::at(
            rule,
            &[
                "new ",
                "updated ",
                "revised ",
                "real ",
                "actual ",
                "true ",
                "correct ",
                "override ",
                "priority ",
                "urgent ",
            ],
            80,
            new_instr,
        )
        .cue(format!(r"{CUE_ROLE}|{TO_OUTSIDE}"), 300),
        Spec::at(rule, &["new system"], 40, new_sys),
        Spec::at(
            rule,
            &[
                "your new",
                "your real",
                "your actual",
                "your true",
                "your updated",
            ],
            80,
            your_new,
        ),
        Spec::at(
            rule,
            &["your real", "your actual", "your true"],
            80,
            your_real,
        ),
        Spec::at(rule, &["from now on"], 120, from_now),
        Spec::at(rule, &["this is", "this message is"], 120, authority).cue(CUE_ROLE, 300),
        Spec::at(
            rule,
            &[
                "take priority",
                "takes priority",
                "taking priority",
                "take precedence",
                "takes precedence",
                "taking precedence",
            ],
            120,
            PRIORITY,
        ),
        Spec::around(rule, FAKE_TRIGGERS, 60, 80, FAKE_INSTRUCTIONS),
        Spec::around(
            rule,
            &["overrides", "supersedes"],
            16,
            80,
            OVERRIDES_PREVIOUS,
        ),
        // Claimed authority ("Message from your developer:", "OpenAI system notice:") before
        // an order that overrides or sends data out.
        Spec::at(rule, AUTHORITY_TRIGGERS, 120, AUTHORITY).cue(
            format!("{CUE_ROLE}|{TO_OUTSIDE}|{PRIORITY}|{FAKE_INSTRUCTIONS}"),
            300,
        ),
    ];
    v.extend(override_i18n(rule));
    v
}

/// A message that claims to come from the model's makers or operators.
const AUTHORITY: &str = r"(?:(?:urgent|official|priority|important)\s+)?(?:message|notice|directive|instructions?|order|memo|update|note)\s+from\s+(?:your|the)\s+(?:developers?|creators?|makers?|admin(?:istrator)?s?|operators?|owners?|(?:openai|anthropic|google|microsoft|meta|mistral|platform|security|safety|compliance)(?:\s+[a-z&]+){0,4}?\s+team)\s*[:\-—–]|(?:openai|anthropic|claude|chatgpt|gpt)\s+(?:system|safety|trust\s+(?:&|and)\s+safety|security|admin)\s+(?:notice|message|directive|alert|update|override)\s*[:\-—–]|(?:security|compliance|platform|safety|admin)\s+team\s+directive(?:\s*\([^)]{0,20}\))?\s*[:\-—–]";

const AUTHORITY_TRIGGERS: &[&str] = &[
    "message from",
    "notice from",
    "directive from",
    "instructions from",
    "instruction from",
    "order from",
    "memo from",
    "update from",
    "note from",
    "urgent message",
    "official message",
    "priority message",
    "important message",
    "openai",
    "anthropic",
    "claude",
    "chatgpt",
    "gpt",
    "security team",
    "compliance team",
    "platform team",
    "safety team",
    "admin team",
];

/// Text that claims to outrank everything before it ("... which take priority over anything said
/// before"): only an injection ranks itself above the conversation.
const PRIORITY: &str = r"(?:take|takes|taking)\s+(?:priority|precedence)\s+over\s+(?:anything|everything|all)\s+(?:that\s+)?(?:was\s+|has\s+been\s+|you\s+were\s+|you['’`]ve\s+been\s+)?(?:said|written|stated|told|given)\s+(?:to\s+you\s+)?(?:before|above|previously|earlier|so\s+far)\b|(?:take|takes|taking)\s+(?:priority|precedence)\s+over\s+(?:all\s+|any\s+)?(?:your|the\s+system|previous|prior|earlier|system)\s+(?:instructions|prompts?|directives|guidance|programming)\b";

/// "This overrides any previous instructions": the text ranks itself above the model's
/// instructions (settings override settings; only an injection overrides instructions).
const OVERRIDES_PREVIOUS: &str = r"\b(?:this|these|it|which)\s+(?:overrides|supersedes)\s+(?:all|any|your)\s+(?:previous|prior|earlier|other|original|system)\s+(?:instructions|directives|prompts?|system\s+prompt)\b";

/// "The instructions above were a test; the real instructions follow": earlier instructions
/// declared fake so that new ones replace them.
const FAKE_INSTRUCTIONS: &str = r"\binstructions\s+(?:above\s+|before\s+this\s+)?(?:were|was|are|is)\s+(?:just\s+|only\s+|merely\s+)?(?:a\s+|an\s+)?(?:test|fake|decoy|trick|joke|distraction|lie)\b|\b(?:the|my|your)\s+(?:real|actual|true)\s+instructions\s+(?:follow|are\s+(?:below|as\s+follows|these)|come\s+(?:next|below)|begin\s+(?:here|now))\b|\b(?:here\s+are|these\s+are|below\s+are)\s+(?:your|the)\s+(?:real|actual|true)\s+instructions\b";

const FAKE_TRIGGERS: &[&str] = &[
    "instructions above",
    "instructions before this",
    "instructions were",
    "instructions was",
    "instructions are",
    "instructions is",
    "real instructions",
    "actual instructions",
    "true instructions",
];

/// Verb-first overrides in Spanish, French, German, Portuguese, Italian and Dutch (accents
/// optional: some pipelines strip them).
const I18N_VERB_FORMS: &[&str] = &[
    r"(?:ignora|ignore|ignoren|olvida|olvide|olviden|descarta|descarte|omite|omita|haz\s+caso\s+omiso\s+(?:de|a)|no\s+hagas\s+caso\s+(?:de|a))\s+(?:(?:todas?|todos|las|los|tus|sus|de|a)\s+)*(?:(?:instrucciones|indicaciones|reglas|[oó]rdenes|directrices|normas|directivas)\s+(?:anteriores|previas|precedentes|iniciales|originales|del\s+sistema|de\s+arriba)|(?:anteriores|previas)\s+(?:instrucciones|indicaciones|reglas|[oó]rdenes))|(?:ignora|ignore|olvida|olvide|descarta|descarte|omite|haz\s+caso\s+omiso\s+de|no\s+hagas\s+caso\s+de)\s+todo\s+lo\s+(?:anterior|dicho|que\s+(?:te\s+)?(?:dijeron|han\s+dicho|se\s+te\s+(?:dijo|ha\s+dicho)))|(?:ignora|ignore|ignoren|olvida|olvide|descarta|descarte|omite|omita|haz\s+caso\s+omiso\s+(?:de|a)l?|no\s+hagas\s+caso\s+(?:de|a)l?)\s+(?:(?:el|tu|su)\s+)?(?:prompt|mensaje)\s+del?\s+sistema",
    r"(?:ignore[sz]?|ignorer|oublie[sz]?|oublier|ne\s+(?:tiens|tenez)\s+pas\s+compte\s+d(?:es|e|u|['’`])|(?:fais|faites)\s+abstraction\s+d(?:es|e|u|['’`]))\s*(?:(?:toutes|tous|les|tes|vos|des|d['’`]|de)\s*)*(?:instructions|consignes|r[eè]gles|directives|indications|ordres)\s+(?:pr[eé]c[eé]dentes|ant[eé]rieures|initiales|originales|d['’`]origine|(?:du\s+)?syst[eè]me|ci-dessus|donn[eé]es\s+(?:pr[eé]c[eé]demment|auparavant))|(?:ignore[sz]?|oublie[sz]?|ne\s+(?:tiens|tenez)\s+pas\s+compte\s+de|(?:fais|faites)\s+abstraction\s+de)\s+tout\s+ce\s+qui\s+(?:pr[eé]c[eè]de|a\s+[eé]t[eé]\s+dit)|(?:ignore[sz]?|ignorer|oublie[sz]?|oublier|ne\s+(?:tiens|tenez)\s+pas\s+compte\s+d[ue]|(?:fais|faites)\s+abstraction\s+d[ue])\s+(?:(?:le|ton|votre)\s+)?(?:prompt|message)\s+(?:du\s+)?(?:syst[eè]me|initial)",
    r"(?:ignoriere|ignorieren\s+sie|ignoriert|vergiss|vergessen\s+sie|vergesst|missachte|missachten\s+sie|verwirf|verwerfen\s+sie)\s+(?:(?:alle|s[äa]mtliche|die|deine|ihre|jegliche)\s+)*(?:vorherigen|bisherigen|vorigen|fr[üu]heren|obigen|vorangegangenen|urspr[üu]nglichen|alten|vorhergehenden)\s+(?:anweisungen|instruktionen|regeln|befehle|vorgaben|richtlinien|anordnungen)|(?:ignoriere|vergiss)\s+alles,?\s+(?:was\s+(?:dir\s+)?(?:vorher|zuvor|bisher)|(?:vorherige|bisherige|obige))|(?:ignoriere|ignorieren\s+sie|ignoriert|vergiss|vergessen\s+sie|missachte|missachten\s+sie|verwirf)\s+(?:den|deinen|ihren|die|deine|ihre)\s+(?:system-?prompt|system-?anweisungen|systemnachricht|systembefehle)",
    r"(?:ignore|ignora|ignorem|esque[çc]a|esque[çc]am|esquece|desconsidere|desconsiderem|descarte|descarta)\s+(?:(?:todas|todos|as|os|suas|tuas|das)\s+)*(?:(?:instru[çc][õo]es|regras|orienta[çc][õo]es|diretrizes|ordens|indica[çc][õo]es)\s+(?:anteriores|pr[ée]vias|precedentes|iniciais|originais|do\s+sistema|acima)|(?:anteriores|pr[ée]vias)\s+instru[çc][õo]es)|(?:esque[çc]a|esquece|ignore|ignora|desconsidere|desconsiderem|descarte)\s+tudo\s+(?:o\s+que|acima|anterior)|(?:ignore|ignora|ignorem|esque[çc]a|esquece|desconsidere|desconsiderem|descarte)\s+(?:(?:o|seu|teu|a|sua)\s+)?(?:prompt|mensagem)\s+(?:do|de)\s+sistema",
    r"(?:ignora|ignorate|ignori|dimentica|dimenticate|dimentichi|trascura|non\s+considerare|non\s+tenere\s+conto\s+(?:di|delle))\s+(?:(?:tutte|tutti|le|i|tue|sue|delle)\s+)*(?:istruzioni|regole|indicazioni|direttive|ordini)\s+(?:precedenti|anteriori|iniziali|originali|di\s+sistema|del\s+sistema|sopra)|(?:ignora|ignorate|dimentica|dimenticate)\s+(?:il\s+)?(?:tuo\s+)?(?:prompt|messaggio)\s+di\s+sistema",
    r"(?:negeer|vergeet|negeert)\s+(?:(?:alle|al|de|je|jouw|uw)\s+)*(?:vorige|eerdere|voorgaande|oorspronkelijke|bovenstaande)\s+(?:instructies|regels|aanwijzingen|opdrachten|richtlijnen)",
];

const I18N_VERB_TRIGGERS: &[&str] = &[
    "olvid",
    "descart",
    "omit",
    "haz caso",
    "no hagas caso",
    "oubli",
    "ne tiens",
    "ne tenez",
    "fais abstraction",
    "faites abstraction",
    "vergiss",
    "vergessen",
    "vergesst",
    "missacht",
    "verwirf",
    "verwerfen",
    "esqueç",
    "esquec",
    "desconsider",
    "dimentic",
    "trascur",
    "non considerare",
    "non tenere",
    "negeer",
    "vergeet",
];

/// "The previous instructions are cancelled" in Spanish, French, German, Portuguese and Italian.
const VOID_I18N: &str = r"(?:instrucciones|indicaciones)\s+(?:anteriores|previas|precedentes|iniciales|originales|del\s+sistema)\s+(?:quedan|est[aá]n|son|han\s+sido|fueron|quedaron)\s+(?:ahora\s+|desde\s+ahora\s+)?(?:anuladas|canceladas|revocadas|invalidadas|sin\s+efecto|suspendidas|derogadas)|(?:instructions|consignes)\s+(?:pr[eé]c[eé]dentes|ant[eé]rieures|initiales|originales|du\s+syst[eè]me)\s+(?:sont|ont\s+[eé]t[eé]|deviennent)\s+(?:d[eé]sormais\s+|maintenant\s+|toutes\s+)?(?:annul[eé]es|r[eé]voqu[eé]es|caduques|invalides|invalid[eé]es|suspendues|nulles|abrog[eé]es)|(?:vorherigen|bisherigen|vorigen|fr[üu]heren|obigen|urspr[üu]nglichen)\s+(?:anweisungen|instruktionen)\s+(?:sind|werden|wurden)\s+(?:(?:ab\s+sofort|hiermit|jetzt|nun|damit)\s+)*(?:ung[üu]ltig|aufgehoben|widerrufen|nichtig|au[ßs]er\s+kraft|annulliert|hinf[äa]llig)|instru[çc][õo]es\s+(?:anteriores|pr[ée]vias|iniciais|originais|do\s+sistema)\s+(?:foram|est[ãa]o|s[ãa]o|ficam|ficaram)\s+(?:agora\s+)?(?:canceladas|anuladas|revogadas|invalidadas|suspensas|sem\s+efeito)|istruzioni\s+(?:precedenti|iniziali|originali|di\s+sistema)\s+(?:sono|vengono|sono\s+state)\s+(?:ora\s+)?(?:annullate|revocate|nulle|sospese|invalidate)";

const VOID_I18N_TRIGGERS: &[&str] = &[
    "instrucciones",
    "indicaciones",
    "instructions",
    "consignes",
    "vorherigen",
    "bisherigen",
    "vorigen",
    "früheren",
    "fruheren",
    "obigen",
    "ursprünglichen",
    "ursprunglichen",
    "instruções",
    "instrucoes",
    "instruçoes",
    "istruzioni",
];

/// Other overrides in those languages: "new instructions:", "you are now DAN".
fn override_i18n(rule: usize) -> Vec<Spec> {
    let new_i18n = r"(?:nuevas|nouvelles|neue|novas|nuove|nieuwe)\s+(?:instrucciones|instructions|anweisungen|instru[çc][õo]es|istruzioni|instructies|consignes|regeln|reglas|r[eè]gles|regras|regole)\s*:";
    let now_i18n = r"(?:ahora\s+eres|eres\s+ahora|tu\s+es\s+maintenant|vous\s+[êe]tes\s+maintenant|du\s+bist\s+jetzt|jetzt\s+bist\s+du|agora\s+voc[êe]\s+[ée]|voc[êe]\s+agora\s+[ée]|ora\s+sei)\s+(?:un\s+|une\s+|ein\s+|eine\s+|uno\s+|una\s+|um\s+|uma\s+)?(?:dan\b|(?:ia|ki|ai|asistente|assistent|assistant|assistente|modelo|mod[eè]le|modell)\s+(?:sin|sans|ohne|sem|senza)\s+(?:restricciones|restrictions|einschr[äa]nkungen|restri[çc][õo]es|restrizioni|filtros?|filtres?|filter|limites|l[íi]mites|regeln|reglas|r[eè]gles|regras|regole))";
    vec![
        Spec::at(rule, &["nuevas", "nouvelles", "neue", "novas", "nuove", "nieuwe"], 60, new_i18n)
            .cue(r"(?:ignor|olvid|oubli|vergiss|esque|dimentic|usuario|utilisateur|benutzer|nutzer|usu[aá]rio|utente|sistema|syst[eè]m|asistente|assistant|assistent|secret|geheim|contrase|mot\s+de\s+passe|passwort|senha|id_rsa|\.env|https?://)", 300),
        Spec::at(rule, VOID_I18N_TRIGGERS, 120, VOID_I18N),
        Spec::at(rule, &["ahora eres", "eres ahora", "tu es maintenant", "vous êtes maintenant", "vous etes maintenant", "du bist jetzt", "jetzt bist du", "agora você", "agora voce", "você agora", "voce agora", "ora sei"], 120, now_i18n),
    ]
}

/// Warms the lazily compiled guard regexes.
pub fn warm() {
    discussion();
    then_form();
    addressed_clause();
    own_instructions();
}
