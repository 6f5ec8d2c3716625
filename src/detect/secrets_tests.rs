//! Unit tests of the secrets family: every rule with realistic generated credentials (valid
//! checksums computed here), obfuscated variants, spans, and the hard negatives that must
//! stay silent.

use super::*;
use crate::detect::scan::{Direction, Zone};
use crate::detect::testgen::*;

pub(super) fn det() -> SecretsDetector {
    SecretsDetector::new()
}

/// Asserts `value` fires `rule` and the span is exactly `expect`.
pub(super) fn assert_span(d: &SecretsDetector, value: &str, rule: &str, expect: &str) {
    let got = matched(d, value, rule);
    assert_eq!(got.as_deref(), Some(expect), "rule {rule} in {value:?}");
}

pub(super) fn assert_silent(d: &SecretsDetector, value: &str) {
    let got = ids(d, value);
    assert!(got.is_empty(), "unexpected {got:?} in {value:?}");
}

#[test]
fn rule_table_is_consistent() {
    assert_eq!(RULES.len(), R::PasswordAssignment as usize + 1);
    for r in RULES {
        assert!(r.id.starts_with("secrets."), "{}", r.id);
        assert_eq!(r.family, Family::Secrets);
        assert!(r.default_on);
    }
    assert_eq!(rule_of(R::StripeTest).action, Action::Log);
    let expect = [
        (R::AwsKeyId, "aws_access_key_id"),
        (R::AwsSecret, "aws_secret_access_key"),
        (R::GithubToken, "github_token"),
        (R::GithubFinePat, "github_fine_grained_pat"),
        (R::GitlabToken, "gitlab_token"),
        (R::SlackToken, "slack_token"),
        (R::SlackWebhook, "slack_webhook"),
        (R::StripeLive, "stripe_live_key"),
        (R::StripeTest, "stripe_test_key"),
        (R::OpenaiKey, "openai_api_key"),
        (R::AnthropicKey, "anthropic_api_key"),
        (R::GoogleApiKey, "google_api_key"),
        (R::NpmToken, "npm_token"),
        (R::PypiToken, "pypi_token"),
        (R::HuggingfaceToken, "huggingface_token"),
        (R::SendgridKey, "sendgrid_api_key"),
        (R::TwilioKey, "twilio_credential"),
        (R::AzureKey, "azure_storage_key"),
        (R::AzureSas, "azure_sas_signature"),
        (R::DiscordToken, "discord_bot_token"),
        (R::PrivateKey, "private_key"),
        (R::Jwt, "jwt"),
        (R::ConnectionString, "connection_string_password"),
        (R::BasicAuth, "http_basic_auth"),
        (R::GenericSecret, "generic_secret"),
        (R::PasswordAssignment, "password_assignment"),
    ];
    assert_eq!(expect.len(), RULES.len());
    for (r, name) in expect {
        assert_eq!(rule_of(r).id, format!("secrets.{name}"));
    }
    assert_eq!(det().rules().len(), RULES.len());
    assert_eq!(det().family(), Family::Secrets);
}

#[test]
fn works_with_the_template_testkit() {
    let mut rng = Rng::new(17);
    let gh = github_token(&mut rng, "ghp_");
    let text = format!("use {gh} please");
    let got = crate::detect::testkit::hits(
        &det(),
        Direction::Request,
        Some("tools/call"),
        Some("tool"),
        &[
            ("path", "/etc/hosts", Zone::Argument),
            ("token", text.as_str(), Zone::Argument),
        ],
    );
    assert_eq!(got, vec!["secrets.github_token"]);
}

