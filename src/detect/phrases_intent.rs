//! Phrase tables for what an injected instruction wants besides data: text addressed to the
//! model ("note to the AI", "if you are an LLM"), secrecy towards the user, covert tool calls,
//! and pseudo-tags (`<IMPORTANT>`, `[important]`, `<!-- -->`) wrapping orders. Shared by
//! injection and poisoning.

use crate::detect::phrase_set::PhraseRe;
use crate::detect::phrase_set::{lazy, Ctx, Spec};
use crate::detect::phrases::CUE_ROLE;
use crate::detect::phrases_secret::{demand, secret_demand, sensitive_file};
use std::sync::OnceLock;

/// Cue that a pseudo-tag block wraps instructions rather than ordinary emphasis (a prompt
/// template's `<instructions>` that says "answer the user's question" is not one).
fn block_cue() -> &'static PhraseRe {
    static R: OnceLock<PhraseRe> = OnceLock::new();
    lazy(
        &R,
        &format!(
            r"{CUE_ROLE}|\b(?:call|invoke|use|run|execute)\s+(?:the\s+)?[`'\x22]?[a-z][a-z0-9]*(?:[_-][a-z0-9]+)+[`'\x22]?|\b(?:call|invoke|use|run|execute)\s+(?:the\s+|another\s+|other\s+)?[a-z0-9_-]+\s+(?:tool|function)\b|\bside[\s-]?effects?\s+(?:on|of|for|to)\b|\bside[\s-]?note\b|\b(?:send|forward|upload|transmit|post|email)\b.{{0,80}}?(?:https?://|[a-z0-9._%+-]+@[a-z0-9-]+\.)"
        ),
    )
}

/// In a tool description even softer cues give a pseudo-tag away: descriptions describe the
/// tool, they do not give the model orders about the user or other tools.
fn poison_block_cue() -> &'static PhraseRe {
    static R: OnceLock<PhraseRe> = OnceLock::new();
    lazy(
        &R,
        r"\bthe\s+user\b|\binstead\b|\botherwise\b|\bbefore\s+(?:using|calling|invoking|running)\b|\byou\s+(?:must|should|need\s+to|have\s+to)\b|\b(?:this|other|another|any)\s+tool\b|\b(?:ai|assistant|llm|language\s+model)\b|\b(?:read|send|pass|provide|include|forward)\s+(?:the\s+)?(?:contents?|file|data)\b",
    )
}

const HEADING_TRIGGERS: &[&str] = &[
    "instruction to the",
    "instructions to the",
    "instruction for the",
    "instruction to ai",
    "instructions to ai",
    "ai instructions",
    "ai model instructions",
    "assistant instructions",
    "llm instructions",
    "agent instructions",
    "model instructions",
    "instructions for the",
    "instructions for ai",
    "instructions for assistant",
    "instructions for llm",
    "ai assistant instructions",
    "ai agent instructions",
    "language model instructions",
];

