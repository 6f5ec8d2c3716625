//! Unit tests of the secrets rules that depend on context rather than a vendor prefix:
//! connection strings, `name = value` assignments, bearer tokens, Twilio, Azure, Discord, and
//! the documentation samples and identifiers that must not be taken for secrets.

use super::tests::{assert_silent, assert_span, det};
use crate::detect::scan::Direction;
use crate::detect::testgen::*;

#[test]
fn twilio_azure_discord() {
    let d = det();
    let mut rng = Rng::new(6);
    let sk = format!("SK{}", rng.string(HEX, 32));
    assert_span(
        &d,
        &format!("TWILIO_API_KEY={sk}\nTWILIO_API_SECRET=x"),
        "secrets.twilio_credential",
        &sk,
    );
    let auth = rng.string(HEX, 32);
    assert_span(
        &d,
        &format!(
            "Twilio account: AC{} auth token {auth}",
            rng.string(HEX, 32)
        ),
        "secrets.twilio_credential",
        &auth,
    );
    // "AC<sid>:<token>" pairs.
    let pair = format!("twilio creds AC{}:{auth}", rng.string(HEX, 32));
    assert_span(&d, &pair, "secrets.twilio_credential", &auth);
    // The tail of a longer hex run is not a token.
    let sha = rng.string(HEX, 64);
    assert_silent(&d, &format!("twilio build {sha} token ok"));
    // A lone SK+hex with no Twilio context is not enough.
    assert_silent(&d, &format!("ref {sk}"));
    // The member name can carry the context.
    let hits = run(
        &d,
        Direction::Request,
        Some("t"),
        &[arg("twilio_auth_token", &auth)],
    );
    assert_eq!(hits.len(), 1);

    let key = format!("{}==", rng.string(B64, 86));
    let conn = format!("DefaultEndpointsProtocol=https;AccountName=prodstore;AccountKey={key};EndpointSuffix=core.windows.net");
    assert_span(&d, &conn, "secrets.azure_storage_key", &key);
    let sig = format!("{}%3D", rng.string(B62, 43));
    let sas = format!("https://acct.blob.core.windows.net/c/b.txt?sv=2022-11-02&ss=b&srt=o&sp=r&se=2026-01-01T00:00:00Z&sig={sig}");
    assert_span(&d, &sas, "secrets.azure_sas_signature", &sig);
    assert_silent(&d, "AccountKey=<your-storage-key>;");
    assert_silent(&d, "?sv=2022-11-02&sp=r&sig=<signature>");

    let id = format!("1{}", rng.digits(18));
    let part1 = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        id.as_bytes(),
    );
    let tok = format!(
        "{part1}.{}.{}",
        rng.string(B64URL, 6),
        rng.string(B64URL, 38)
    );
    assert_span(
        &d,
        &format!("DISCORD_BOT_TOKEN={tok}"),
        "secrets.discord_bot_token",
        &tok,
    );
    // Same shape without Discord context: not reported.
    assert_silent(&d, &format!("value {tok}"));
}

#[test]
fn connection_strings() {
    let d = det();
    let mut rng = Rng::new(9);
    for scheme in [
        "postgres",
        "postgresql",
        "mysql",
        "mongodb+srv",
        "amqps",
        "rediss",
        "mssql",
    ] {
        let pw = rng.string(B62, 16);
        let url = format!("{scheme}://app_user:{pw}@db-prod.internal:5432/orders?sslmode=require");
        assert_span(
            &d,
            &format!("DATABASE_URL={url}"),
            "secrets.connection_string_password",
            &pw,
        );
    }
    let pw = rng.string(B62, 20);
    assert_span(
        &d,
        &format!("redis://:{pw}@cache.internal:6379/0"),
        "secrets.connection_string_password",
        &pw,
    );
    assert_span(
        &d,
        &format!("jdbc:postgresql://ops:{pw}@10.0.0.5/db"),
        "secrets.connection_string_password",
        &pw,
    );
    let ado = format!("Server=tcp:sql.example.net,1433;Initial Catalog=shop;User ID=svc;Password={pw};Encrypt=True;");
    assert_span(&d, &ado, "secrets.connection_string_password", &pw);
    // Percent-encoded URL inside a query string (the view decodes it; the span maps back).
    let enc =
        format!("https://app.example.com/?db=postgres%3A%2F%2Fadmin%3A{pw}%40db.internal%2Fprod");
    assert_span(&d, &enc, "secrets.connection_string_password", &pw);
    for v in [
        "postgres://user:password@localhost:5432/mydb",
        "postgresql://postgres:postgres@localhost/postgres",
        "amqp://guest:guest@localhost:5672/",
        "mongodb://${MONGO_USER}:${MONGO_PASS}@mongo:27017",
        "mysql://root:<password>@127.0.0.1/app",
        "redis://:changeme@redis:6379",
        "postgres://db.example.com:5432/app",
        "https://github.com/org/repo@v1.2.3",
        "http://good.com@127.0.0.1/",
        "Server=db;Database=app;User Id=sa;Password=<YourStrong!Passw0rd>;",
        "mongodb://admin:****@cluster0.mongodb.net",
    ] {
        assert_silent(&d, v);
    }
}