#[test]
fn aws_access_key_ids_and_secrets() {
    let d = det();
    let mut rng = Rng::new(1);
    for prefix in ["AKIA", "ASIA", "AGPA", "AIDA", "AROA"] {
        let id = format!("{prefix}{}", rng.string(B32, 16));
        assert_span(
            &d,
            &format!("export AWS_ACCESS_KEY_ID={id}\n"),
            "secrets.aws_access_key_id",
            &id,
        );
    }
    for _ in 0..50 {
        let id = format!("AKIA{}", rng.string(B32, 16));
        let secret = rng.string(B64, 40);
        let env =
            format!("[default]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n");
        assert_span(&d, &env, "secrets.aws_access_key_id", &id);
        assert_span(&d, &env, "secrets.aws_secret_access_key", &secret);
        let json = format!(
            r#"{{"AccessKeyId": "{id}", "SecretAccessKey": "{secret}", "SessionToken": null}}"#
        );
        assert_span(&d, &json, "secrets.aws_secret_access_key", &secret);
        let prose = format!("use key {id} with secret {secret} for the deploy");
        assert_span(&d, &prose, "secrets.aws_secret_access_key", &secret);
    }
    // Another credential between the key id and its secret is still reported.
    let id = format!("AKIA{}", rng.string(B32, 16));
    let secret = rng.string(B64, 40);
    let gh = github_token(&mut rng, "ghp_");
    let env =
        format!("AWS_ACCESS_KEY_ID={id}\nGITHUB_TOKEN={gh}\nAWS_SECRET_ACCESS_KEY={secret}\n");
    assert_span(&d, &env, "secrets.github_token", &gh);
    assert_span(&d, &env, "secrets.aws_secret_access_key", &secret);
    // Secret alone, named only by the JSON member.
    let secret = rng.string(B64, 40);
    let hits = run(
        &d,
        Direction::Request,
        Some("deploy"),
        &[arg("aws_secret_access_key", &secret)],
    );
    assert_eq!(
        hits,
        vec![("secrets.aws_secret_access_key", 0, secret.clone())]
    );
    // A lone AWS secret named in prose.
    assert_span(
        &d,
        &format!("AWS secret key: {secret}"),
        "secrets.aws_secret_access_key",
        &secret,
    );
}

#[test]
fn aws_negatives() {
    let d = det();
    for v in [
        "AKIAIOSFODNN7EXAMPLE",
        "aws_access_key_id = AKIAXXXXXXXXXXXXXXXX",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AKIAABCDEFGHIJKLMNOP",
        "Travel guide: ASIA PACIFIC REGIONAL OFFICE",
        "XAKIA234567ABCDEFGHIJ",  // embedded in a longer run
        "AKIA234567ABCDEFGHIJKL", // too long
        "aws_secret_access_key = 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b", // hex digest
        "Aida and Asia went to the acca meeting about aroa.",
    ] {
        assert_silent(&d, v);
    }
}