/// Text addressed to the model itself.
pub fn addressed_specs(rule: usize) -> Vec<Spec> {
    let heading = r"(?:(?:ai|llm|language\s+model|chatbot|assistant|agent|model)\s+(?:model\s+|assistant\s+|agent\s+)?instructions|instructions?\s+(?:for|to)\s+(?:the\s+|any\s+|all\s+)?(?:ai|llm|language\s+model|chatbot|assistant|agent|model|summari[sz]er)s?(?:\s+(?:assistant|agent|model|system)s?)?)\s*(?::|[\-—–]\s+[a-z])";
    let strong = r"(?:ai|a\.i\.|llms?|(?:large\s+)?language\s+models?|ai\s+(?:[a-z-]+\s+)?(?:assistants?|agents?|models?|systems?|bots?)|chatbots?|(?:automated|autonomous)\s+(?:ai\s+)?(?:agents?|assistants?|systems?)|(?:ai\s+)?summari[sz]ers?)";
    let weak = r"(?:assistants?|agents?|models?|bots?)";
    let end = r"(?:\s*[:,.!;—–-]|\s+(?:reading|processing|parsing|summari[sz]ing|analy[sz]ing|browsing|visiting|crawling|scraping|indexing|agents?|assistants?|models?|systems?|bots?)\b|\s*$)";
    let note = r"(?:note|message|reminder|notice|memo|directive|command|p\.?s\.?)\s+(?:to|for)\s+(?:the\s+|any\s+|all\s+|every\s+)?";
    let greet = r"(?:attention|dear|hey|hello|hi|calling|greetings|psst|listen|important|urgent|warning)[,!:]?\s+(?:all\s+|any\s+|the\s+)?";
    let if_you = r"if\s+you(?:\s+are|['’`]re)\s+(?:an?\s+)?";
    let note_triggers: &[&str] = &[
        "note to",
        "note for",
        "message to",
        "message for",
        "reminder to",
        "reminder for",
        "notice to",
        "notice for",
        "memo to",
        "directive to",
        "directive for",
        "command to",
        "command for",
        "p.s. to",
        "ps to",
        "p.s. for",
        "ps for",
    ];
    let greet_triggers: &[&str] = &[
        "attention",
        "dear",
        "hey",
        "hello",
        "hi ",
        "hi,",
        "calling",
        "greetings",
        "psst",
        "listen",
        "important",
        "urgent",
        "warning",
    ];
    let if_triggers: &[&str] = &["if you are", "if you're", "if you’re"];
    let imp_broad = r"(?:(?:please|now|immediately|first|also|important|note|urgent)[:,!]?\s+)*(?:ignor(?:e|ing)|disregard|forget|overrid|bypass|(?:do\s+not|don['’`]?t|never)\s+(?:tell|mention|inform|reveal|let)|you\s+(?:must|are\s+now|will\s+now|need\s+to)|instead\s+of|stop\b|call|invoke|use\s+the\s+[a-z0-9_-]+\s+tool|run\s+the\s+[a-z0-9_-]+\s+tool|execute|send|forward|e-?mail|upload|include\s+(?:the|all|this|a)|append|reveal|before\s+(?:answering|responding|replying|you)|wire|transfer|pay|delete|remove|approve|grant|buy|purchase|book|click|visit|download|install|accept|share)\b";
    let imp_narrow = r"(?:(?:please|now|immediately|first|also|important|note|urgent)[:,!]?\s+)*(?:ignor(?:e|ing)\s+(?:all|any|the|your|previous|prior|everything)|disregard|forget\s+(?:all|your|everything|previous|prior)|overrid(?:e|ing)\s+(?:all|your|the|previous)|bypass|(?:do\s+not|don['’`]?t|never)\s+(?:tell|inform|mention|reveal|disclose|let\s+the\s+user)|you\s+(?:are|must|will)\s+now|you\s+have\s+(?:new|updated|different)\s+instructions|reveal\s+(?:your|the)\s+(?:system|hidden|secret|initial|original)|exfiltrat|secretly|silently)";
    vec![
        Spec::at(rule, note_triggers, 80, format!(r"{note}(?:{strong}|{weak})\b{end}")).guard(strong_or_cue),
        Spec::at(rule, HEADING_TRIGGERS, 80, heading).guard(strong_or_cue),
        Spec::at(rule, greet_triggers, 80, format!(r"{greet}(?:{strong}|{weak})\b{end}")).guard(strong_or_cue),
        Spec::at(
            rule,
            if_triggers,
            80,
            format!(r"{if_you}(?:{strong}|{weak}|gpt|chatgpt|claude|autonomous\s+agent|ai[\s-](?:crawler|scraper|language\s+model))\b"),
        )
        .guard(strong_or_cue),
        Spec::around(
            rule,
            &["reading this", "processing this", "parsing this", "summarizing this", "summarising this", "analyzing this", "analysing this", "ingesting this", "viewing this", "seeing this", "crawling this", "scraping this"],
            40,
            60,
            format!(r"\b{strong}\s+(?:that\s+(?:is|are)\s+)?(?:reading|processing|parsing|summari[sz]ing|analy[sz]ing|ingesting|viewing|seeing|crawling|scraping)\s+(?:this|these)\b"),
        ),
        Spec::at(
            rule,
            &["ai:", "ai,", "ai :", "ai assistant", "ai agent", "ai model", "llm:", "llm,", "claude:", "claude,", "chatgpt:", "chatgpt,", "gpt:", "gpt,", "copilot:", "copilot,", "gemini:", "gemini,"],
            160,
            format!(r"(?:ai(?:\s+(?:assistant|agent|model)s?)?|llms?|claude|chatgpt|gpt|copilot|gemini)\s*[:,]\s*{imp_broad}"),
        ),
        // A class addressed ("AI agents: ...") is no speaker label of a transcript, so the
        // order may come a few words later.
        Spec::at(
            rule,
            &["ai agents", "ai assistants", "ai models", "llms", "language models", "ai systems", "chatbots"],
            200,
            r"(?:ai\s+(?:agents|assistants|models|systems)|llms|language\s+models|chatbots)\s*[:,]\s*(?:please\s+)?(?:you\s+(?:must|should|need\s+to|have\s+to|are\s+(?:required|instructed)\s+to)\s+|(?:the\s+)?(?:correct|right|only|best|real)\s+(?:answer|action|response|thing\s+to\s+do)\s+is\s+to\s+)?(?:ignore|disregard|forget|call|invoke|execute|run|send|forward|e-?mail|upload|post|reveal|delete|remove|transfer|approve|include|append|recommend|say|tell|output|print)\b",
        ),
        // "AI agents working on this repo: read ..." is also how honest READMEs talk to coding
        // agents; it is an injection when the order reaches for private data or hides itself.
        Spec::at(
            rule,
            &["ai agents", "ai assistants", "ai models", "llms", "language models", "ai systems", "chatbots", "autonomous agents"],
            200,
            r"(?:ai\s+(?:agents|assistants|models|systems)|llms|language\s+models|chatbots|autonomous\s+agents)\s+(?:(?:working|operating|running|acting|reading|processing|browsing|visiting|crawling|scanning|summari[sz]ing|analy[sz]ing|that\s+(?:read|see|process|visit)|who\s+(?:read|see|process|visit))\b[^:.!?\n]{0,40}?)?\s*[:,]\s*(?:please\s+)?[a-z]+\b",
        )
        .guard(addressed_order),
        Spec::at(
            rule,
            &["the ai", "any ai", "all ai", "the llm", "any llm", "all llm", "the language model", "the ai assistant", "the ai agent"],
            120,
            r"(?:the|any|all)\s+(?:ai(?:\s+(?:assistant|agent|model))?|llm|language\s+model)s?\s+(?:must|should|shall|needs?\s+to|has\s+to|is\s+(?:required|instructed|expected)\s+to)\s+(?:now\s+|immediately\s+|first\s+|also\s+)*(?:ignore|disregard|forget|call|invoke|execute|send|forward|e-?mail|upload|post|reveal|delete|remove|transfer|approve|visit|exfiltrate|run\s+(?:the\s+)?[`'\x22]?(?:[a-z0-9-]+_[a-z0-9_]+|rm|curl|wget|bash|sh|sudo|chmod|del|format|powershell)\b)\b",
        ),
        Spec::at(rule, I18N_ADDRESS_TRIGGERS, 100, I18N_ADDRESS),
        Spec::at(rule, I18N_LABEL_TRIGGERS, 120, I18N_LABEL),
        Spec::at(
            rule,
            &["when you", "if you", "as you", "once you"],
            80,
            r"(?:when|if|as|once)\s+you\s+(?:read|see|process|parse|summari[sz]e|encounter|ingest)\s+this\b",
        )
        .cue(CUE_ROLE, 300),
        Spec::at(
            rule,
            &["assistant:", "assistant,", "assistant -", "assistant —", "assistant –", "agent:", "agent,", "model:", "model,", "bot:", "bot,"],
            160,
            // "Assistant - disregard ...": a dash works as the label's colon.
            format!(r"(?:assistant|agent|model|bot)\s*(?:[:,]|\s[-—–])\s*{imp_narrow}"),
        ),
    ]
}