#[test]
fn generic_assignments_and_passwords() {
    let d = det();
    let mut rng = Rng::new(10);
    let v1 = rng.string(B62, 32);
    assert_span(
        &d,
        &format!("api_key = \"{v1}\""),
        "secrets.generic_secret",
        &v1,
    );
    assert_span(
        &d,
        &format!("  \"client_secret\": \"{v1}\","),
        "secrets.generic_secret",
        &v1,
    );
    assert_span(
        &d,
        &format!("SECRET_KEY={v1}\nDEBUG=false"),
        "secrets.generic_secret",
        &v1,
    );
    assert_span(
        &d,
        &format!("X-Api-Key: {v1}"),
        "secrets.generic_secret",
        &v1,
    );
    assert_span(
        &d,
        &format!("Authorization: Bearer {v1}"),
        "secrets.generic_secret",
        &v1,
    );
    let pw = "Zq8#mR2vLp9!Tx";
    assert_span(
        &d,
        &format!("DB_PASSWORD={pw}"),
        "secrets.password_assignment",
        pw,
    );
    assert_span(
        &d,
        &format!("password: \"{pw}\""),
        "secrets.password_assignment",
        pw,
    );
    let hits = run(
        &d,
        Direction::Request,
        Some("login"),
        &[arg("api_key", &v1), arg("password", pw)],
    );
    assert_eq!(hits.len(), 2, "{hits:?}");

    let sha = rng.string(HEX, 64);
    for v in [
        "api_key = \"YOUR_API_KEY\"".to_string(),
        "token: <token>".to_string(),
        "api_key=os.environ['OPENAI_API_KEY']".to_string(),
        "token: ${{ secrets.GITHUB_TOKEN }}".to_string(),
        "password: ********".to_string(),
        "password = \"hunter2\"".to_string(),
        "password: Password123!".to_string(),
        format!("token_hash = {sha}"),
        format!("secret: {sha}"),
        "session_token: 550e8400-e29b-41d4-a716-446655440000".to_string(),
        "max_tokens: 4096, \"tokens_used\": 1532".to_string(),
        format!("\"nextPageToken\": \"{}\"", rng.string(B62, 40)),
        format!("csrf_token={}", rng.string(B62, 32)),
        "secret_name: prod/db/MyAppCredentials2024".to_string(),
        "Authorization: Bearer <token>".to_string(),
        "Authorization: Bearer $TOKEN".to_string(),
        "Keep your secret keys secret: never paste a token into chat.".to_string(),
        "tokenizer = AutoTokenizer.from_pretrained(\"bert-base-uncased\")".to_string(),
        "if token == \"abc\": pass".to_string(),
    ] {
        assert_silent(&d, &v);
    }
    // A JSON member named like a secret with an ordinary value.
    let hits = run(
        &d,
        Direction::Request,
        Some("t"),
        &[
            arg("token_type", "Bearer"),
            arg("page_token", &rng.string(B62, 40)),
        ],
    );
    assert!(hits.is_empty(), "{hits:?}");
}

#[test]
fn identifiers_and_sample_passwords_are_not_secrets() {
    let d = det();
    for v in [
        "api_key = settings.OPENAI_API_KEY_V2",
        "secret = MyProductionApiKey2024",
        "token = config.auth.service_token_v3",
        "DATABASE_URL=postgres://postgres:mysecretpassword@localhost:5432/postgres",
        "REDIS_URL=redis://default:redispw@localhost:55000",
        "mysql://root:my-secret-pw@127.0.0.1:3306/app",
        "ftp://anonymous:guest@ftp.example.com/pub",
        "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
    ] {
        assert_silent(&d, v);
    }
}

#[test]
fn basic_auth_and_short_password_names() {
    let d = det();
    let mut rng = Rng::new(16);
    let pw = format!("{}9Q", rng.string(B62, 14));
    let b64 = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("deploy:{pw}"),
    );
    assert_span(
        &d,
        &format!("Authorization: Basic {b64}"),
        "secrets.http_basic_auth",
        &b64,
    );
    // "user:password" and other samples are not credentials.
    assert_silent(&d, "Authorization: Basic dXNlcjpwYXNzd29yZA==");
    assert_silent(&d, "Authorization: Basic <credentials>");
    assert_span(
        &d,
        "DB_PASS=Q8v!zL3@pK9#",
        "secrets.password_assignment",
        "Q8v!zL3@pK9#",
    );
    for v in [
        "bypass_cache = True",
        "compass_heading=270",
        "    pass",
        "passport_no: X1234567",
    ] {
        assert_silent(&d, v);
    }
    // Base64 of a sample password (a Kubernetes Secret manifest).
    assert_silent(&d, r#""data": {"password": "cGFzc3dvcmQxMjM="}"#);
    // Stripe's documented sample test key.
    assert_silent(&d, "stripe.api_key = 'sk_test_4eC39HqLyjWDarjtT1zdp7dc'");
}