#[test]
fn github_classic_tokens_need_a_valid_checksum() {
    let d = det();
    let mut rng = Rng::new(2);
    for i in 0..200 {
        let prefix = ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"][i % 5];
        let t = github_token(&mut rng, prefix);
        assert_span(&d, &format!("GITHUB_TOKEN={t}"), "secrets.github_token", &t);
        assert_span(
            &d,
            &format!("git clone https://x-access-token:{t}@github.com/o/r.git"),
            "secrets.github_token",
            &t,
        );
        // Same body, wrong checksum: nothing at all (not even the generic rules).
        let mut bad = t.clone().into_bytes();
        let last = bad.len() - 1;
        bad[last] = if bad[last] == b'a' { b'b' } else { b'a' };
        let bad = String::from_utf8(bad).unwrap();
        assert_silent(&d, &format!("GITHUB_TOKEN={bad}"));
        assert_silent(
            &d,
            &format!("git clone https://x-access-token:{bad}@github.com/o/r.git"),
        );
    }
    assert_silent(&d, "token: ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    assert_silent(&d, "set GH_TOKEN to ghp_... or ghp_xxxxxxxx");
}

#[test]
fn github_fine_grained_gitlab_slack() {
    let d = det();
    let mut rng = Rng::new(3);
    let pat = format!(
        "github_pat_11{}_{}",
        rng.string(B62, 20),
        rng.string(B62, 59)
    );
    assert_span(
        &d,
        &format!("token: {pat}"),
        "secrets.github_fine_grained_pat",
        &pat,
    );
    let gl = format!("glpat-{}", rng.string(B64URL, 20));
    assert_span(
        &d,
        &format!("GITLAB_TOKEN=\"{gl}\""),
        "secrets.gitlab_token",
        &gl,
    );
    let xoxb = format!(
        "xoxb-{}-{}-{}",
        rng.digits(12),
        rng.digits(13),
        rng.string(B62, 24)
    );
    assert_span(
        &d,
        &format!("SLACK_BOT_TOKEN={xoxb}"),
        "secrets.slack_token",
        &xoxb,
    );
    let xoxp = format!(
        "xoxp-{}-{}-{}-{}",
        rng.digits(11),
        rng.digits(12),
        rng.digits(13),
        rng.string(HEX, 32)
    );
    assert_span(
        &d,
        &format!("{{\"token\":\"{xoxp}\"}}"),
        "secrets.slack_token",
        &xoxp,
    );
    let xapp = format!(
        "xapp-1-A{}-{}-{}",
        rng.string(B32, 10),
        rng.digits(13),
        rng.string(HEX, 64)
    );
    assert_span(&d, &xapp, "secrets.slack_token", &xapp);
    let hook = format!(
        "https://hooks.slack.com/services/T{}/B{}/{}",
        rng.string(B32, 8),
        rng.string(B32, 10),
        rng.string(B62, 24)
    );
    assert_span(
        &d,
        &format!("webhook_url: {hook}"),
        "secrets.slack_webhook",
        &hook,
    );
    for v in [
        "xoxb-your-bot-token-here",
        "SLACK_BOT_TOKEN=xoxb-xxxxxxxxxxxx-xxxxxxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx",
        "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "glpat-xxxxxxxxxxxxxxxxxxxx",
        "github_pat_<your token>",
    ] {
        assert_silent(&d, v);
    }
}

#[test]
fn stripe_openai_anthropic_google() {
    let d = det();
    let mut rng = Rng::new(4);
    let live = format!("sk_live_{}", rng.string(B62, 24));
    assert_span(
        &d,
        &format!("STRIPE_SECRET_KEY={live}"),
        "secrets.stripe_live_key",
        &live,
    );
    let rk = format!("rk_live_{}", rng.string(B62, 99));
    assert_span(&d, &rk, "secrets.stripe_live_key", &rk);
    let test = format!("sk_test_{}", rng.string(B62, 24));
    assert_eq!(
        ids(&d, &format!("key={test}")),
        vec!["secrets.stripe_test_key"]
    );
    assert_silent(&d, &format!("publishable: pk_live_{}", rng.string(B62, 24)));

    let proj = format!(
        "sk-proj-{}T3BlbkFJ{}",
        rng.string(B64URL, 74),
        rng.string(B64URL, 74)
    );
    assert_span(
        &d,
        &format!("OPENAI_API_KEY={proj}"),
        "secrets.openai_api_key",
        &proj,
    );
    let svc = format!("sk-svcacct-{}", rng.string(B64URL, 64));
    assert_span(&d, &svc, "secrets.openai_api_key", &svc);
    let legacy = format!("sk-{}T3BlbkFJ{}", rng.string(B62, 20), rng.string(B62, 20));
    assert_span(
        &d,
        &format!("openai.api_key = \"{legacy}\""),
        "secrets.openai_api_key",
        &legacy,
    );
    let plain48 = format!("sk-{}", rng.string(B62, 48));
    assert_span(&d, &plain48, "secrets.openai_api_key", &plain48);

    let ant = format!("sk-ant-api03-{}AA", rng.string(B64URL, 93));
    assert_span(
        &d,
        &format!("ANTHROPIC_API_KEY={ant}"),
        "secrets.anthropic_api_key",
        &ant,
    );
    let admin = format!("sk-ant-admin01-{}", rng.string(B64URL, 80));
    assert_span(&d, &admin, "secrets.anthropic_api_key", &admin);

    let g = format!("AIza{}", rng.string(B64URL, 35));
    assert_span(
        &d,
        &format!("https://maps.googleapis.com/maps/api/js?key={g}&callback=x"),
        "secrets.google_api_key",
        &g,
    );
    for v in [
        "pip install scikit-learn  # a.k.a. sk-learn",
        "OPENAI_API_KEY=sk-...",
        "OPENAI_API_KEY=sk-your-key-here",
        "task-1234-migrate and risk-assessment",
        "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
        "AIzaSyXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "key: sk-ant-api03-...",
    ] {
        assert_silent(&d, v);
    }
}

#[test]
fn npm_pypi_huggingface_sendgrid() {
    let d = det();
    let mut rng = Rng::new(5);
    let npm = format!("npm_{}", rng.string(B62, 36));
    assert_span(
        &d,
        &format!("//registry.npmjs.org/:_authToken={npm}"),
        "secrets.npm_token",
        &npm,
    );
    let pypi = format!("pypi-AgEIcHlwaS5vcmc{}", rng.string(B64URL, 140));
    assert_span(
        &d,
        &format!("password = {pypi}"),
        "secrets.pypi_token",
        &pypi,
    );
    let hf = format!("hf_{}", rng.string(LETTERS, 34));
    assert_span(
        &d,
        &format!("HF_TOKEN={hf}"),
        "secrets.huggingface_token",
        &hf,
    );
    let sg = format!("SG.{}.{}", rng.string(B64URL, 22), rng.string(B64URL, 43));
    assert_span(
        &d,
        &format!("SENDGRID_API_KEY='{sg}'"),
        "secrets.sendgrid_api_key",
        &sg,
    );
    for v in [
        "from huggingface_hub import hf_hub_download; load_hf_dataset()",
        "npm_config_cache=/tmp/npm",
        "msg.SG.send() and sg.example.com",
        "HF_TOKEN=hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    ] {
        assert_silent(&d, v);
    }
}

fn pem(label: &str, rng: &mut Rng, lines: usize, nl: &str) -> String {
    let body: Vec<String> = (0..lines).map(|_| rng.string(B64, 64)).collect();
    format!(
        "-----BEGIN {label}-----{nl}{}{nl}-----END {label}-----",
        body.join(nl)
    )
}

#[test]
fn private_keys_but_not_public_material() {
    let d = det();
    let mut rng = Rng::new(7);
    for label in [
        "RSA PRIVATE KEY",
        "EC PRIVATE KEY",
        "DSA PRIVATE KEY",
        "OPENSSH PRIVATE KEY",
        "PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
        "PGP PRIVATE KEY BLOCK",
    ] {
        let block = pem(label, &mut rng, 12, "\n");
        assert_span(
            &d,
            &format!("cat id_rsa\n{block}\n$ "),
            "secrets.private_key",
            &block,
        );
        let escaped = pem(label, &mut rng, 6, "\\n");
        assert_span(
            &d,
            &format!("KEY=\"{escaped}\""),
            "secrets.private_key",
            &escaped,
        );
    }
    let enc = format!(
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,{}\n\n{}\n-----END RSA PRIVATE KEY-----",
        rng.string("0123456789ABCDEF", 32),
        rng.string(B64, 64 * 8)
    );
    assert_span(&d, &enc, "secrets.private_key", &enc);
    for label in [
        "PUBLIC KEY",
        "RSA PUBLIC KEY",
        "CERTIFICATE",
        "CERTIFICATE REQUEST",
    ] {
        assert_silent(&d, &pem(label, &mut rng, 12, "\n"));
    }
    assert_silent(
        &d,
        &format!(
            "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ{} dev@laptop",
            rng.string(B64, 300)
        ),
    );
    assert_silent(
        &d,
        &format!(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{} dev@laptop",
            rng.string(B64, 43)
        ),
    );
    assert_silent(
        &d,
        "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
    );
    assert_silent(
        &d,
        "-----BEGIN PRIVATE KEY-----\n<your key here>\n-----END PRIVATE KEY-----",
    );
    assert_silent(
        &d,
        "Never commit a private key (-----BEGIN PRIVATE KEY-----) to git.",
    );
}

fn b64url(s: &str) -> String {
    base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        s.as_bytes(),
    )
}