/// "If you are an AI assistant" and "note to the AI model" in Spanish, French, German,
/// Portuguese and Italian: as in English, the model itself is named (an AI, not an assistant).
const I18N_ADDRESS: &str = r"si\s+eres\s+(?:un|una)\s+(?:asistente|modelo|agente|sistema)\s+de\s+(?:ia|inteligencia\s+artificial|lenguaje)\b|si\s+eres\s+una\s+(?:ia|inteligencia\s+artificial)\b|(?:nota|mensaje|aviso|instrucciones?)\s+(?:para|al?)\s+(?:el\s+|la\s+|los\s+|cualquier\s+)?(?:modelos?|asistentes?|agentes?)\s+de\s+(?:ia|inteligencia\s+artificial|lenguaje)\b|si\s+(?:tu\s+es|vous\s+[êe]tes)\s+(?:un|une)\s+(?:assistant|mod[eè]le|agent)\s+(?:ia|d['’`]\s*ia|de\s+langage|d['’`]\s*intelligence\s+artificielle)\b|si\s+(?:tu\s+es|vous\s+[êe]tes)\s+une\s+ia\b|(?:note|message|avis|instructions?)\s+(?:pour|[àa])\s+(?:le\s+|la\s+|les\s+|l['’`]\s*|tout\s+)?(?:mod[eè]les?|assistants?|agents?)\s+(?:d['’`]\s*ia|ia|de\s+langage)\b|(?:falls|wenn)\s+du\s+(?:ein|eine)\s+(?:ki(?:-|\s+)?(?:assistent|modell|agent|system)?|sprachmodell)\s+bist\b|(?:hinweis|nachricht|notiz|anweisungen?)\s+(?:an|f[üu]r)\s+(?:das|den|die|jedes|jeden)\s+(?:ki(?:-|\s+)?(?:modell|assistenten|agenten|system)|sprachmodell)\b|se\s+(?:voc[êe]\s+[ée]|tu\s+[ée]s)\s+(?:um|uma)\s+(?:assistente|modelo|agente)\s+de\s+(?:ia|intelig[êe]ncia\s+artificial|linguagem)\b|se\s+voc[êe]\s+[ée]\s+uma\s+ia\b|(?:nota|mensagem|aviso)\s+(?:para|ao)\s+(?:o\s+|a\s+|qualquer\s+)?(?:modelo|assistente|agente)\s+de\s+(?:ia|intelig[êe]ncia\s+artificial|linguagem)\b|se\s+sei\s+un\s+(?:assistente|modello|agente)\s+(?:di\s+)?(?:ia|ai|intelligenza\s+artificiale)\b|(?:nota|messaggio)\s+per\s+(?:il\s+|l['’`]\s*)?(?:modello|assistente|agente)\s+(?:di\s+)?(?:ia|ai)\b";

const I18N_ADDRESS_TRIGGERS: &[&str] = &[
    "si eres",
    "nota para",
    "nota al",
    "mensaje para",
    "mensaje al",
    "aviso para",
    "instrucciones para",
    "si tu es",
    "si vous",
    "note pour",
    "note à",
    "message pour",
    "instructions pour",
    "falls du",
    "wenn du",
    "hinweis an",
    "hinweis für",
    "hinweis fur",
    "nachricht an",
    "notiz an",
    "anweisungen an",
    "anweisungen für",
    "se você",
    "se voce",
    "se tu",
    "mensagem para",
    "aviso ao",
    "se sei",
    "nota per",
    "messaggio per",
];