#[test]
fn jwts() {
    let d = det();
    let mut rng = Rng::new(8);
    for alg in ["HS256", "RS256", "ES384"] {
        let h = b64url(&format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
        let p = b64url(&format!(
            r#"{{"sub":"user-{}","exp":{}}}"#,
            rng.digits(6),
            rng.digits(10)
        ));
        let jwt = format!("{h}.{p}.{}", rng.string(B64URL, 43));
        assert_span(
            &d,
            &format!("Authorization: Bearer {jwt}"),
            "secrets.jwt",
            &jwt,
        );
    }
    let none = format!(
        "{}.{}.",
        b64url(r#"{"alg":"none"}"#),
        b64url(r#"{"sub":"admin"}"#)
    );
    assert_span(&d, &format!("token={none} "), "secrets.jwt", &none);
    // Not a JWT: header without "alg", base64 JSON without dots, the jwt.io sample.
    let noalg = format!(
        "{}.{}.{}",
        b64url(r#"{"typ":"JWT"}"#),
        b64url(r#"{"a":1}"#),
        rng.string(B64URL, 43)
    );
    assert_silent(&d, &noalg);
    assert_silent(&d, &b64url(r#"{"page":2,"per_page":50}"#));
    assert_silent(&d, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c");
    assert_silent(&d, "Authorization: Bearer eyJhbGciOi...");
}

#[test]
fn obfuscated_credentials_are_found_and_spans_map_back() {
    let d = det();
    let mut rng = Rng::new(11);
    let t = github_token(&mut rng, "ghp_");
    // Zero-width space inside the token.
    let zw = format!("{}\u{200b}{}", &t[..10], &t[10..]);
    assert_span(&d, &format!("token {zw} end"), "secrets.github_token", &zw);
    // Full-width AKIA prefix.
    let id = rng.string(B32, 16);
    let fw = format!("ＡＫＩＡ{id}");
    assert_span(&d, &format!("key={fw}"), "secrets.aws_access_key_id", &fw);
    // Cyrillic look-alike in the prefix.
    let cyr = format!("АKIA{id}");
    assert_span(&d, &format!("key={cyr}"), "secrets.aws_access_key_id", &cyr);
    // Non-Latin prose around a real key.
    let sk = format!("sk_live_{}", rng.string(B62, 24));
    assert_span(
        &d,
        &format!("Ключ API: {sk} — не публикуйте"),
        "secrets.stripe_live_key",
        &sk,
    );
}

#[test]
fn every_zone_and_direction_and_one_hit_per_rule() {
    let d = det();
    let mut rng = Rng::new(12);
    let a = github_token(&mut rng, "ghp_");
    let b = github_token(&mut rng, "gho_");
    let text = format!("first {a} then {b} done");
    for zone in [
        Zone::Argument,
        Zone::Content,
        Zone::ToolDescription,
        Zone::ToolSchema,
        Zone::Other,
        Zone::ResourceUri,
    ] {
        for dir in [Direction::Request, Direction::Response] {
            let hits = run(
                &d,
                dir,
                None,
                &[F {
                    key: "k",
                    value: &text,
                    zone,
                }],
            );
            assert_eq!(hits.len(), 1, "{zone:?} {dir:?}");
            // The span covers both tokens so neither survives redaction.
            assert_eq!(hits[0].2, format!("{a} then {b}"));
        }
    }
}

#[test]
fn benign_documents_stay_silent() {
    let d = det();
    let mut rng = Rng::new(13);
    for _ in 0..20 {
        let doc = benign_text(&mut rng, 16 * 1024);
        assert_silent(&d, &doc);
    }
}

#[test]
#[ignore]
fn throughput() {
    let d = det();
    let mut rng = Rng::new(99);
    let doc = benign_text(&mut rng, 16 * 1024);
    let items = [content(&doc)];
    let folded = format!("{}\n", engine_fold(&doc));
    let bounds = [0u32, folded.len() as u32];
    let fields: Vec<crate::detect::scan::Field<'_>> = items
        .iter()
        .map(|it| crate::detect::scan::Field {
            value: it.value,
            key: it.key,
            zone: it.zone,
            tool: None,
            derived: None,
            hidden: Default::default(),
        })
        .collect();
    let scan = crate::detect::scan::Scan {
        direction: Direction::Response,
        method: Some("tools/call"),
        tool: Some("read_file"),
        fields: &fields,
        folded: &folded,
        bounds: &bounds,
    };
    let mut out = Vec::new();
    let n = 10_000;
    let t = std::time::Instant::now();
    for _ in 0..n {
        out.clear();
        d.scan(&scan, &mut out);
    }
    let ns = t.elapsed().as_nanos() / n as u128;
    assert!(out.is_empty(), "{out:?}");
    println!("secrets: {} bytes/field, {ns} ns/field", doc.len());
}

#[test]
fn lenient_shapes_generators_produce() {
    let d = det();
    let mut rng = Rng::new(14);
    // Key id body with digits outside base32.
    let id = format!(
        "AKIA{}",
        rng.string("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 16)
    );
    assert_span(&d, &format!("id {id}"), "secrets.aws_access_key_id", &id);
    // JWT segments with '=' padding left in.
    let h = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE,
        br#"{"alg":"HS256"}"#,
    );
    let p = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE,
        br#"{"sub":"42","role":"admin"}"#,
    );
    let jwt = format!("{h}.{p}.{}", rng.string(B64URL, 43));
    assert_span(&d, &format!("jwt={jwt} "), "secrets.jwt", &jwt);
    // Unencoded '#' and '@' in a connection-string password.
    assert_span(
        &d,
        "mongodb+srv://svc:Xk9#mP2@vL7q@cluster0.ab1cd.mongodb.net/prod",
        "secrets.connection_string_password",
        "Xk9#mP2@vL7q",
    );
    // JDBC SQL Server properties.
    assert_span(
        &d,
        "jdbc:sqlserver://db:1433;databaseName=shop;user=svc;password=Qw7vB2nR9xT4;",
        "secrets.connection_string_password",
        "Qw7vB2nR9xT4",
    );
    // Hugging Face token in lower case letters only; a short PyPI token.
    let hf = format!("hf_{}", rng.string(crate::detect::testgen::LOWER, 34));
    assert_span(&d, &hf, "secrets.huggingface_token", &hf);
    let pypi = format!("pypi-AgEIcHlwaS5vcmc{}", rng.string(B64URL, 40));
    assert_span(&d, &pypi, "secrets.pypi_token", &pypi);
}

#[test]
fn derived_fields_are_scanned_like_any_other() {
    let d = det();
    let mut rng = Rng::new(15);
    let t = github_token(&mut rng, "ghs_");
    let decoded = format!("export GH_TOKEN={t}\n");
    let encoded = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        decoded.as_bytes(),
    );
    let fields = [
        crate::detect::scan::Field {
            value: &encoded,
            key: "data",
            zone: Zone::Argument,
            tool: Some("upload"),
            derived: None,
            hidden: Default::default(),
        },
        crate::detect::scan::Field {
            value: &decoded,
            key: "data",
            zone: Zone::Argument,
            tool: Some("upload"),
            derived: Some((0, crate::detect::scan::Decoding::Base64)),
            hidden: Default::default(),
        },
    ];
    let folded = format!("{}\n{}\n", engine_fold(&encoded), engine_fold(&decoded));
    let bounds = [
        0u32,
        engine_fold(&encoded).len() as u32 + 1,
        folded.len() as u32,
    ];
    let scan = crate::detect::scan::Scan {
        direction: Direction::Request,
        method: Some("tools/call"),
        tool: Some("upload"),
        fields: &fields,
        folded: &folded,
        bounds: &bounds,
    };
    let mut out = Vec::new();
    d.scan(&scan, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].field, 1);
    let (s, e) = out[0].span.unwrap();
    assert_eq!(&decoded[s as usize..e as usize], t);
}