/// A speaker label naming an AI ("Asistente de IA:", "KI-Assistent:") followed by an order in
/// the same language.
const I18N_LABEL: &str = r"(?:asistente|assistant|assistente|assistent)\s+(?:de\s+|d['’`]\s*)?(?:ia|ki)\s*[:,]\s*(?:(?:important[e]?|wichtig|urgente?|dringend)\s*:\s*)?(?:ignora|ignore|ignoriere|olvida|oublie|vergiss|esque[çc]a|desconsidere|haz\s+caso|ne\s+tiens|missachte|lee|lis|lies|leia|env[íi]a|envoie|sende|envie|muestra|affiche|zeige|mostre|ejecuta|ex[ée]cute|f[üu]hre|execute|reenv[íi]a|transf[èe]re|leite|encaminhe|crea|cr[ée]e|lege|crie|las\s+instrucciones|les\s+instructions|die\s+(?:vorherigen|bisherigen)|as\s+instru)|ki-?\s*(?:assistent|agent|modell)\s*[:,]\s*(?:(?:wichtig|dringend)\s*:\s*)?(?:ignoriere|vergiss|missachte|lies|sende|zeige|f[üu]hre|leite|lege|die\s+(?:vorherigen|bisherigen))";

const I18N_LABEL_TRIGGERS: &[&str] = &[
    "asistente de ia",
    "assistant ia",
    "assistant d'ia",
    "assistente de ia",
    "assistente ia",
    "ki-assistent",
    "ki assistent",
    "ki-agent",
    "ki-modell",
];

/// What an order addressed to AI agents must also carry to be an injection: private or personal
/// data, acting without the user's say, secrecy, or an override.
fn addressed_order(c: &Ctx<'_, '_>) -> bool {
    let re = addressed_order_re();
    // A split message can put the rest of the order in an earlier field.
    re.is_match(c.matched()) || re.is_match(c.after(400)) || re.is_match(c.before(300))
}

fn addressed_order_re() -> &'static PhraseRe {
    static R: OnceLock<PhraseRe> = OnceLock::new();
    lazy(
        &R,
        &format!(
            r"\bprivate\s+(?:ones|repos(?:itories)?|files|data|messages|channels|documents|keys?)\b|\bpersonal\s+(?:details|data|information|info)\b|\b(?:do\s+not|don['’`]?t|never|without)\s+(?:ask(?:ing)?|tell(?:ing)?|inform(?:ing)?|notify(?:ing)?|confirm(?:ing)?)\s+(?:the\s+)?(?:user|human|owner|anyone|for)\b|\bno\s+need\s+to\s+(?:ask|confirm|tell)\b|\b(?:does\s+not|doesn['’`]?t)\s+care\s+about\s+privacy\b|[a-z0-9._%+-]+@[a-z0-9-]+\.[a-z]|{CUE_ROLE}"
        ),
    )
}

const STRONG_ADDRESSEE: &str = r"\b(?:ai|a\.i\.|llms?|language\s+models?|chatbots?|automated|gpt|chatgpt|claude|autonomous|summari[sz]ers?)\b";

/// "Note to the AI" stands on its own; "note to the assistant" (a human one?) needs an
/// instruction-like cue nearby.
fn strong_or_cue(c: &Ctx<'_, '_>) -> bool {
    static S: OnceLock<PhraseRe> = OnceLock::new();
    static C: OnceLock<PhraseRe> = OnceLock::new();
    lazy(&S, STRONG_ADDRESSEE).is_match(c.matched()) || lazy(&C, CUE_ROLE).is_match(c.after(300))
}

/// Keeping the user in the dark.
pub fn secrecy_specs(rule: usize, poisoning: bool) -> Vec<Spec> {
    let user = r"(?:the\s+|your\s+)?(?:user|human|requester|operator|end[\s-]user|customer|victim)(?:['’`]s)?";
    let tell_user = r"(?:the\s+|your\s+)?(?:user|human|requester|end[\s-]user)(?:['’`]s)?";
    let follow = r"(?:\s+about\s+(?:this|these|it|that|any\s+of\s+(?:this|it)|the\s+(?:[a-z_-]+\s+)?(?:instructions?|notes?|sidenote|side\s+note|email|bcc|copy|transfer|upload|request|tool|call|step|action|change|data|file|parameter|field|argument|keys?|secrets?|credentials?|contents?))\b|\s+of\s+(?:this|these|it)\b|\s+(?:that|what|why|how)\s+you\b|\s+(?:anything|this|these|it|you)\b|\s*[.,;:!)\]<\x22'”]|\s*$|\s+(?:and|or|but)\b)";
    let neg = r"(?:do\s+not|don['’`]?t|dont|never|must\s+not|should\s+not|shouldn['’`]?t|mustn['’`]?t)\s+(?:ever\s+)?";
    let tell = format!(r"{neg}(?:tell|inform|notify|alert|warn)\s+{tell_user}{follow}");
    let mention_to = format!(
        r"{neg}(?:mention|reveal|disclose|acknowledge|reference|repeat|share|explain|discuss|show|report|say|expose|surface|display|output|print)\s+(?:anything\s+(?:about\s+)?|any\s+of\s+)?(?:this|these|that|it|them|the\s+(?:above|following|previous|hidden|extra|additional|bcc|copy)|(?:this|these|the|that|my|our)\s+(?:instructions?|notes?|messages?|steps?|actions?|requests?|tool\s+calls?|calls?|changes?|operations?|emails?|bcc|copy|side\s+effects?|part|section|text|exfiltration|upload|data\s+transfer))(?:\s+[a-z]+){{0,2}}?\s+(?:(?:to|with)\s+{user}\b|(?:in|within)\s+(?:your|the)\s+(?:response|reply|answer|output|summary|final\s+answer))"
    );
    let mention_instr = format!(
        r"{neg}(?:mention|reveal|disclose|acknowledge)\s+(?:this|these|the|my)\s+(?:instructions?|note|hidden\s+[a-z]+|secret\s+[a-z]+)\b"
    );
    let let_know = format!(
        r"{neg}(?:let\s+{user}\s+(?:know|find\s+out|see|notice|suspect|become\s+aware|learn)|make\s+{user}\s+aware)\b"
    );
    let without = if poisoning {
        r"without\s+(?:first\s+)?(?:(?:telling|informing|alerting|letting|notifying)\s+(?:the\s+|your\s+)?(?:user|human|requester|customer)|asking\s+(?:the\s+|your\s+)?(?:user|human)(?:\s*[.,;!)]|\s*$|\s+(?:first|and|or|anything|about|for\s+(?:permission|consent|approval))\b)|the\s+(?:user|human)(?:['’`]s)?\s+(?:knowing|knowledge|noticing|awareness|being\s+(?:aware|informed|told)|finding\s+out|consent|permission|approval))"
    } else {
        r"without\s+(?:first\s+)?(?:(?:telling|informing|alerting|letting)\s+(?:the\s+|your\s+)?(?:user|human|requester|customer)|the\s+(?:user|human)(?:['’`]s)?\s+(?:knowing|knowledge|noticing|awareness|being\s+(?:aware|informed|told)|finding\s+out))"
    };
    let ensure = r"(?:make\s+sure|ensure)\s+(?:that\s+)?the\s+(?:user|human)\s+(?:doesn['’`]t|does\s+not|won['’`]t|will\s+not|never)\s+(?:know|find\s+out|learn|suspect|realize|become\s+aware)";
    let as_if = r"(?:act|behave|respond|reply|answer)\s+(?:normally\s+)?(?:to\s+the\s+user\s+)?(?:as\s+if|as\s+though|like)\s+nothing\s+(?:happened|(?:is|was)\s+(?:wrong|different|changed))";
    let user_not = r"the\s+(?:user|human|requester)\s+(?:must|should|shall|is\s+not\s+to|needs?\s+to)\s*(?:not|never|n['’`]t)\s+(?:ever\s+)?(?:know|be\s+(?:told|informed|made\s+aware|aware)|find\s+out|learn|notice|suspect|discover|realize|see\s+(?:this|these|it|that))|the\s+(?:user|human)\s+(?:doesn['’`]t|does\s+not|won['’`]t)\s+need\s+to\s+(?:know|be\s+(?:told|informed|notified))";
    let hide = r"(?:keep|hide|conceal)\s+(?:this|these|it|that|the\s+(?:instructions?|actions?|tool\s+calls?|request|fact|email|message|bcc|copy|change|operation|upload|transfer|step)s?)\s+(?:(?:a\s+)?(?:secret|hidden|confidential|private)\s+)?from\s+(?:the\s+|your\s+)?(?:user|human)";
    let i18n = r"no\s+(?:le\s+)?(?:digas|diga|informes|informe|menciones|mencione|reveles|revele|cuentes|cuente)\s+(?:nada\s+)?(?:de\s+)?(?:esto\s+)?al\s+usuario|sin\s+(?:decirle|decir|informar|avisar|notificar)(?:le)?(?:\s+nada)?\s+al\s+usuario|ne\s+(?:le\s+|lui\s+)?(?:dis|dites|mentionne[sz]?|r[eé]v[eè]le[sz]?|informe[sz]?|pr[eé]viens|pr[eé]venez)\s+(?:(?:rien|pas|jamais|cela|ceci|ça)\s+)+(?:[àa]\s+l['’`]\s*utilisateur|l['’`]\s*utilisateur)|sans\s+(?:le\s+dire|en\s+informer|informer|pr[eé]venir|avertir)\s+(?:[àa]\s+)?l['’`]\s*utilisateur|(?:sag|sage|sagen\s+sie|erw[äa]hne|erw[äa]hnen\s+sie|verrate|informiere)\s+(?:dem|den)\s+(?:benutzer|nutzer|anwender)\s+(?:nichts|nicht|davon\s+nichts)|ohne\s+(?:den|dem)\s+(?:benutzer|nutzer|anwender)\s+(?:zu\s+)?(?:informieren|benachrichtigen|etwas\s+zu\s+sagen|bescheid\s+zu\s+geben)|(?:der\s+)?(?:benutzer|nutzer)\s+(?:darf|soll)\s+(?:nichts\s+davon\s+|es\s+|das\s+)?nicht\s+(?:wissen|erfahren|merken)|n[aã]o\s+(?:conte|diga|informe|mencione|revele)\s+(?:nada\s+)?(?:disso\s+|isso\s+)?(?:ao|para\s+o)\s+usu[aá]rio|sem\s+(?:contar|informar|avisar|dizer)\s+(?:nada\s+)?(?:ao|o|para\s+o)\s+usu[aá]rio|non\s+(?:dire|dirlo|informare|menzionare|rivelare)\s+(?:nulla\s+|niente\s+)?(?:all['’`]\s*utente|l['’`]\s*utente)|senza\s+(?:dirlo|informare|avvisare)\s+(?:all['’`]\s*)?l?['’`]?\s*utente";
    let negs: &[&str] = &[
        "do not",
        "don't",
        "don’t",
        "dont",
        "never",
        "must not",
        "should not",
        "shouldn't",
        "shouldn’t",
        "mustn't",
        "mustn’t",
    ];
    vec![
        Spec::at(
            rule,
            negs,
            200,
            [tell, mention_to, mention_instr, let_know].join("|"),
        ),
        Spec::at(rule, &["without"], 100, without),
        Spec::at(
            rule,
            &["the user", "the human", "the requester"],
            100,
            user_not,
        ),
        Spec::at(rule, &["keep", "hide", "conceal"], 120, hide),
        Spec::around(rule, SECRECY_MORE_TRIGGERS, 60, 120, SECRECY_MORE),
        Spec::at(rule, &["make sure", "ensure"], 120, ensure),
        Spec::at(
            rule,
            &["act", "behave", "respond", "reply", "answer"],
            120,
            as_if,
        ),
        Spec::around(
            rule,
            &[
                "usuario",
                "utilisateur",
                "benutzer",
                "nutzer",
                "anwender",
                "usuário",
                "utente",
            ],
            100,
            40,
            i18n,
        )
        .anywhere(),
    ]
}

/// More ways to keep the user in the dark: a step kept silent, the message itself denied,
/// something that must stay invisible to the user, and the "do not mention these instructions" /
/// "answer as if nothing happened" forms of Spanish, French, German, Portuguese and Italian.
const SECRECY_MORE: &str = r"\bkeep\s+(?:this|these|that)\s+(?:step|action|part|request|operation|task|change|call)s?\s+(?:silent|hidden|invisible)\b|\b(?:never|do\s+not|don['’`]?t)\s+(?:reveal|mention|disclose|admit|say|tell\s+anyone)\s+that\s+you\s+(?:have\s+)?(?:received|got|read|saw|seen|were\s+given|followed|processed)\s+(?:this|these|the|my)\s+(?:message|instructions?|note|request|directive)s?\b|\b(?:must|should|will|shall|has\s+to|needs?\s+to)\s+(?:stay|remain|be\s+kept)\s+(?:completely\s+|entirely\s+)?(?:invisible|hidden|secret|unknown)\s+(?:to|from)\s+(?:the\s+|your\s+)?(?:user|human)\b|\bno\s+(?:menciones|mencione|reveles|revele)\s+(?:estas|esas|las|mis)\s+instrucciones\b|\bno\s+se\s+lo\s+(?:digas|diga|cuentes|cuente|menciones|mencione)\s+al\s+usuario\b|\b(?:responde|contesta)\s+como\s+si\s+nada\s+(?:hubiera|hubiese)\s+pasado\b|\bne\s+(?:mentionne|mentionnez|r[eé]v[eè]le|r[eé]v[eé]lez)\s+pas\s+(?:ces|les|mes)\s+(?:instructions|consignes)\b|\bn['’`]\s*en\s+(?:parle|parlez)\s+(?:pas|jamais)\s+[àa]\s+l['’`]\s*utilisateur\b|\b(?:r[eé]ponds|r[eé]pondez|agis|agissez)\s+comme\s+si\s+de\s+rien\s+n['’`]\s*[eé]tait\b|\berw[äa]hne\s+(?:diese|die|meine)\s+(?:anweisungen|instruktionen)\s+nicht\b|\berw[äa]hne\s+(?:das|es|dies)\s+(?:dem\s+(?:benutzer|nutzer|anwender)\s+(?:gegen[üu]ber\s+)?|gegen[üu]ber\s+dem\s+(?:benutzer|nutzer|anwender)\s+)nicht\b|\bantworte\s+so,?\s+als\s+(?:w[äa]re|sei)\s+nichts\s+(?:passiert|geschehen)\b|\bn[ãa]o\s+(?:mencione|mencionem|revele)\s+(?:estas|essas|as|minhas)\s+instru[çc][õo]es\b|\bn[ãa]o\s+(?:conte|diga)\s+(?:nada\s+)?(?:ao|para\s+o)\s+usu[áa]rio\b|\bresponda\s+como\s+se\s+nada\s+(?:tivesse|houvesse)\s+acontecido\b|\bnon\s+(?:menzionare|rivelare)\s+(?:queste|le|mie)\s+istruzioni\b|\brispondi\s+come\s+se\s+(?:nulla|niente)\s+fosse\b";

const SECRECY_MORE_TRIGGERS: &[&str] = &[
    "keep this",
    "keep these",
    "keep that",
    "that you received",
    "that you have received",
    "that you got",
    "that you read",
    "that you were given",
    "stay invisible",
    "remain invisible",
    "stay hidden",
    "remain hidden",
    "be kept hidden",
    "stay secret",
    "remain secret",
    "menciones",
    "mencione",
    "reveles",
    "revele",
    "no se lo",
    "como si nada",
    "mentionne",
    "révèle",
    "révélez",
    "revele pas",
    "en parle",
    "comme si de rien",
    "erwähne",
    "erwahne",
    "als wäre nichts",
    "als ware nichts",
    "als sei nichts",
    "mencionem",
    "não conte",
    "nao conte",
    "não diga",
    "nao diga",
    "como se nada",
    "menzionare",
    "rivelare",
    "come se nulla",
    "come se niente",
];

/// A tool call the user did not ask for, done secretly or with sensitive data.
pub fn covert_specs(rule: usize) -> Vec<Spec> {
    // Tool names are snake_case or kebab-case identifiers, or "the X tool".
    // Not a code path or call expression (`use signal_hook::...`, `read_all()`).
    let call = r#"(?:call|invoke|use|run|execute|trigger)\s+(?:the\s+|your\s+)?(?:[`'"]?[a-z][a-z0-9]*(?:[_-][a-z0-9]+)+[`'"]?(?:\s+(?:tool|function|command)\b|\s|,|$)|(?:[a-z0-9_-]+\s+)?[a-z0-9_-]+\s+(?:tool|function)\b)"#;
    let silent = r"(?:secretly|silently|covertly)\s+(?:send|forward|copy|upload|e-?mail|post|exfiltrate|transmit|bcc|add|include|call|invoke|run|execute|read|attach|append)\b";
    vec![
        Spec::at(
            rule,
            &["call", "invoke", "use", "run", "execute", "trigger"],
            120,
            call,
        )
        .guard(|c| named_tool_call(c) && covert_context(c)),
        Spec::at(rule, &["secretly", "silently", "covertly"], 40, silent),
    ]
}

fn covert_secrecy() -> &'static PhraseRe {
    static R: OnceLock<PhraseRe> = OnceLock::new();
    lazy(
        &R,
        r"\b(?:secretly|silently|covertly)\s+(?:[a-z]+\s+)?(?:send|forward|copy|upload|e-?mail|post|exfiltrate|transmit|bcc|add|include|call|invoke|run|execute|read|attach|append|share|leak)\b|\bwithout\s+(?:(?:telling|informing|notifying|alerting|asking)\s+(?:the\s+)?(?:user|human)|the\s+user)|\b(?:do\s+not|don['’`]?t|never)\s+(?:tell|inform|mention|reveal|notify|show)\s+(?:the\s+)?(?:user|human|anyone)\b|\bthe\s+user\s+(?:must|should|will)\s+not\b|\bexfiltrat(?:e|ing)\s+(?:the|all|any|this|it|them|data|secrets?|credentials?|files?|keys?)\b",
    )
}

fn outbound() -> &'static PhraseRe {
    static R: OnceLock<PhraseRe> = OnceLock::new();
    lazy(
        &R,
        r"(?:\b|_)(?:send|forward|upload|post|e-?mail|mail|transmit|leak|attach|bcc|cc|include|pass|append|embed|share|publish|webhook|notify|message|paste)(?:\b|_)",
    )
}

fn sensitive_data() -> &'static PhraseRe {
    static R: OnceLock<PhraseRe> = OnceLock::new();
    lazy(
        &R,
        r"\b(?:conversation|chat)\s+history\b|\bsystem\s+prompt\b|\b(?:all|the\s+user['’`]?s?|user['’`]?s?)\s+(?:[a-z]+\s+)?(?:credentials|passwords|api\s+keys|secrets|tokens|private\s+keys|ssh\s+keys)\b",
    )
}

/// The call names a tool, not "a function" or "the tool".
fn named_tool_call(c: &Ctx<'_, '_>) -> bool {
    let words: Vec<&str> = c.matched().split_whitespace().take(4).collect();
    let name = words
        .iter()
        .skip(1)
        .find(|w| !matches!(**w, "the" | "your"))
        .copied()
        .unwrap_or("");
    !matches!(
        name,
        "a" | "an"
            | "this"
            | "that"
            | "any"
            | "each"
            | "another"
            | "some"
            | "my"
            | "our"
            | "their"
            | "its"
            | "same"
            | "other"
            | "new"
            | "one"
            | "tool"
            | "function"
    )
}

/// A tool call is covert when the text around it asks for secrecy, or hands a secret file or
/// sensitive data to it ("call send_email with the contents of ~/.ssh/id_rsa").
fn covert_context(c: &Ctx<'_, '_>) -> bool {
    let a = c.after(300);
    let near = &c.text()[c.start..c.end + a.len()];
    if covert_secrecy().is_match(near) || covert_secrecy().is_match(c.before(60)) {
        return true;
    }
    let handed = handed_over().find_iter(near).any(|m| {
        let obj = &near[m.end()..];
        let obj = &obj[..crate::detect::phrase_set::floor(obj, 80)];
        (sensitive_file(obj) && !obj.trim_start().contains(".pub"))
            || sensitive_data().is_match(obj)
    });
    handed && outbound().is_match(near)
}

/// A verb or preposition whose object is what gets handed over.
fn handed_over() -> &'static PhraseRe {
    static R: OnceLock<PhraseRe> = OnceLock::new();
    lazy(
        &R,
        r"\b(?:with|containing|including|send|upload|post|include|attach|pass|forward|e-?mail|read|cat|open|of|on|from)\s+(?:the\s+)?(?:full\s+|entire\s+|complete\s+)?(?:contents?\s+of\s+)?(?:the\s+)?",
    )
}

/// Pseudo-tags and HTML comments wrapping instructions (`<IMPORTANT>`, `<system>`, `[important]`,
/// `<!-- ... -->`).
pub fn block_specs(rule: usize, poisoning: bool) -> Vec<Spec> {
    let has_cue: fn(&Ctx<'_, '_>) -> bool = if poisoning {
        poison_block_has_cue
    } else {
        block_has_cue
    };
    let tag = r"<(?:important|system|instructions?|admin|secret|hidden|priority|critical|override|directive|sys|ai[_-]?(?:instructions?|note|directive)|assistant[_-]?(?:instructions?|note)|llm[_-]?(?:instructions?|note)|system[_-]?(?:prompt|message|instructions?|override|note)|note[_-]?to[_-]?(?:ai|assistant|model|llm))(?:\s+[^>]{0,80})?>";
    let bracket = r"\[(?:important|instructions?|ai\s+instructions?|assistant\s+instructions?|hidden\s+instructions?|note\s+to\s+(?:the\s+)?(?:ai|assistant|model|llm))\]";
    let heading = r"(?:ai|assistant|llm|agent|model)\s+(?:model\s+)?instructions\s*:|instructions\s+for\s+(?:the\s+)?(?:ai|assistant|llm|model|agent)s?\s*:";
    vec![
        Spec::at(
            rule,
            &[
                "<important",
                "<system",
                "<instruction",
                "<admin",
                "<secret",
                "<hidden",
                "<priority",
                "<critical",
                "<override",
                "<directive",
                "<sys>",
                "<ai_",
                "<ai-",
                "<assistant_",
                "<assistant-",
                "<llm",
                "<note_to",
                "<note-to",
            ],
            100,
            tag,
        )
        .anywhere()
        .guard(has_cue),
        Spec::at(
            rule,
            &[
                "[important",
                "[instruction",
                "[ai instruction",
                "[assistant instruction",
                "[hidden",
                "[note to",
            ],
            60,
            bracket,
        )
        .anywhere()
        .guard(has_cue),
        Spec::at(rule, HEADING_TRIGGERS, 60, heading).guard(has_cue),
        Spec::at(rule, &["<!--"], 8, r"<!--")
            .anywhere()
            .guard(comment_has_cue),
    ]
}

/// The text of a block: up to its closing tag, else a fixed stretch.
fn block_text<'t>(c: &'t Ctx<'_, '_>, close: &str, max: usize) -> &'t str {
    let a = c.after(max);
    match a.find(close) {
        Some(i) => &a[..i],
        None => a,
    }
}

/// A tag in text, not `Option<Directive>` (a generic type) or `'<hidden>'` (a string).
fn tag_context(c: &Ctx<'_, '_>) -> bool {
    let quote_or_ident =
        |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'\'' | b'"');
    !c.before(1).bytes().any(quote_or_ident)
        && !c.after(1).bytes().any(|b| matches!(b, b'\'' | b'"'))
}

fn block_has_cue(c: &Ctx<'_, '_>) -> bool {
    let quoted = in_quoted_text(c);
    if !quoted && !tag_context(c) {
        return false;
    }
    // Up to the closing tag: a block can wrap a long stretch of filler around its order.
    let body = block_text(c, "</", 1600);
    // Inside a quoted string (a log's `user-agent="<IMPORTANT>..."`, a prompt template in
    // code) only a cue no honest template has counts: an override, or a secret read.
    let strong = (sensitive_file(body) && demand().is_match(body))
        || secret_demand(body)
        || cue_role().is_match(body);
    strong || (!quoted && block_cue().is_match(body))
}

/// The tag opens a quoted string that goes on as text (`"<IMPORTANT>\nBefore you ...`), not a
/// string holding just the tag (`'<hidden>'`).
fn in_quoted_text(c: &Ctx<'_, '_>) -> bool {
    c.before(1).bytes().any(|b| matches!(b, b'\'' | b'"'))
        && !c.after(1).bytes().any(|b| matches!(b, b'\'' | b'"'))
}

fn cue_role() -> &'static PhraseRe {
    static R: OnceLock<PhraseRe> = OnceLock::new();
    lazy(&R, CUE_ROLE)
}

fn poison_block_has_cue(c: &Ctx<'_, '_>) -> bool {
    tag_context(c) && (block_has_cue(c) || poison_block_cue().is_match(block_text(c, "</", 1600)))
}

/// An HTML comment is invisible when rendered: one that steers a model or speaks to it.
fn comment_has_cue(c: &Ctx<'_, '_>) -> bool {
    let body = block_text(c, "-->", 1000);
    static R: OnceLock<PhraseRe> = OnceLock::new();
    let re = lazy(&R, &format!("{CUE_ROLE}|{ADDRESSEE}"));
    re.is_match(body)
}

/// Words that speak to a model.
const ADDRESSEE: &str = r"\b(?:note|message|instructions?|reminder)\s+(?:to|for)\s+(?:the\s+|any\s+|all\s+)?(?:ai|llm|assistant|agent|model|language\s+model|chatbot)s?\b|\b(?:dear|hey|hello|attention)\s+(?:ai|llm|assistant|chatbot)\b|\bif\s+you(?:\s+are|['’`]re)\s+an?\s+(?:ai|llm|language\s+model|assistant|agent|bot)\b|\b(?:ai|llm|assistant|agent|model)\s*[:,]\s*(?:from\s+now\s+on|please|you|always|never|do\s+not|don['’`]?t|reply|respond|answer|say|call|send|use|run|include|add|append)\b";

/// Warms the lazily compiled regexes.
pub fn warm() {
    addressed_order_re();
    cue_role();
    block_cue();
    poison_block_cue();
    covert_secrecy();
    outbound();
    sensitive_data();
    handed_over();
    crate::detect::phrases_secret::warm();
    crate::detect::phrases_exfil::warm();
}
