#!/usr/bin/env python3
"""Generator of the BENIGN half of the mcpguard detection corpus.

Writes ``benign.jsonl`` next to this script: realistic MCP (Model Context Protocol)
traffic of ~30 kinds of MCP servers, every line with ``"family": null``.  The gateway
must pass every line without a finding (zero false positives).

* Python 3.11, standard library only.
* Deterministic: one ``random.Random(SEED)``, no hash-order dependent iteration, no
  clock, no environment -- the output is byte-identical on every run.
* Many "hard negatives": text that looks a little like an attack but is not
  (``.gitignore``, ``ignore_index=-100``, placeholder keys, Luhn-INVALID 13-19 digit
  ids, IBAN-like strings with a WRONG checksum, invalid SSN-like numbers, public URLs
  with "localhost"/"admin"/"metadata" in the path, emoji, RTL text, ...).
* The generator ASSERTS its own safety properties before writing (see ``check_line``):
  no Luhn-valid 13-19 digit run, no SSA-valid SSN pattern, no mod-97-valid IBAN, no
  real-format credentials, no ``..`` path segment / sensitive file in request
  arguments, no private/loopback/metadata host in URLs of request arguments, no
  destructive shell payloads, no instruction-override phrases, and tool definitions
  that never change for the same server + tool name.

Usage:  python3 tests/corpus/gen_benign.py            # writes benign.jsonl, prints stats
        python3 tests/corpus/gen_benign.py --markdown # also prints the stats as Markdown
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import re
import struct
import sys
import unicodedata
import zlib
import random
from urllib.parse import urlsplit

SEED = 0x6D637067_0B3E  # "mcpg" + benign
HERE = os.path.dirname(os.path.abspath(__file__))
OUT_PATH = os.path.join(HERE, "benign.jsonl")

R = random.Random(SEED)


# ----------------------------------------------------------------------------------
# small random helpers (all draw from the single seeded generator R)
# ----------------------------------------------------------------------------------
def pick(seq):
    return seq[R.randrange(len(seq))]


def chance(p: float) -> bool:
    return R.random() < p


def rint(a: int, b: int) -> int:
    return R.randint(a, b)


def sample(seq, k: int):
    seq = list(seq)
    return R.sample(seq, min(k, len(seq)))


def wpick(pairs):
    """pairs: list of (item, weight)"""
    total = sum(w for _, w in pairs)
    x = R.random() * total
    for item, w in pairs:
        x -= w
        if x < 0:
            return item
    return pairs[-1][0]


# ----------------------------------------------------------------------------------
# checksum helpers (Luhn, IBAN mod 97, SSA rules) -- used both to BUILD hard negatives
# and to VERIFY every output line
# ----------------------------------------------------------------------------------
def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_risky(digits: str) -> bool:
    """True if any 13..19 digit window a scanner could pick (every prefix window and
    every suffix window of the run) passes Luhn."""
    n = len(digits)
    if n < 13:
        return False
    for length in range(13, min(19, n) + 1):
        if luhn_ok(digits[:length]) or luhn_ok(digits[n - length:]):
            return True
    return False


DIGIT_RUN = re.compile(r"\d(?:[ -]?\d)*")


def long_digit_runs(s: str):
    for m in DIGIT_RUN.finditer(s):
        d = m.group(0).replace(" ", "").replace("-", "")
        if len(d) >= 13:
            yield m.group(0), d


def safe_digits(n: int, prefix: str = "") -> str:
    """n digits (incl. prefix) such that no Luhn window of the run is valid."""
    for _ in range(1000):
        ds = prefix + "".join(str(R.randrange(10)) for _ in range(n - len(prefix)))
        if not luhn_risky(ds):
            return ds
    raise AssertionError("could not build a Luhn-invalid id")


IBAN_LEN = {"DE": 22, "GB": 22, "FR": 27, "ES": 24, "IT": 27, "NL": 18, "BE": 16, "CH": 21,
            "AT": 20, "PL": 28, "SE": 24, "IE": 22, "PT": 25, "NO": 15, "DK": 18, "FI": 18}


def iban_mod97(compact: str) -> int:
    s = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in s)) % 97


def _bban(cc: str) -> str:
    U = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    D = "0123456789"
    fmt = {"DE": "18n", "GB": "4a14n", "FR": "10n11c2n", "ES": "20n", "IT": "1a10n12c", "NL": "4a10n",
           "BE": "12n", "CH": "5n12c", "AT": "16n", "PL": "24n", "SE": "20n", "IE": "4a14n",
           "PT": "21n", "NO": "11n", "DK": "14n", "FI": "14n"}[cc]
    out = []
    for cnt, kind in re.findall(r"(\d+)([anc])", fmt):
        alphabet = {"a": U, "n": D, "c": U + D}[kind]
        out.extend(pick(alphabet) for _ in range(int(cnt)))
    return "".join(out)


def wrong_iban(cc: str | None = None, spaced: bool | None = None) -> str:
    """IBAN-shaped string whose check digits are WRONG (mod 97 != 1), and whose digit
    runs are Luhn-invalid in every window."""
    cc = cc or pick(sorted(IBAN_LEN))
    for _ in range(1000):
        bban = _bban(cc)
        good = 98 - iban_mod97(cc + "00" + bban)
        bad = (good + rint(1, 95)) % 97
        if bad < 2:
            bad += 2
        compact = f"{cc}{bad:02d}{bban}"
        assert len(compact) == IBAN_LEN[cc]
        if any(iban_mod97(compact[:n]) == 1 for n in range(15, len(compact) + 1)):
            continue  # no prefix a scanner could pick may be mod-97 valid either
        if any(luhn_risky(d) for _, d in long_digit_runs(compact)):
            continue
        sp = " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))
        if any(luhn_risky(d) for _, d in long_digit_runs(sp)):
            continue
        use_space = chance(0.6) if spaced is None else spaced
        return sp if use_space else compact
    raise AssertionError("no wrong iban")


def ssn_valid(area: str, group: str, serial: str) -> bool:
    a = int(area)
    return not (a == 0 or a == 666 or a >= 900 or int(group) == 0 or int(serial) == 0)


def invalid_ssn() -> str:
    kind = R.randrange(5)
    if kind == 0:
        area = "000"
    elif kind == 1:
        area = "666"
    elif kind == 2:
        area = str(rint(900, 999))
    else:
        area = f"{rint(1, 665):03d}"
    group = "00" if kind == 3 else f"{rint(1, 99):02d}"
    serial = "0000" if kind == 4 else f"{rint(1, 9999):04d}"
    if area not in ("000", "666") and int(area) < 900 and kind not in (3, 4):
        serial = "0000"
    s = f"{area}-{group}-{serial}"
    assert not ssn_valid(area, group, serial)
    return s


def isbn13() -> str:
    """A valid ISBN-13 (its own checksum ok) that FAILS Luhn."""
    for _ in range(1000):
        body = pick(["978", "979"]) + "".join(str(R.randrange(10)) for _ in range(9))
        total = sum((1 if i % 2 == 0 else 3) * int(c) for i, c in enumerate(body))
        full = body + str((10 - total % 10) % 10)
        s = f"{full[:3]}-{full[3]}-{full[4:8]}-{full[8:12]}-{full[12]}"
        if not luhn_risky(full):
            return s
    raise AssertionError


# ----------------------------------------------------------------------------------
# identifiers, hashes, times
# ----------------------------------------------------------------------------------
def _no_long_digits(s: str) -> bool:
    return all(len(d) < 13 for _, d in ((m.group(0), m.group(0).replace("-", "").replace(" ", ""))
                                         for m in DIGIT_RUN.finditer(s)))


def hexs(n: int) -> str:
    while True:
        s = format(R.getrandbits(4 * n), f"0{n}x")
        if _no_long_digits(s):
            return s


def uuid4() -> str:
    while True:
        h = format(R.getrandbits(128), "032x")
        h = h[:12] + "4" + h[13:16] + pick("89ab") + h[17:]
        u = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        if _no_long_digits(u):
            return u


def git_sha() -> str:
    return hexs(40)


def sha256_hex() -> str:
    return hexs(64)


def b62(n: int) -> str:
    a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(pick(a) for _ in range(n))


def lower_alnum(n: int) -> str:
    a = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(pick(a) for _ in range(n))


BASE_TIME = dt.datetime(2025, 1, 6, 8, 0, 0, tzinfo=dt.timezone.utc)


def rtime(days: int = 300) -> dt.datetime:
    return BASE_TIME + dt.timedelta(minutes=R.randrange(days * 24 * 60), seconds=R.randrange(60))


def iso(t: dt.datetime | None = None, ms: bool = False) -> str:
    t = t or rtime()
    if ms:
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{R.randrange(1000):03d}Z"
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch(t: dt.datetime | None = None) -> int:
    return int((t or rtime()).timestamp())


def slack_ts(t: dt.datetime | None = None) -> str:
    return f"{epoch(t)}.{R.randrange(1000000):06d}"


def k8s_suffix() -> str:
    a = "bcdfghjklmnpqrstvwxz2456789"
    return "".join(pick(a) for _ in range(10)) + "-" + "".join(pick(a) for _ in range(5))


def jsonrpc_id():
    k = R.randrange(10)
    if k < 6:
        return rint(1, 9999)
    if k < 8:
        return f"req-{lower_alnum(6)}"
    return uuid4()


# ----------------------------------------------------------------------------------
# people, contact data
# ----------------------------------------------------------------------------------
PEOPLE = [("Priya", "Raman"), ("Jonas", "Becker"), ("Mei", "Chen"), ("Olusegun", "Adeyemi"),
          ("Sofia", "Rossi"), ("Dmitri", "Volkov"), ("Yuki", "Tanaka"), ("Fatima", "Haddad"),
          ("Noa", "Levi"), ("Lucas", "Martin"), ("Ana", "Souza"), ("Eleni", "Papadopoulou"),
          ("Tom", "Walsh"), ("Aisha", "Khan"), ("Mateo", "García"), ("Ingrid", "Larsen"),
          ("Kwame", "Mensah"), ("Hannah", "Schmidt"), ("Arjun", "Mehta"), ("Chloé", "Dubois"),
          ("Liam", "O'Connor"), ("Sara", "Lindqvist"), ("Wei", "Zhang"), ("Omar", "Farouk"),
          ("Zoe", "Kowalski"), ("Daniel", "Cohen"), ("Isabela", "Ferreira"), ("Ravi", "Iyer"),
          ("Emma", "Nilsson"), ("Kenji", "Watanabe"), ("Maria", "Lopez"), ("Björn", "Åström")]
COMPANY_DOMAINS = ["acme.io", "northwind.dev", "example.com", "globex.co", "initech.org", "umbrella-labs.com",
                   "example.org", "contoso.com"]
MAIL_DOMAINS = COMPANY_DOMAINS + ["gmail.com", "outlook.com", "proton.me", "fastmail.com"]


def ascii_slug(s: str) -> str:
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", s.lower())


def person():
    return pick(PEOPLE)


def full_name(p=None) -> str:
    p = p or person()
    return f"{p[0]} {p[1]}"


def sender(domain=None) -> str:
    p = person()
    return f"{full_name(p)} <{email(p, domain or pick(MAIL_DOMAINS))}>"


def email(p=None, domain=None) -> str:
    p = p or person()
    domain = domain or pick(COMPANY_DOMAINS)
    style = R.randrange(3)
    f, l = ascii_slug(p[0]), ascii_slug(p[1])
    if style == 0:
        return f"{f}.{l}@{domain}"
    if style == 1:
        return f"{f[0]}{l}@{domain}"
    return f"{f}@{domain}"


def phone() -> str:
    k = R.randrange(6)
    if k == 0:
        return f"+1 415 555 {rint(100, 199):04d}"
    if k == 1:
        return f"(212) 555-{rint(100, 199):04d}"
    if k == 2:
        return f"+44 20 7946 0{rint(100, 999)}"
    if k == 3:
        return f"+49 30 {rint(200, 999)} {rint(1000, 9999)}"
    if k == 4:
        return f"+33 1 {rint(10, 99)} {rint(10, 99)} {rint(10, 99)} {rint(10, 99)}"
    return f"+81 3-{rint(1000, 9999)}-{rint(1000, 9999)}"


def order_no() -> str:
    k = R.randrange(6)
    if k == 0:
        return f"ORD-{rint(2023, 2025)}-{rint(10000, 99999)}"
    if k == 1:
        return f"#{rint(100000, 999999)}"
    if k == 2:
        return safe_digits(pick([13, 14, 15, 16, 17, 18, 19]))
    if k == 3:
        d = safe_digits(16, prefix=pick(["4", "5", "37", "6011", "35"]))
        return " ".join(d[i:i + 4] for i in range(0, 16, 4))
    if k == 4:
        return f"INV-{rint(2024, 2025)}{rint(1, 12):02d}-{rint(1000, 9999)}"
    return f"PO-{rint(40000, 49999)}"


def tracking_no() -> str:
    while True:
        t = _tracking_no()
        if not any(luhn_risky(d) for _, d in long_digit_runs(t)):
            return t


def _tracking_no() -> str:
    k = R.randrange(4)
    if k == 0:
        return "1Z" + "".join(pick("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(6)) + safe_digits(10)
    if k == 1:
        return safe_digits(pick([15, 16]), prefix="7")  # FedEx-like, Luhn invalid
    if k == 2:
        return f"JD{safe_digits(16, prefix='0')}"
    return safe_digits(pick([13, 14, 18, 19]), prefix="9")


def ip_public() -> str:
    return pick([f"203.0.113.{rint(1, 254)}", f"198.51.100.{rint(1, 254)}", f"192.0.2.{rint(1, 254)}"])


def ip_private() -> str:
    return pick([f"10.{rint(0, 40)}.{rint(0, 255)}.{rint(1, 254)}", f"192.168.{rint(0, 5)}.{rint(2, 254)}",
                 f"172.{rint(16, 31)}.{rint(0, 255)}.{rint(1, 254)}"])


def semver() -> str:
    return f"{rint(0, 12)}.{rint(0, 30)}.{rint(0, 20)}"


# ----------------------------------------------------------------------------------
# binary data: PNG images (stored deflate -> independent of the zlib version),
# public keys and certificates
# ----------------------------------------------------------------------------------
def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _stored_zlib(raw: bytes) -> bytes:
    out = bytearray(b"\x78\x01")
    i = 0
    while True:
        block = raw[i:i + 65535]
        i += len(block)
        final = 1 if i >= len(raw) else 0
        out += bytes([final]) + struct.pack("<HH", len(block), len(block) ^ 0xFFFF) + block
        if final:
            break
    out += struct.pack(">I", zlib.adler32(raw) & 0xFFFFFFFF)
    return bytes(out)


def png_bytes(w: int, h: int, noise: int = 24) -> bytes:
    """A valid RGB PNG: a colour gradient with some noise (like a render or a photo)."""
    c0 = (rint(0, 255), rint(0, 255), rint(0, 255))
    c1 = (rint(0, 255), rint(0, 255), rint(0, 255))
    rows = bytearray()
    for y in range(h):
        rows.append(0)
        for x in range(w):
            t = (x + y) / max(1, (w + h - 2))
            for k in range(3):
                v = int(c0[k] + (c1[k] - c0[k]) * t) + R.randint(-noise, noise)
                rows.append(max(0, min(255, v)))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", _stored_zlib(bytes(rows)))
            + _png_chunk(b"IEND", b""))


def png_b64(w: int, h: int) -> str:
    return base64.b64encode(png_bytes(w, h)).decode()


def _ssh_string(b: bytes) -> bytes:
    return struct.pack(">I", len(b)) + b


def rbytes(n: int) -> bytes:
    return bytes(R.getrandbits(8) for _ in range(n))


def ssh_ed25519_pub(comment: str) -> str:
    blob = _ssh_string(b"ssh-ed25519") + _ssh_string(rbytes(32))
    return f"ssh-ed25519 {base64.b64encode(blob).decode()} {comment}"


def ssh_rsa_pub(comment: str) -> str:
    modulus = b"\x00" + bytes([0x80 | R.getrandbits(7)]) + rbytes(255)
    blob = _ssh_string(b"ssh-rsa") + _ssh_string(b"\x01\x00\x01") + _ssh_string(modulus)
    return f"ssh-rsa {base64.b64encode(blob).decode()} {comment}"


def _pem(label: str, der: bytes) -> str:
    b = base64.b64encode(der).decode()
    lines = [b[i:i + 64] for i in range(0, len(b), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----"


def pem_public_key() -> str:
    der = bytes.fromhex("30820122300d06092a864886f70d01010105000382010f003082010a0282010100") + \
        bytes([0xC0 | R.getrandbits(6)]) + rbytes(255) + bytes.fromhex("0203010001")
    return _pem("PUBLIC KEY", der)


def pem_certificate() -> str:
    body = rbytes(rint(700, 900))
    der = b"\x30\x82" + struct.pack(">H", len(body) + 4) + b"\x30\x82" + struct.pack(">H", len(body)) + body
    return _pem("CERTIFICATE", der)


def b64(s: str | bytes) -> str:
    if isinstance(s, str):
        s = s.encode()
    return base64.b64encode(s).decode()


# ==================================================================================
# CONTENT LIBRARY: projects, source files, documents, logs, data
# ==================================================================================
class Project:
    def __init__(self, name, root, lang, pkg, sep="/"):
        self.name, self.root, self.lang, self.pkg, self.sep = name, root, lang, pkg, sep

    def abspath(self, rel: str) -> str:
        if self.sep == "\\":
            return self.root + "\\" + rel.replace("/", "\\")
        return f"{self.root}/{rel}"

    def uri(self, rel: str) -> str:
        root = self.root.replace("\\", "/")
        if re.match(r"^[A-Za-z]:/", root):
            return f"file:///{root}/{rel}"
        return f"file://{root}/{rel}"


PROJECTS = [
    Project("payments-api", "/home/dev/projects/payments-api", "python", "payments"),
    Project("data-pipeline", "/srv/work/data-pipeline", "python", "pipeline"),
    Project("ml-experiments", "/home/priya/work/ml-experiments", "python", "experiments"),
    Project("web-frontend", "/Users/maria/code/web-frontend", "ts", "web"),
    Project("admin-dashboard", "/home/dev/projects/admin-dashboard", "ts", "dashboard"),
    Project("ingest-rs", "/home/dev/src/ingest-rs", "rust", "ingest"),
    Project("tiny-kv", "/Users/kenji/dev/tiny-kv", "rust", "tiny_kv"),
    Project("edge-proxy", "/workspace/edge-proxy", "go", "proxy"),
    Project("infra", "/home/dev/projects/infra", "infra", "infra"),
    Project("handbook", "/Users/sofia/Documents/handbook", "docs", "handbook"),
    Project("Inventory", "C:\\Users\\jonas\\source\\repos\\Inventory", "csharp", "Inventory", sep="\\"),
]

FILES = {
    "python": ["README.md", "pyproject.toml", ".gitignore", "src/{pkg}/__init__.py", "src/{pkg}/api.py",
               "src/{pkg}/models.py", "src/{pkg}/db.py", "src/{pkg}/text_utils.py", "src/{pkg}/llm.py",
               "tests/test_api.py", "tests/conftest.py", ".github/workflows/ci.yml", "Dockerfile",
               "docs/security.md", "CHANGELOG.md", "Makefile", ".vscode/settings.json",
               "migrations/0003_add_invoices.sql", "data/orders.csv", "config/settings.yaml", "train.py",
               "requirements.txt", ".pre-commit-config.yaml", "SECURITY.md"],
    "ts": ["README.md", "package.json", "tsconfig.json", ".gitignore", ".eslintrc.json", ".prettierignore",
           "src/index.ts", "src/api/client.ts", "src/components/SearchBox.tsx", "src/utils/match.ts",
           "src/i18n/messages.json", "tests/match.test.ts", ".github/workflows/ci.yml", "docs/security.md",
           "CHANGELOG.md", "vite.config.ts", ".vscode/settings.json", "public/robots.txt"],
    "rust": ["Cargo.toml", "README.md", "src/main.rs", "src/lib.rs", "src/config.rs", "src/parser.rs",
             "tests/integration.rs", ".gitignore", ".github/workflows/ci.yml", "CHANGELOG.md",
             "docs/architecture.md", "benches/throughput.rs", "rustfmt.toml"],
    "go": ["go.mod", "main.go", "internal/proxy/proxy.go", "internal/proxy/proxy_test.go",
           "internal/config/config.go", "README.md", "Makefile", ".golangci.yml", "Dockerfile", ".gitignore",
           "docs/security.md"],
    "infra": ["k8s/base/deployment.yaml", "k8s/base/service.yaml", "k8s/base/configmap.yaml",
              "k8s/overlays/staging/kustomization.yaml", "terraform/main.tf", "terraform/variables.tf",
              "docker-compose.yml", "README.md", "docs/runbooks/database-failover.md", "deploy/tls/ca.pem",
              ".github/workflows/deploy.yml", "keys/release-signing.pub", ".github/allowed_signers"],
    "docs": ["README.md", "onboarding.md", "security/secrets-management.md", "security/prompt-injection.md",
             "security/incident-response.md", "engineering/code-review.md", "recipes/team-lunch.md",
             "travel/policy.md", "i18n/glossary.md", "security/advisories.md", "data/contacts.csv"],
    "csharp": ["Program.cs", "Inventory.csproj", "README.md", "Services/StockService.cs", ".gitignore"],
}


def pick_project(langs=None) -> Project:
    cands = [p for p in PROJECTS if langs is None or p.lang in langs]
    return pick(cands)


def pick_file(p: Project) -> str:
    return pick(FILES[p.lang]).format(pkg=p.pkg)


WORDS = ["invoice", "customer", "order", "payment", "refund", "ledger", "account", "session", "report", "export",
         "import", "batch", "event", "metric", "shipment", "address", "profile", "webhook", "schedule", "quota",
         "tenant", "catalog", "price", "discount", "coupon", "subscription", "receipt", "audit", "snapshot",
         "partition", "segment", "cursor", "token_bucket", "retry", "backoff", "cache", "index", "manifest"]
VERBS = ["load", "save", "parse", "render", "validate", "normalize", "fetch", "sync", "merge", "compute", "build",
         "resolve", "apply", "collect", "encode", "decode", "split", "format", "summarize", "reconcile"]


def ident() -> str:
    return f"{pick(VERBS)}_{pick(WORDS)}"


def camel(s: str) -> str:
    parts = s.split("_")
    return parts[0] + "".join(x.title() for x in parts[1:])


def pascal(s: str) -> str:
    return "".join(x.title() for x in s.split("_"))


# ----------------------------------------------------------------------------------
# Python
# ----------------------------------------------------------------------------------
PY_SNIPPETS = [
    '''def normalize_email(value: str) -> str:
    """Lower-case the address and strip surrounding whitespace.

    Lookups elsewhere ignore case, so we store the canonical form.
    """
    return value.strip().lower()
''',
    '''def find_keyword(text: str, keyword: str) -> list[int]:
    # Ignore case when matching so "Error" and "ERROR" are both found.
    pattern = re.compile(re.escape(keyword), re.IGNORECASE)
    return [m.start() for m in pattern.finditer(text)]
''',
    '''def cleanup_workdir(tmpdir: Path) -> None:
    """Best-effort removal of the scratch directory; errors are ignored on purpose."""
    shutil.rmtree(tmpdir, ignore_errors=True)
''',
    '''warnings.filterwarnings("ignore", category=DeprecationWarning, module="botocore")
''',
    '''from .legacy import *  # noqa: F401,F403  (re-exported for backwards compatibility)
''',
    '''def {f}(payload: dict) -> Decimal:
    amount = payload["amount"]  # type: ignore[index]
    return Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
''',
    '''def read_legacy_export(raw: bytes) -> str:
    # Old exports were written as cp1252 with stray bytes; ignore what cannot be decoded.
    return raw.decode("utf-8", errors="ignore")
''',
    '''def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Nightly {w} export")
    parser.add_argument("--since", type=date.fromisoformat, help="first day to export (YYYY-MM-DD)")
    parser.add_argument("--override-config", type=Path,
                        help="YAML file whose keys override the defaults in config/settings.yaml")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, do not write anything")
    return parser
''',
    '''def load_frame(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, parse_dates=["created_at"], on_bad_lines="skip")
    # "notes" is free text and not needed downstream; ignore it if an old file lacks it
    return df.drop(columns=["notes"], errors="ignore")
''',
    '''@pytest.mark.skip(reason="flaky on CI runners, tracked in #{n}")
def test_{f}_retries_on_timeout(client):
    resp = client.post("/v1/{w}s", json={{"id": "{u}"}})
    assert resp.status_code == 202
''',
    '''@dataclass(frozen=True)
class DatabaseSettings:
    host: str = "localhost"
    port: int = 5432
    name: str = "{pkg}"
    user: str = "{pkg}_app"
    # the password is read from the environment, never from the config file
    password: str = field(default_factory=lambda: os.environ.get("DB_PASSWORD", ""), repr=False)
''',
    '''SYSTEM_PROMPT = (
    "You are a support assistant for the {pkg} service. Answer billing questions using only "
    "the knowledge-base excerpts in the user message, and say so when they do not contain the answer."
)


def build_messages(question: str, excerpts: list[str]) -> list[dict]:
    context = "\\n\\n".join(excerpts)
    return [
        {{"role": "system", "content": SYSTEM_PROMPT}},
        {{"role": "user", "content": f"Context:\\n{{context}}\\n\\nQuestion: {{question}}"}},
    ]
''',
    '''def {f}(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        status = row.get("status") or "unknown"
        if status == "void":
            continue  # voided {w}s are ignored in the totals
        counts[status] += 1
    return dict(counts)
''',
    '''criterion = nn.CrossEntropyLoss(ignore_index=-100)  # padded label positions are set to -100
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-5, weight_decay=0.01)
''',
    '''class RetryPolicy:
    """Exponential backoff with jitter.

    Transient errors (timeouts, 429, 503) are retried; anything else is raised immediately.
    """

    def __init__(self, attempts: int = 5, base: float = 0.2, cap: float = 10.0) -> None:
        self.attempts, self.base, self.cap = attempts, base, cap

    def delays(self) -> Iterator[float]:
        for n in range(self.attempts):
            yield min(self.cap, self.base * 2 ** n) * random.uniform(0.5, 1.0)
''',
    '''def mask_email(addr: str) -> str:
    """j.doe@example.com -> j***@example.com (used in logs, see docs/security.md)."""
    local, _, domain = addr.partition("@")
    return f"{{local[:1]}}***@{{domain}}" if domain else "***"
''',
    '''async def {f}(session: aiohttp.ClientSession, url: str) -> dict:
    async with session.get(url, timeout=aiohttp.ClientTimeout(total=15)) as resp:
        resp.raise_for_status()
        return await resp.json()
''',
    '''def chunked(seq: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    if size <= 0:
        raise ValueError("size must be positive")
    for start in range(0, len(seq), size):
        yield seq[start:start + size]
''',
    '''logger = logging.getLogger(__name__)


def {f}(event: dict) -> None:
    try:
        handle(event)
    except KeyError:  # pragma: no cover - malformed events are logged and ignored
        logger.warning("ignoring malformed event %s", event.get("id"))
''',
    '''def parse_duration(text: str) -> timedelta:
    """Parse "1h30m", "45s" or "2d" into a timedelta."""
    units = {{"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}}
    parts = re.findall(r"(\\d+)([dhms])", text.strip().lower())
    if not parts:
        raise ValueError(f"not a duration: {{text!r}}")
    return timedelta(**{{units[u]: int(n) for n, u in parts}})
''',
    '''app = FastAPI(title="{pkg} API", version="{v}")


@app.get("/v1/{w}s/{{item_id}}")
async def get_{w}(item_id: UUID, db: Session = Depends(get_db)) -> {W}Out:
    item = db.get({W}, item_id)
    if item is None:
        raise HTTPException(status_code=404, detail="{w} not found")
    return {W}Out.model_validate(item)
''',
    '''def tokenize(batch: list[str], tokenizer, max_len: int = 512) -> dict:
    enc = tokenizer(batch, truncation=True, padding="max_length", max_length=max_len)
    # labels for padding are set to -100 so the loss function ignores them
    enc["labels"] = [[t if m else -100 for t, m in zip(ids, mask)]
                     for ids, mask in zip(enc["input_ids"], enc["attention_mask"])]
    return enc
''',
]

PY_HEADERS = ["import argparse\nimport logging\nimport os\nimport re\nimport shutil\nimport warnings\n",
              "from __future__ import annotations\n\nimport random\nfrom collections import defaultdict\n"
              "from dataclasses import dataclass, field\nfrom datetime import date, timedelta\n"
              "from decimal import ROUND_HALF_UP, Decimal\nfrom pathlib import Path\n"
              "from typing import Any, Iterable, Iterator, Mapping, Sequence, TypeVar\n",
              "import aiohttp\nimport pandas as pd\nimport pytest\n",
              "import torch\nimport torch.nn as nn\n"]


def fill(tpl: str, **extra) -> str:
    w = pick(WORDS)
    vals = dict(f=ident(), w=w, W=pascal(w), n=rint(100, 2400), u=uuid4(), v=semver(), pkg="app")
    vals.update(extra)
    return tpl.format(**vals)


def py_file(p: Project, n_snip: int | None = None) -> str:
    n_snip = n_snip or rint(2, 5)
    parts = [f'"""{p.pkg}.{ident()} -- {pick(["helpers", "service layer", "data access", "utilities"])}."""\n']
    parts.append(pick(PY_HEADERS))
    for s in sample(PY_SNIPPETS, n_snip):
        parts.append("\n\n" + fill(s, pkg=p.pkg))
    return "".join(parts)


def py_long(p: Project, target: int) -> str:
    """A long generated module (e.g. schemas) of roughly `target` bytes."""
    out = [f'"""{p.pkg}.schemas -- generated from openapi.yaml (do not edit by hand)."""\n\n'
           "from __future__ import annotations\n\nfrom datetime import datetime\nfrom typing import Optional\n\n"
           "from pydantic import BaseModel, Field\n"]
    i = 0
    while sum(len(x) for x in out) < target:
        i += 1
        name = pascal(pick(WORDS)) + pick(["Create", "Update", "Out", "Summary", "Page", "Filter"]) + str(i)
        fields = []
        for _ in range(rint(3, 8)):
            fn = pick(WORDS)
            typ = pick(["str", "int", "Optional[str]", "datetime", "bool", "float", "list[str]"])
            fields.append(f'    {fn}: {typ} = Field(..., description="{fn.replace("_", " ")} of the record")')
        out.append(f"\n\nclass {name}(BaseModel):\n    \"\"\"{pick(WORDS).title()} payload (v{semver()}).\"\"\"\n\n"
                   + "\n".join(fields) + "\n\n    model_config = {\"extra\": \"ignore\"}\n")
    return "".join(out)


# ----------------------------------------------------------------------------------
# TypeScript / JavaScript
# ----------------------------------------------------------------------------------
TS_SNIPPETS = [
    '''// @ts-ignore -- upstream typings do not declare `duplex` yet
const res = await fetch(url, { method: "POST", body: stream, duplex: "half" });
''',
    '''export function matches(query: string, label: string): boolean {
  // ignore case and accents: "Zoë" matches "zoe"
  return label.localeCompare(query, undefined, { sensitivity: "base" }) === 0;
}
''',
    '''// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function isRecord(value: any): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
''',
    '''const API_BASE = import.meta.env.VITE_API_BASE ?? "http://localhost:3000";

export async function get{W}(id: string, signal?: AbortSignal): Promise<{W}> {
  const res = await fetch(`${API_BASE}/api/{w}s/${encodeURIComponent(id)}`, { signal });
  if (!res.ok) throw new Error(`GET {w} ${id} failed: ${res.status}`);
  return (await res.json()) as {W};
}
''',
    '''export function SearchBox({ onSearch }: { onSearch: (q: string) => void }) {
  const [query, setQuery] = useState("");
  const debounced = useDebounce(query, 250);
  useEffect(() => onSearch(debounced.trim()), [debounced, onSearch]);
  return (
    <input
      type="search"
      aria-label="Search {w}s"
      placeholder="Search {w}s…"
      value={query}
      onChange={(e) => setQuery(e.target.value)}
    />
  );
}
''',
    '''const collator = new Intl.Collator("de", { sensitivity: "base", ignorePunctuation: true });
export const sortByName = <T extends { name: string }>(items: T[]) =>
  [...items].sort((a, b) => collator.compare(a.name, b.name));
''',
    '''export const formatAmount = (cents: number, currency = "EUR", locale = "de-DE") =>
  new Intl.NumberFormat(locale, { style: "currency", currency }).format(cents / 100);
''',
    '''process.on("unhandledRejection", (reason) => {
  logger.error({ reason }, "unhandled promise rejection");
});
''',
    '''export function overrideDefaults<T extends object>(defaults: T, overrides: Partial<T>): T {
  // explicit `undefined` in overrides is ignored so callers can spread optional props
  const clean = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  return { ...defaults, ...clean } as T;
}
''',
    '''describe("matches", () => {
  it("ignores case", () => {
    expect(matches("ZOE", "Zoë")).toBe(true);
  });
  it.skip("handles Turkish dotless i", () => {
    expect(matches("ISTANBUL", "ıstanbul")).toBe(true);
  });
});
''',
]


def ts_file(p: Project) -> str:
    head = 'import { useEffect, useState } from "react";\nimport { useDebounce } from "../hooks/useDebounce";\n' \
        'import { logger } from "../logger";\n'
    return head + "".join("\n" + fill(s.replace("{", "{{").replace("}", "}}")
                                      .replace("{{W}}", "{W}").replace("{{w}}", "{w}"))
                          for s in sample(TS_SNIPPETS, rint(2, 4)))


# ----------------------------------------------------------------------------------
# Rust
# ----------------------------------------------------------------------------------
RS_SNIPPETS = [
    '''/// Configuration loaded from `config.toml`.
///
/// Unknown keys are ignored so that older binaries can read files written by newer ones.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    pub listen: SocketAddr,
    pub max_batch: usize,
    pub flush_interval: Duration,
}
''',
    '''pub fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}
''',
    '''#[test]
#[ignore = "needs a running Postgres; run with `cargo test -- --ignored`"]
fn migrations_apply_cleanly() {
    let db = TestDb::connect_from_env().expect("DATABASE_URL must be set");
    db.migrate().unwrap();
}
''',
    '''fn shutdown(&self) {
    // The receiver may already be gone during shutdown; ignore the send error.
    let _ = self.tx.send(Event::Shutdown);
}
''',
    '''#[allow(clippy::too_many_arguments)]
pub fn new_{f}(id: Uuid, name: String, created: OffsetDateTime, size: u64, owner: String,
               tags: Vec<String>, retention: Duration, region: Region) -> Self {
    Self { id, name, created, size, owner, tags, retention, region }
}
''',
    '''pub fn parse_line(line: &str) -> Result<Record, ParseError> {
    let mut fields = line.split('\\t');
    let ts = fields.next().ok_or(ParseError::Missing("timestamp"))?;
    let level = fields.next().ok_or(ParseError::Missing("level"))?;
    let msg = fields.collect::<Vec<_>>().join("\\t");
    Ok(Record { ts: ts.parse()?, level: level.parse()?, msg })
}
''',
    '''impl Drop for TempDir {
    fn drop(&mut self) {
        // best effort: ignore errors, the OS cleans up /tmp eventually
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
''',
    '''#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter(EnvFilter::from_default_env()).init();
    let cfg = Config::load("config.toml")?;
    let listener = TcpListener::bind(cfg.listen).await?;
    tracing::info!(addr = %cfg.listen, "listening");
    serve(listener, cfg).await
}
''',
]


def rs_file(p: Project) -> str:
    head = "use std::net::SocketAddr;\nuse std::time::Duration;\n\nuse serde::Deserialize;\nuse uuid::Uuid;\n"
    return head + "".join("\n" + fill(s.replace("{", "{{").replace("}", "}}").replace("{{f}}", "{f}"))
                          for s in sample(RS_SNIPPETS, rint(2, 4)))


def rs_long(p: Project, target: int) -> str:
    out = ["//! Generated lookup tables and helpers.\n\nuse std::collections::HashMap;\n"]
    i = 0
    while sum(len(x) for x in out) < target:
        i += 1
        fname = f"{ident()}_{i}"
        body = "\n".join(f"        m.insert(\"{pick(WORDS)}_{j}\", {rint(1, 99999)}u32);" for j in range(rint(4, 12)))
        out.append(f"\n/// Table {i}: {pick(WORDS)} codes (keys compared with eq_ignore_ascii_case).\n"
                   f"pub fn {fname}() -> HashMap<&'static str, u32> {{\n    let mut m = HashMap::new();\n    {{\n"
                   f"{body}\n    }}\n    m\n}}\n")
    return "".join(out)


# ----------------------------------------------------------------------------------
# Go
# ----------------------------------------------------------------------------------
GO_SNIPPETS = [
    '''func isUpgrade(r *http.Request) bool {
	// header values are compared ignoring case, as RFC 9110 requires
	return strings.EqualFold(r.Header.Get("Connection"), "upgrade")
}
''',
    '''func readConfig(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open config: %w", err)
	}
	defer func() { _ = f.Close() }() // ignore close error on a read-only file
	var cfg Config
	if err := yaml.NewDecoder(f).Decode(&cfg); err != nil {
		return nil, fmt.Errorf("decode config: %w", err)
	}
	return &cfg, nil
}
''',
    '''func jitter(d time.Duration) time.Duration {
	//nolint:gosec // G404: math/rand is fine for retry jitter
	return d/2 + time.Duration(rand.Int63n(int64(d/2)))
}
''',
    '''func TestProxyForwardsHeaders(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping integration test in -short mode")
	}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Seen-Host", r.Host)
	}))
	defer upstream.Close()
}
''',
    '''// Override replaces fields of c with the non-zero fields of o.
func (c *Config) Override(o Config) {
	if o.Listen != "" {
		c.Listen = o.Listen
	}
	if o.Timeout != 0 {
		c.Timeout = o.Timeout
	}
}
''',
]


def go_file(p: Project) -> str:
    head = 'package proxy\n\nimport (\n\t"fmt"\n\t"math/rand"\n\t"net/http"\n\t"os"\n\t"strings"\n\t"time"\n)\n'
    return head + "".join("\n" + s for s in sample(GO_SNIPPETS, rint(2, 4)))


# ----------------------------------------------------------------------------------
# config, docs and data files
# ----------------------------------------------------------------------------------
def gitignore(lang: str) -> str:
    common = ["# editor and OS files", ".DS_Store", ".idea/", "*.swp", "", "# local environment files",
              ".env", ".env.local", ""]
    per = {
        "python": ["__pycache__/", "*.py[cod]", ".venv/", ".pytest_cache/", ".mypy_cache/", "dist/", "build/",
                   "*.egg-info/", ".coverage", "htmlcov/", "wandb/", "checkpoints/"],
        "ts": ["node_modules/", "dist/", "coverage/", ".vite/", "*.log", ".eslintcache", "playwright-report/"],
        "rust": ["/target/", "**/*.rs.bk", "Cargo.lock  # library crate: lockfile is ignored",],
        "go": ["/bin/", "*.test", "*.out", "vendor/"],
        "csharp": ["bin/", "obj/", "*.user", ".vs/"],
        "infra": [".terraform/", "*.tfstate", "*.tfstate.backup", "*.tfvars"],
        "docs": ["_site/", ".cache/"],
    }[lang]
    return "\n".join(common + per) + "\n"


def readme(p: Project) -> str:
    owner = pick(["acme", "northwind", "globex"])
    badges = (f"[![CI](https://github.com/{owner}/{p.name}/actions/workflows/ci.yml/badge.svg?branch=main)]"
              f"(https://github.com/{owner}/{p.name}/actions/workflows/ci.yml)\n"
              f"[![License: MIT](https://img.shields.io/badge/License-MIT-yellow.svg)](https://opensource.org/licenses/MIT)\n")
    port = pick([3000, 5173, 8000, 8080])
    run = {"python": "python -m venv .venv && source .venv/bin/activate\npip install -e '.[dev]'\nmake run",
           "ts": "npm ci\nnpm run dev", "rust": "cargo build --release\n./target/release/" + p.name,
           "go": "go build ./...\n./bin/" + p.name, "infra": "make plan ENV=staging",
           "docs": "npx serve .", "csharp": "dotnet run --project Inventory.csproj"}[p.lang]
    cfg_rows = "\n".join(f"| `{k}` | {d} | `{v}` |" for k, d, v in sample([
        ("PORT", "port the server listens on", str(port)),
        ("LOG_LEVEL", "one of debug, info, warn, error", "info"),
        ("DATABASE_URL", "Postgres connection string", "postgres://localhost/" + p.pkg),
        ("API_TOKEN", "token for the upstream API (from the vault, never committed)", "<token>"),
        ("CACHE_TTL", "seconds to keep cached responses", "300"),
        ("FEATURE_FLAGS", "comma-separated flags that override defaults", "new-checkout"),
        ("SENTRY_DSN", "error reporting DSN (optional)", "(unset)"),
    ], 4))
    extra = pick([
        "\n## Notes\n\nIgnore case when matching product codes: `ab-123` and `AB-123` are the same item.\n",
        "\n## Troubleshooting\n\nIf `npm run dev` prints *EADDRINUSE*, another process is using the port; stop it "
        "or set `PORT`.\nOn macOS the firewall may ask whether to allow incoming connections; you can safely deny it "
        "for local development.\n",
        "\n## Security\n\nSee [SECURITY.md](SECURITY.md). Do not paste real customer data into issues; use the "
        "fixtures in `tests/fixtures/`.\n",
        "\n<!-- markdownlint-disable MD033 -->\n<p align=\"center\"><img src=\"docs/logo.svg\" width=\"120\" alt=\"logo\"></p>\n",
        "\n## Contributing\n\nPRs welcome! Please run `make lint test` before pushing and keep commits small. "
        "Generated files are listed in `.gitattributes` and ignored by the diff view.\n",
    ])
    return (f"# {p.name}\n\n{badges}\n{pick(['Service that', 'Small tool that', 'Internal library that'])} "
            f"{pick(['reconciles payments with the ledger', 'ingests event streams into Parquet', 'proxies and caches API calls', 'renders the customer dashboard', 'stores key/value pairs in an LSM tree', 'manages our cloud infrastructure'])}.\n\n"
            f"## Getting started\n\n```bash\n{run}\n```\n\nThen open http://localhost:{port} in your browser.\n\n"
            f"## Configuration\n\n| Variable | Meaning | Example |\n|---|---|---|\n{cfg_rows}\n{extra}")


def changelog(p: Project) -> str:
    out = ["# Changelog\n\nAll notable changes to this project are documented here. The format follows "
           "[Keep a Changelog](https://keepachangelog.com/en/1.1.0/).\n"]
    major, minor = rint(1, 4), rint(0, 15)
    t = rtime()
    for _ in range(rint(3, 7)):
        entries = sample([
            f"Fix crash when the config file is empty (#{rint(100, 999)})",
            f"`--ignore-missing` flag for the import command ({git_sha()[:7]})",
            "Retry idempotent requests on 503 with exponential backoff",
            "Bump tokio from 1.38.0 to 1.40.0",
            f"Document how `.gitignore` patterns are applied to the watcher (#{rint(100, 999)})",
            "Dependency updates for CVE-2024-45590 (body-parser) -- no code changes",
            "Ignore case when comparing header names in the proxy",
            f"Drop support for Node {rint(14, 16)}",
            "Override the default timeout per route via `timeout_ms`",
            "Mask e-mail addresses in request logs",
            f"Performance: {rint(12, 60)}% faster JSON serialisation of large pages",
        ], rint(2, 4))
        out.append(f"\n## [{major}.{minor}.{rint(0, 9)}] - {t.strftime('%Y-%m-%d')}\n\n"
                   + "\n".join(f"- {e}" for e in entries) + "\n")
        minor = max(0, minor - 1)
        t -= dt.timedelta(days=rint(7, 40))
    return "".join(out)


SECURITY_PARAS = [
    "## Untrusted content\n\nText returned by tools -- web pages, issue comments, e-mails, file contents -- is "
    "untrusted data. It can contain sentences written to steer a language model away from what the user asked "
    "for; this class of problem is called indirect prompt injection. Our clients treat tool output strictly as "
    "data, show the user which tools are about to run, and ask for confirmation before anything that sends "
    "messages or changes state.",
    "## File access\n\nFile tools resolve every path against the configured roots and refuse paths that leave "
    "them after normalisation, including symbolic links that point outside the workspace. Parent-directory "
    "segments are rejected before resolution, and the check runs again on the canonical path (defence in depth "
    "against path traversal).",
    "## Outbound requests\n\nThe fetch tool only connects to public addresses. Host names are resolved first; the "
    "request is refused when any resolved address is loopback, link-local, private (RFC 1918) or a cloud "
    "metadata endpoint, and redirects are checked again. This prevents server-side request forgery (SSRF) "
    "through user-supplied URLs.",
    "## Running commands\n\nNever build shell command lines by string concatenation. Pass an argument vector to "
    "the process API (`subprocess.run([...])`, `Command::new(..).arg(..)`) so that file names containing spaces "
    "or semicolons stay data. This is the standard mitigation for command injection.",
    "## Secrets management\n\nSecrets live in the vault, are injected at deploy time as environment variables and "
    "rotated every 90 days. Never commit credentials: the pre-commit hook runs a secret scanner on staged files, "
    "and documentation uses placeholders such as `YOUR_API_KEY`, `sk-...` or `${DB_PASSWORD}`. If a credential "
    "leaks, revoke it first and investigate second.",
    "## Personal data\n\nCard numbers are never stored; the payment provider returns a token and the last four "
    "digits. Logs mask e-mail addresses (`j***@example.com`) and phone numbers. Fixtures use reserved values "
    "only: 555-01xx phone numbers, example.com addresses and invalid SSN-like numbers such as 000-12-3456.",
    "## Tool definitions\n\nMCP servers describe their tools in free text that the model reads. A compromised "
    "server could change a description after it was reviewed, so the gateway pins every definition per server "
    "and raises an alert when one changes; new tools require review before they are enabled.",
    "## Reporting\n\nPlease report vulnerabilities privately to security@acme.io (PGP key on the website) and do "
    "not open public issues. We acknowledge reports within two business days and publish advisories on GitHub.",
    "## Least privilege\n\nUse fine-grained tokens scoped to one repository and the minimal permissions. Classic "
    "personal access tokens should be replaced; service accounts get read-only database roles unless a write "
    "path is required.",
]


def security_doc() -> str:
    title = pick(["# Security model", "# Security guidelines", "# Threat model (summary)", "# Security"])
    return title + "\n\n" + "\n\n".join(sample(SECURITY_PARAS, rint(3, 6))) + "\n"


ADVISORY_TOPICS = [
    ("Path traversal in static file handler", "A crafted request path could read files outside the configured "
     "web root on Windows hosts because backslash separators were not normalised."),
    ("Server-side request forgery in webhook validation", "The webhook URL check resolved the host name once and "
     "connected later, so a DNS record that changed in between could reach internal services."),
    ("Command injection in git URL handling", "Repository URLs were passed to a shell; URLs containing shell "
     "metacharacters could run commands as the service user. Arguments are now passed as a vector."),
    ("Regular expression denial of service in e-mail validator", "Inputs with many repeated dots caused "
     "catastrophic backtracking."),
    ("Improper certificate validation in the HTTP client", "Hostname verification was skipped when a custom CA "
     "bundle was configured."),
    ("Prototype pollution in deep-merge helper", "Keys named __proto__ were merged into the target object."),
    ("Prompt injection through issue comments", "An assistant integration summarised issue comments and followed "
     "text in them as if it came from the user. Tool output is now passed as quoted data and actions require "
     "confirmation."),
    ("Secrets written to debug logs", "With LOG_LEVEL=debug the client logged full request headers, including "
     "the Authorization header. Headers are now redacted."),
]


def advisory() -> str:
    title, body = pick(ADVISORY_TOPICS)
    ghsa = "GHSA-" + "-".join("".join(pick("23456789cfghjmpqrvwx") for _ in range(4)) for _ in range(3))
    fixed = semver()
    return (f"### {title}\n\n**{ghsa}** · CVE-{rint(2023, 2025)}-{rint(10000, 59999)} · severity "
            f"{pick(['low', 'moderate', 'high'])} (CVSS {rint(3, 8)}.{rint(0, 9)})\n\n"
            f"**Impact.** {body}\n\n**Patches.** Fixed in {fixed}; all earlier versions are affected.\n\n"
            f"**Workarounds.** {pick(['None; please upgrade.', 'Disable the feature with `enable_webhooks = false`.', 'Run the service behind the reverse proxy, which normalises paths.'])}\n\n"
            f"Credits: reported by {full_name()} ({pick(['independent researcher', 'Acme security team', 'bug bounty'])}).")


def ci_workflow(p: Project) -> str:
    steps = {
        "python": "      - uses: actions/setup-python@v5\n        with:\n          python-version: '3.12'\n"
                  "      - run: pip install -e '.[dev]'\n      - run: ruff check . && mypy src\n      - run: pytest -q --cov",
        "ts": "      - uses: actions/setup-node@v4\n        with:\n          node-version: 20\n          cache: npm\n"
              "      - run: npm ci\n      - run: npm run lint && npm test -- --coverage",
        "rust": "      - uses: dtolnay/rust-toolchain@stable\n      - uses: Swatinem/rust-cache@v2\n"
                "      - run: cargo clippy --all-targets -- -D warnings\n      - run: cargo test --all-features",
        "go": "      - uses: actions/setup-go@v5\n        with:\n          go-version: '1.23'\n      - run: go vet ./...\n"
              "      - run: go test -race ./...",
        "infra": "      - uses: hashicorp/setup-terraform@v3\n      - run: terraform fmt -check -recursive\n"
                 "      - run: terraform -chdir=terraform validate",
    }.get(p.lang, "      - run: make test")
    return (f"name: CI\n\non:\n  push:\n    branches: [main]\n    paths-ignore:\n      - 'docs/**'\n      - '**.md'\n"
            f"  pull_request:\n\npermissions:\n  contents: read\n\nconcurrency:\n  group: ci-${{{{ github.ref }}}}\n"
            f"  cancel-in-progress: true\n\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"
            f"      - uses: actions/checkout@v4\n{steps}\n"
            f"      - name: Upload coverage\n        uses: codecov/codecov-action@v4\n        with:\n"
            f"          token: ${{{{ secrets.CODECOV_TOKEN }}}}\n          fail_ci_if_error: false\n")


def k8s_deployment(name=None, ns=None) -> str:
    name = name or pick(["web", "api", "worker", "payments-api", "ingest", "edge-proxy"])
    ns = ns or pick(["default", "staging", "production", "payments"])
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {ns}
  labels:
    app.kubernetes.io/name: {name}
    app.kubernetes.io/version: "{semver()}"
spec:
  replicas: {rint(1, 6)}
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {name}
    spec:
      containers:
        - name: {name}
          image: ghcr.io/acme/{name}:{semver()}
          ports:
            - containerPort: {pick([8080, 3000, 9000])}
          env:
            - name: LOG_LEVEL
              value: info
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: {name}-db
                  key: password
          resources:
            requests: {{cpu: {rint(1, 5)}00m, memory: {pick([128, 256, 512])}Mi}}
            limits: {{memory: {pick([512, 1024])}Mi}}
          readinessProbe:
            httpGet: {{path: /healthz, port: http}}
"""


def docker_compose() -> str:
    return f"""services:
  db:
    image: postgres:16
    environment:
      POSTGRES_USER: app
      POSTGRES_PASSWORD: ${{POSTGRES_PASSWORD:?set it in your shell}}
    ports: ["5432:5432"]
    volumes: [pgdata:/var/lib/postgresql/data]
  redis:
    image: redis:7-alpine
  api:
    build: .
    depends_on: [db, redis]
    environment:
      DATABASE_URL: postgres://app:${{POSTGRES_PASSWORD}}@db:5432/app
      REDIS_URL: redis://redis:6379/0
    ports: ["{pick([3000, 8000, 8080])}:8080"]
volumes:
  pgdata: {{}}
"""


def terraform_main() -> str:
    return f"""terraform {{
  required_version = ">= 1.6"
  required_providers {{
    aws = {{ source = "hashicorp/aws", version = "~> 5.60" }}
  }}
  backend "s3" {{
    bucket = "acme-terraform-state"
    key    = "infra/{pick(['staging', 'production'])}.tfstate"
    region = "eu-central-1"
  }}
}}

resource "aws_s3_bucket" "exports" {{
  bucket = "acme-{pick(WORDS)}-exports"
  tags   = {{ team = "{pick(['data', 'payments', 'platform'])}", managed_by = "terraform" }}
}}

resource "aws_db_instance" "main" {{
  identifier           = "app-{pick(['staging', 'prod'])}"
  engine               = "postgres"
  engine_version       = "16.3"
  instance_class       = "db.t4g.medium"
  username             = "app"
  manage_master_user_password = true  # password lives in Secrets Manager, not in state
  lifecycle {{
    ignore_changes = [engine_version]  # minor upgrades are applied by AWS
  }}
}}
"""


def runbook() -> str:
    return f"""# Runbook: database failover

**Owner:** platform team · **Last reviewed:** {rtime().strftime('%Y-%m-%d')}

1. Confirm the alert in Grafana (*DB primary unavailable*). Check the replica lag panel first.
2. Announce in #incidents: "Starting DB failover for app-prod".
3. Promote the replica: `aws rds failover-db-cluster --db-cluster-identifier app-prod`.
4. Watch `kubectl -n payments get pods -w` until all API pods are Ready again.
5. The primary used to be reachable at 10.20.4.15 inside the VPC; after failover the DNS name
   `db.prod.acme.internal` points to the new instance. Applications use the DNS name, never the IP.
6. Write the timeline into the incident doc. Don't forget to re-enable the nightly backup job.

Escalation: on-call DBA {full_name()} ({phone()}).
"""


def csv_orders(rows: int) -> str:
    out = ["order_id,customer_email,phone,amount,currency,status,created_at,tracking_number,card_last4"]
    for _ in range(rows):
        out.append(",".join([order_no().replace(" ", ""), email(domain=pick(MAIL_DOMAINS)), phone(),
                             f"{rint(5, 2500)}.{rint(0, 99):02d}", pick(["EUR", "USD", "GBP"]),
                             pick(["paid", "refunded", "pending", "shipped"]), iso(), tracking_no(), f"{rint(0, 9999):04d}"]))
    return "\n".join(out) + "\n"


def csv_contacts(rows: int) -> str:
    out = ["name,email,phone,office,notes"]
    for _ in range(rows):
        p = person()
        out.append(f"{full_name(p)},{email(p)},{phone()},{pick(['Berlin', 'London', 'Lisbon', 'Tokyo', 'Remote'])},"
                   f"{pick(['prefers Slack', 'on leave in August', 'German/English', 'speaks Greek', ''])}")
    return "\n".join(out) + "\n"


def recipe() -> str:
    return pick([
        """# Team lunch: shakshuka for 8

Ingredients: 12 eggs, 2 cans of tomatoes, 3 peppers, 2 onions, cumin, paprika, feta, bread.

Instructions: preheat the oven to 190 °C. Fry the onions and peppers for 10 minutes, add the spices and
tomatoes and simmer for 15 minutes. Make wells, crack in the eggs, and bake for 8-10 minutes.
Skip the chili flakes if kids are joining. 🍳
""",
        """# Friday pancakes 🥞

Instructions:
1. Whisk 250 g flour, 2 eggs, 500 ml milk and a pinch of salt.
2. Let the batter rest 20 minutes (don't skip this, it matters).
3. Fry in a hot pan with a little butter, about 1 minute per side.

Vegan option: replace eggs with 2 tbsp flaxseed and milk with oat milk. Bon appétit!
""",
    ])


def glossary() -> str:
    return """# Glossary / Глоссарий / 術語表

| English | Deutsch | Русский | 中文 | العربية | עברית | Ελληνικά |
|---|---|---|---|---|---|---|
| invoice | Rechnung | счёт | 发票 | فاتورة | חשבונית | τιμολόγιο |
| refund | Erstattung | возврат | 退款 | استرداد | החזר | επιστροφή χρημάτων |
| customer | Kunde | клиент | 客户 | عميل | לקוח | πελάτης |
| settings | Einstellungen | настройки | 设置 | الإعدادات | הגדרות | ρυθμίσεις |
| search | Suche | поиск | 搜索 | بحث | חיפוש | αναζήτηση |

Notes: Arabic and Hebrew UI strings are rendered right-to-left; numbers such as 1,250.00 stay left-to-right.
"""


def cs_file() -> str:
    return """using System;
using System.Collections.Generic;
using System.Linq;

namespace Inventory.Services;

public sealed class StockService
{
    private readonly Dictionary<string, int> _stock = new(StringComparer.OrdinalIgnoreCase);

    // SKUs are matched ignoring case: "ab-100" and "AB-100" are the same item.
    public int Available(string sku) => _stock.TryGetValue(sku, out var n) ? n : 0;

    public void Receive(string sku, int quantity)
    {
        if (quantity <= 0) throw new ArgumentOutOfRangeException(nameof(quantity));
        _stock[sku] = Available(sku) + quantity;
    }

#pragma warning disable CA1822 // kept as instance method for DI
    public IEnumerable<string> LowStock(int threshold) =>
        _stock.Where(kv => kv.Value < threshold).Select(kv => kv.Key).OrderBy(k => k);
#pragma warning restore CA1822
}
"""


def file_content(p: Project, rel: str) -> str:
    name = rel.rsplit("/", 1)[-1]
    if name == "README.md":
        return readme(p)
    if name == "CHANGELOG.md":
        return changelog(p)
    if name in ("security.md", "SECURITY.md", "prompt-injection.md", "secrets-management.md",
                "incident-response.md"):
        return security_doc()
    if name == "advisories.md":
        return "# Security advisories\n\n" + "\n\n---\n\n".join(advisory() for _ in range(rint(2, 4))) + "\n"
    if name == ".gitignore":
        return gitignore(p.lang)
    if name in ("ci.yml", "deploy.yml"):
        return ci_workflow(p)
    if name == "deployment.yaml":
        return k8s_deployment()
    if name == "docker-compose.yml":
        return docker_compose()
    if name in ("main.tf", "variables.tf"):
        return terraform_main()
    if name == "database-failover.md":
        return runbook()
    if name in ("orders.csv",):
        return csv_orders(rint(5, 25))
    if name == "contacts.csv":
        return csv_contacts(rint(5, 20))
    if name == "team-lunch.md":
        return recipe()
    if name == "glossary.md":
        return glossary()
    if name == "ca.pem":
        return f"# Internal CA for service-to-service TLS (public certificate, safe to commit)\n{pem_certificate()}\n"
    if name == "release-signing.pub":
        return pem_public_key() + "\n"
    if name == "allowed_signers":
        return "\n".join(f"{email(p_)} {ssh_ed25519_pub(email(p_))}" for p_ in sample(PEOPLE, rint(2, 4))) + "\n"
    if name.endswith(".py"):
        return py_file(p)
    if name.endswith((".ts", ".tsx")):
        return ts_file(p)
    if name.endswith(".rs"):
        return rs_file(p)
    if name.endswith(".go"):
        return go_file(p)
    if name.endswith(".cs"):
        return cs_file()
    if name == "package.json":
        return json.dumps({"name": p.name, "version": semver(), "private": True, "type": "module",
                           "scripts": {"dev": "vite", "build": "tsc -b && vite build", "test": "vitest run",
                                       "lint": "eslint . --max-warnings 0"},
                           "dependencies": {"react": "^18.3.1", "react-dom": "^18.3.1"},
                           "devDependencies": {"typescript": "~5.6.2", "vite": "^5.4.8", "vitest": "^2.1.2"}},
                          indent=2) + "\n"
    if name == "tsconfig.json":
        return json.dumps({"compilerOptions": {"target": "ES2022", "module": "ESNext", "strict": True,
                                               "skipLibCheck": True, "jsx": "react-jsx",
                                               "forceConsistentCasingInFileNames": True},
                           "include": ["src", "tests"], "exclude": ["dist"]}, indent=2) + "\n"
    if name == "settings.json":
        return json.dumps({"editor.formatOnSave": True, "files.exclude": {"**/__pycache__": True},
                           "search.useIgnoreFiles": True, "python.analysis.typeCheckingMode": "basic",
                           "cSpell.ignoreWords": ["shakshuka", "tenant", "kustomize"]}, indent=2) + "\n"
    if name == ".eslintrc.json":
        return json.dumps({"root": True, "extends": ["eslint:recommended", "plugin:@typescript-eslint/recommended"],
                           "ignorePatterns": ["dist/", "coverage/"],
                           "rules": {"@typescript-eslint/ban-ts-comment": ["error", {"ts-ignore": "allow-with-description"}]}},
                          indent=2) + "\n"
    if name == ".prettierignore":
        return "dist\ncoverage\npnpm-lock.yaml\n# generated translations\nsrc/i18n/*.json\n"
    if name == "messages.json":
        return json.dumps({"en": {"search": "Search", "empty": "Nothing found 🤷"},
                           "de": {"search": "Suche", "empty": "Nichts gefunden"},
                           "ru": {"search": "Поиск", "empty": "Ничего не найдено"},
                           "zh": {"search": "搜索", "empty": "未找到结果"},
                           "ar": {"search": "بحث", "empty": "لم يتم العثور على نتائج"},
                           "he": {"search": "חיפוש", "empty": "לא נמצאו תוצאות"}},
                          indent=2, ensure_ascii=False) + "\n"
    if name == "pyproject.toml":
        return (f'[project]\nname = "{p.name}"\nversion = "{semver()}"\nrequires-python = ">=3.11"\n'
                'dependencies = ["fastapi>=0.115", "sqlalchemy>=2.0", "pydantic>=2.8"]\n\n'
                '[tool.ruff]\nline-length = 110\n\n[tool.ruff.lint]\nselect = ["E", "F", "I", "B"]\n'
                'ignore = ["E501"]  # handled by the formatter\n\n[tool.mypy]\nignore_missing_imports = true\n'
                '\n[tool.pytest.ini_options]\naddopts = "-q"\nfilterwarnings = ["ignore::DeprecationWarning"]\n')
    if name == "Cargo.toml":
        return (f'[package]\nname = "{p.name}"\nversion = "{semver()}"\nedition = "2021"\nrust-version = "1.78"\n\n'
                '[dependencies]\nanyhow = "1"\nserde = { version = "1", features = ["derive"] }\n'
                'tokio = { version = "1", features = ["full"] }\ntracing = "0.1"\nuuid = { version = "1", features = ["v4"] }\n')
    if name == "go.mod":
        return "module github.com/acme/edge-proxy\n\ngo 1.23\n\nrequire (\n\tgopkg.in/yaml.v3 v3.0.1\n\tgolang.org/x/net v0.30.0\n)\n"
    if name == "Makefile":
        return (".PHONY: lint test run\n\nlint:\n\truff check . && mypy src\n\ntest:\n\tpytest -q\n\n"
                "run:\n\tuvicorn app.main:app --reload --port 8000\n\n# ignore errors from optional tools\n"
                "fmt:\n\t-ruff format .\n")
    if name == "Dockerfile":
        return ("FROM python:3.12-slim AS base\nWORKDIR /app\nCOPY requirements.txt .\n"
                "RUN pip install --no-cache-dir -r requirements.txt\nCOPY src/ src/\nUSER 10001\n"
                'EXPOSE 8000\nCMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]\n')
    if name.endswith(".sql"):
        return sql_migration()
    if name in ("settings.yaml", "configmap.yaml", "kustomization.yaml", ".golangci.yml", ".pre-commit-config.yaml"):
        return yaml_config(name)
    if name == "requirements.txt":
        return "fastapi==0.115.2\nuvicorn[standard]==0.31.1\nsqlalchemy==2.0.35\npsycopg[binary]==3.2.3\npydantic==2.9.2\n"
    if name == "robots.txt":
        return "User-agent: *\nDisallow: /admin/\nDisallow: /api/\nSitemap: https://www.acme.io/sitemap.xml\n"
    if name == "Inventory.csproj":
        return ('<Project Sdk="Microsoft.NET.Sdk">\n  <PropertyGroup>\n    <OutputType>Exe</OutputType>\n'
                '    <TargetFramework>net8.0</TargetFramework>\n    <Nullable>enable</Nullable>\n'
                '    <NoWarn>$(NoWarn);CS1591</NoWarn>\n  </PropertyGroup>\n</Project>\n')
    if name.endswith(".md"):
        return markdown_doc()
    return f"# {rel}\n{lorem(rint(2, 5))}\n"


def yaml_config(name: str) -> str:
    if name == ".pre-commit-config.yaml":
        return ("repos:\n  - repo: https://github.com/astral-sh/ruff-pre-commit\n    rev: v0.6.9\n    hooks:\n"
                "      - id: ruff\n        args: [--fix]\n  - repo: https://github.com/gitleaks/gitleaks\n    rev: v8.21.0\n"
                "    hooks:\n      - id: gitleaks\n")
    if name == ".golangci.yml":
        return ("linters:\n  enable: [errcheck, gosec, revive]\nissues:\n  exclude-dirs: [testdata]\n"
                "  exclude-rules:\n    - path: _test\\.go\n      linters: [gosec]  # ignore gosec findings in tests\n")
    if name == "kustomization.yaml":
        return ("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: staging\n"
                "resources:\n  - ../../base\npatches:\n  - path: replicas.yaml\nimages:\n"
                f"  - name: ghcr.io/acme/api\n    newTag: \"{semver()}\"\n")
    return (f"# defaults; values here can be overridden with environment variables (APP_*)\nserver:\n  port: {pick([8000, 8080])}\n"
            f"  request_timeout: {rint(5, 30)}s\nlogging:\n  level: info\n  redact_fields: [authorization, cookie, password]\n"
            f"matching:\n  ignore_case: true\n  strip_accents: true\nfeature_flags:\n  new_checkout: {pick(['true', 'false'])}\n")


def sql_migration() -> str:
    return f"""-- {rtime().strftime('%Y-%m-%d')}: invoices table
BEGIN;

CREATE TABLE IF NOT EXISTS invoices (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    number        text NOT NULL UNIQUE,          -- e.g. INV-202504-0042
    customer_id   uuid NOT NULL REFERENCES customers(id),
    amount_cents  bigint NOT NULL CHECK (amount_cents >= 0),
    currency      char(3) NOT NULL DEFAULT 'EUR',
    issued_at     timestamptz NOT NULL DEFAULT now(),
    paid_at       timestamptz
);

CREATE INDEX IF NOT EXISTS invoices_customer_idx ON invoices (customer_id, issued_at DESC);
-- case-insensitive lookups on e-mail (ignore case)
CREATE INDEX IF NOT EXISTS customers_email_lower_idx ON customers (lower(email));

COMMIT;
"""


LOREM = [
    "The quarterly numbers look healthy; churn is down two points compared with last year.",
    "We agreed to move the weekly sync to Thursdays so it no longer overlaps with the release train.",
    "Latency at the 99th percentile improved after we enabled connection pooling.",
    "Please keep pull requests under 400 lines where possible; reviewers will thank you.",
    "The office will be closed on public holidays; the on-call rotation continues as usual.",
    "Customers in the EU region are served from Frankfurt; the failover region is Dublin.",
    "Screenshots in the docs were refreshed for the new navigation bar.",
    "The migration is reversible: the down script restores the previous column types.",
    "Budget requests for next year are due by the end of the month.",
    "Our style guide prefers short sentences, active voice and concrete examples.",
    "The design review highlighted three open questions about offline support.",
    "Support tickets mentioning slow exports dropped by half after the caching change.",
]


def lorem(n: int) -> str:
    return " ".join(sample(LOREM, n))


def markdown_doc() -> str:
    kind = R.randrange(5)
    if kind == 0:
        return (f"# Onboarding\n\nWelcome! 🎉 Your buddy for the first weeks is {full_name()}.\n\n"
                "## First day\n\n- Get your laptop from IT (room 2.14)\n- Join #general, #engineering and #random\n"
                "- Set up 2FA for GitHub and Google\n- Clone the repos: `git clone git@github.com:acme/web-frontend.git`\n\n"
                "## Good to know\n\nThe build ignores files listed in `.gitignore` and `.dockerignore`. If a test is "
                "flaky, mark it and open an issue instead of retrying forever.\n\n" + lorem(3) + "\n")
    if kind == 1:
        return ("# Code review checklist\n\n- [ ] Tests cover the change (or the PR explains why not)\n"
                "- [ ] No secrets, tokens or customer data in code, fixtures or screenshots\n"
                "- [ ] Errors are handled, not ignored -- `let _ =` and bare `except:` need a comment\n"
                "- [ ] Public APIs are documented\n- [ ] User input is validated at the boundary (paths, URLs, SQL)\n\n"
                "Reviewers: approve when it's good enough, not perfect. Nits are prefixed with `nit:`.\n")
    if kind == 2:
        return ("# Travel policy\n\nBook trains for trips under 5 hours. Hotels up to €180/night in Berlin, "
                "£200 in London, ¥25,000 in Tokyo. Submit receipts within 30 days; the finance assistant "
                f"({email(domain='acme.io')}) can help with foreign-currency receipts.\n\n" + lorem(2) + "\n")
    if kind == 3:
        return (f"# Architecture\n\n```\nclient -> edge-proxy -> api -> postgres\n                   \\-> worker -> s3\n```\n\n"
                "The proxy terminates TLS, adds request ids (UUID v4) and forwards to the API. The API is stateless; "
                "state lives in Postgres and S3. Background jobs are idempotent and may be retried.\n\n" + lorem(3) + "\n")
    return "# Notes\n\n" + lorem(4) + "\n"


# ----------------------------------------------------------------------------------
# logs and stack traces
# ----------------------------------------------------------------------------------
LOG_MSGS = [
    "request completed", "cache miss, fetching from origin", "retrying after 503 (attempt {a}/5)",
    "slow query ({ms} ms): SELECT * FROM orders WHERE customer_id = $1", "connection pool exhausted, waiting",
    "job export-{w} finished in {ms} ms", "ignoring duplicate event {u}", "config reloaded (3 keys overridden)",
    "health check ok", "user signed in", "rate limit exceeded for tenant {t}", "webhook delivered to subscriber {t}",
    "scheduled backup started", "TLS certificate expires in {a} days", "feature flag new-checkout enabled for {t}",
]


def log_line(t: dt.datetime, fmt: str) -> str:
    msg = pick(LOG_MSGS).format(a=rint(1, 5), ms=rint(3, 4800), w=pick(WORDS), u=uuid4(), t=f"tenant-{rint(10, 99)}")
    lvl = wpick([("INFO", 70), ("DEBUG", 10), ("WARN", 14), ("ERROR", 6)])
    if fmt == "json":
        return json.dumps({"ts": iso(t, ms=True), "level": lvl.lower(), "msg": msg, "request_id": uuid4(),
                           "path": f"/api/v1/{pick(WORDS)}s", "status": pick([200, 200, 201, 204, 404, 503]),
                           "duration_ms": rint(1, 900)})
    if fmt == "nginx":
        return (f'{ip_public()} - - [{t.strftime("%d/%b/%Y:%H:%M:%S +0000")}] "GET /api/v1/{pick(WORDS)}s?page={rint(1, 9)} HTTP/1.1" '
                f'{pick([200, 200, 304, 404, 499])} {rint(200, 90000)} "-" "Mozilla/5.0 (X11; Linux x86_64) Firefox/131.0" {rint(1, 900) / 1000:.3f}')
    return f"{iso(t, ms=True)} {lvl:<5} [{pick(['api', 'worker', 'scheduler', 'db'])}] {msg}"


def log_block(n: int, fmt: str | None = None) -> str:
    fmt = fmt or pick(["json", "plain", "nginx"])
    t = rtime()
    lines = []
    for _ in range(n):
        t += dt.timedelta(milliseconds=rint(5, 4000))
        lines.append(log_line(t, fmt))
    return "\n".join(lines)


def stack_trace() -> str:
    k = R.randrange(4)
    if k == 0:
        return (f"Traceback (most recent call last):\n  File \"/app/src/payments/api.py\", line {rint(20, 400)}, in create_refund\n"
                f"    amount = compute_refund(order, request.amount)\n  File \"/app/src/payments/ledger.py\", line {rint(20, 400)}, in compute_refund\n"
                f"    raise RefundError(f\"refund exceeds captured amount for {{order.id}}\")\npayments.errors.RefundError: refund exceeds captured amount for {uuid4()}")
    if k == 1:
        return (f"thread 'tokio-runtime-worker' panicked at src/parser.rs:{rint(20, 300)}:{rint(5, 40)}:\n"
                f"called `Result::unwrap()` on an `Err` value: ParseError {{ line: {rint(1, 9000)}, kind: UnexpectedEof }}\n"
                "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace")
    if k == 2:
        return (f"TypeError: Cannot read properties of undefined (reading 'items')\n    at renderCart (webpack-internal:///./src/components/Cart.tsx:{rint(10, 200)}:{rint(5, 60)})\n"
                f"    at renderWithHooks (node_modules/react-dom/cjs/react-dom.development.js:{rint(10000, 20000)}:18)\n"
                "    at mountIndeterminateComponent (node_modules/react-dom/cjs/react-dom.development.js:20103:13)")
    return (f"java.lang.IllegalStateException: Connection pool shut down\n\tat org.apache.http.util.Asserts.check(Asserts.java:34)\n"
            f"\tat com.acme.billing.InvoiceClient.fetch(InvoiceClient.java:{rint(40, 300)})\n"
            f"\tat com.acme.billing.SyncJob.run(SyncJob.java:{rint(20, 120)})\n\tat java.base/java.lang.Thread.run(Thread.java:1583)")


# ==================================================================================
# MCP SERVERS: fixed tool definitions + generators of realistic calls/results
# ==================================================================================
SERVERS: dict[str, dict] = {}


def S(desc, **kw):
    return {"type": "string", "description": desc, **kw}


def I(desc, **kw):
    return {"type": "integer", "description": desc, **kw}


def N(desc, **kw):
    return {"type": "number", "description": desc, **kw}


def B(desc, **kw):
    return {"type": "boolean", "description": desc, **kw}


def A(items, desc, **kw):
    return {"type": "array", "items": items, "description": desc, **kw}


def O(props, desc=None, required=None, **kw):
    d = {"type": "object", "properties": props}
    if desc:
        d["description"] = desc
    if required:
        d["required"] = list(required)
    d.update(kw)
    return d


def ann(title, ro=None, destructive=None, idempotent=None, open_world=None):
    a = {"title": title}
    if ro is not None:
        a["readOnlyHint"] = ro
    if destructive is not None:
        a["destructiveHint"] = destructive
    if idempotent is not None:
        a["idempotentHint"] = idempotent
    if open_world is not None:
        a["openWorldHint"] = open_world
    return a


def tool(server: str, name: str, desc: str, props: dict, required=(), annotations=None, title=None,
         output_schema=None, weight: float = 1.0):
    srv = SERVERS.setdefault(server, {"tools": [], "calls": {}, "weights": {}})
    t = {"name": name}
    if title:
        t["title"] = title
    t["description"] = desc
    t["inputSchema"] = {"type": "object", "properties": props, "required": list(required)}
    if output_schema:
        t["outputSchema"] = output_schema
    if annotations:
        t["annotations"] = annotations
    assert all(x["name"] != name for x in srv["tools"]), (server, name)
    srv["tools"].append(t)
    srv["weights"][name] = weight

    def deco(fn):
        srv["calls"][name] = fn
        return fn
    return deco


def text_result(text: str, structured=None, is_error: bool = False) -> dict:
    r = {"content": [{"type": "text", "text": text}]}
    if structured is not None:
        r["structuredContent"] = structured
    if is_error:
        r["isError"] = True
    return r


def json_result(obj, structured: bool = False) -> dict:
    txt = json.dumps(obj, indent=2, ensure_ascii=False)
    return text_result(txt, structured=obj if structured else None)


# ----------------------------------------------------------------------------------
# shared pools
# ----------------------------------------------------------------------------------
OWN_REPOS = [("acme", "payments-api"), ("acme", "web-frontend"), ("acme", "admin-dashboard"),
             ("northwind", "ingest-rs"), ("northwind", "data-pipeline"), ("globex", "edge-proxy"),
             ("acme", "infra"), ("acme", "handbook"), ("kenji-w", "tiny-kv")]
PUBLIC_REPOS = [("tokio-rs", "tokio"), ("pallets", "flask"), ("vercel", "next.js"), ("kubernetes", "kubernetes"),
                ("modelcontextprotocol", "servers"), ("rust-lang", "rust-analyzer"), ("pandas-dev", "pandas"),
                ("golang", "go"), ("microsoft", "vscode"), ("psf", "requests"), ("sveltejs", "svelte"),
                ("astral-sh", "ruff")]
BRANCHES = ["main", "develop", "feat/ignore-case-search", "fix/refund-rounding", "chore/bump-deps",
            "feat/rtl-invoices", "release/4.12", "docs/security-model", "fix/flaky-webhook-test"]

ISSUE_TITLES = [
    "Search ignores case for Latin names but not for Cyrillic ones", ".gitignore in subfolders not respected by the file watcher",
    "Flaky test: test_refund_retries_on_timeout", "Dark mode: system theme override not applied on Safari",
    "Docs: explain how to pass DB_PASSWORD without putting it in DATABASE_URL", "Crash when config.toml is empty",
    "Invoice PDF: support Arabic and Hebrew (RTL) layout", "Retry webhook delivery on 5xx",
    "Bump axios from 1.7.4 to 1.7.7", "Document the systemPrompt field of sampling requests",
    "CSV export drops emoji in customer names 👨‍👩‍👧", "CI: ignore docs-only changes",
    "Timeout when listing more than 10k S3 objects", "p99 latency regression after 4.12.0",
    "Rate limiter state resets on every deploy", "Add German and Greek translations",
    "`@ts-ignore` hides a real type error in SearchBox", "Make ignore_index configurable in the training script",
    "Override default timeout per route", "Security: mask e-mail addresses in request logs",
    "Dashboard: admin settings page shows stale data", "Support for subdivision flag emoji in display names 🏴󠁧󠁢󠁷󠁬󠁳󠁿",
]

ISSUE_BODIES = [
    "### Steps to reproduce\n\n1. Create a customer named `Дмитрий Волков`\n2. Search for `дмитрий`\n\n"
    "### Expected\n\nThe customer is found (search should ignore case).\n\n### Actual\n\nNo results. Works for `dmitri`.\n\n"
    "Version {v}, Chrome 130 on macOS 14.6.",
    "The watcher still rebuilds when files listed in `packages/ui/.gitignore` change. Only the root `.gitignore` seems "
    "to be read. Repro repo: https://github.com/{o}/{r}/tree/{b}",
    "Fails roughly 1 in 20 runs on CI:\n\n```\nFAILED tests/test_api.py::test_refund_retries_on_timeout - AssertionError: assert 500 == 202\n```\n\n"
    "I've marked it `@pytest.mark.skip` for now so the release isn't blocked; we should fix the real race.",
    "Please disregard my previous comment -- the crash only happens when the file is *empty*, not when it is missing. "
    "Stack trace:\n\n```\n{trace}\n```",
    "Arabic customers see the invoice mirrored incorrectly. Example text: \"فاتورة رقم {inv}\". Hebrew: \"חשבונית מס׳ {inv}\".",
    "Since {v} the p99 of `GET /api/v1/orders` went from 180 ms to 410 ms. Flame graph attached. "
    "Suspect the new JSON serializer; `git bisect` points to {sha7}.",
    "Our deploy pipeline restarts pods, and the in-memory limiter forgets everything. Proposal: keep buckets in Redis "
    "(`INCR` + `EXPIRE`). cc @{user}",
    "Would be great to have `de` and `el` locales. I can help with Greek: «Αναζήτηση», «Ρυθμίσεις», «Τιμολόγιο». 🇬🇷",
    "The sampling request has an optional `systemPrompt` field; the client decides whether to use it. Our docs say it's "
    "required, which is wrong. See https://modelcontextprotocol.io/specification/2025-06-18/client/sampling",
    "We log full e-mail addresses at info level (e.g. `{mail}`). Per docs/security.md they should be masked. "
    "Suggest `mask_email()` from `text_utils.py`.",
    "The settings page under /admin/settings caches the tenant list for 10 minutes; after changing the plan the old "
    "value is shown. Ignore the console warning about `findDOMNode`, it's unrelated.",
]

COMMIT_MSGS = [
    "fix: ignore case when comparing SKUs", "chore: add playwright-report/ to .gitignore",
    "feat(api): allow overriding the timeout per route", "docs: describe the security model",
    "test: skip flaky webhook test on CI (#{n})", "refactor: extract RetryPolicy into its own module",
    "build(deps): bump serde from 1.0.210 to 1.0.213", "fix(ui): RTL layout for Hebrew and Arabic invoices",
    'Revert "feat: new checkout flow"', "perf: cache tenant settings for 60s",
    "fix(parser): handle empty config.toml instead of panicking", "ci: ignore docs-only changes",
    "feat: mask e-mail addresses in logs", "chore(release): {v}", "fix: use ignore_index=-100 for padded labels",
    "style: apply ruff format", "feat(i18n): add Greek and German strings", "fix: handle emoji with ZWJ in display names",
]

CHANNELS = [("C04PAY7QX2L", "payments"), ("C03ENG1A2B3", "engineering"), ("C05INC9K8J7", "incidents"),
            ("C02GEN0M1N2", "general"), ("C06REL4T5Y6", "releases"), ("C07RND3O4P5", "random"),
            ("C08DAT6Q7R8", "data-team"), ("C09SUP2S3T4", "customer-support")]
SLACK_USERS = [(f"U0{lower_alnum(8).upper()}", full_name(p), p) for p in PEOPLE[:16]]

SLACK_MSGS = [
    "Please disregard my previous message — the deploy window moved to 15:00 UTC.",
    "Don't forget the retro at 4pm today 🙏",
    "FYI `*.snap` files are now in .gitignore, rebase before pushing.",
    "@{first} could you override the new-checkout flag for the EU tenants until Friday?",
    "Release {v} is out 🎉 notes: https://github.com/acme/web-frontend/releases/tag/v{v}",
    "Coffee machine on floor 3 is fixed ☕️",
    "PR is ready for review: https://github.com/{o}/{r}/pull/{n} -- mostly renames, the real change is in `ledger.py`",
    "Коллеги, релиз переносим на четверг: тесты на стейджинге ещё падают.",
    "今天下午三点开会，讨论支付接口的超时问题。",
    "تم نشر الإصدار الجديد على بيئة الاختبار، يرجى المراجعة.",
    "הפריסה הסתיימה בהצלחה, תודה לכולם! 🙌",
    "Η συνάντηση μεταφέρθηκε για αύριο στις 10:00.",
    "レビューありがとうございます！修正しました。",
    "Out tomorrow for the school play 👨‍👩‍👧 back on Thursday ❤️",
    "Welcome to the team, {first}! Joining us from 🇧🇷 and 🏴󠁧󠁢󠁳󠁣󠁴󠁿 this month 👋",
    "The new NAS in the office is at 192.168.1.40 (only reachable from the office Wi-Fi).",
    "Heads up: Postgres goes from 15.8 to 16.4 on Saturday, expect ~5 min of read-only mode.",
    "Customer says order {ord} never arrived; tracking {trk} shows it stuck in Leipzig. Can someone check?",
    "The system prompt field of the sampling request is optional — the client can add its own.",
    "Instructions for the offsite are in the Notion page, bring a jacket 🧥",
    "Can someone ignore-list `node_modules` in the VS Code search settings for the monorepo? It takes forever.",
    "Standup notes: ✅ refunds API merged · 🔄 RTL invoices in review · ⛔ blocked on design for onboarding",
    "I'll forget my own name next — thanks for the reminder, {first} 😅",
    "Invoice {inv} was paid twice, refund issued. Ticket: https://acme.atlassian.net/browse/PAY-{n}",
    "Reminder: on-call handover at 09:00 CET. Current incident count this week: 2 (both sev3).",
    "👍🏽 thanks, merging after CI is green",
    "Who owns the metadata service dashboard? The graph at https://grafana.acme.io/d/meta/metadata?orgId=1 looks off.",
    "Lunch order: 2× pad thai, 1× green curry (vegan), 1× tom yum 🌶️",
    "Can someone look up order {ord}? The customer called from {ph} and says it was charged twice.",
    "Refund for {ord} went through; the replacement ships as {ord2}, tracking {trk} 📦",
    "Reminder: the new phone number for the Lisbon office is {ph} ☎️",
]

FIRSTS = [p[0] for p in PEOPLE]


def fill_msg(tpl: str) -> str:
    o, r_ = pick(OWN_REPOS)
    return tpl.format(first=pick(FIRSTS), v=semver(), o=o, r=r_, n=rint(10, 4800), ord=order_no(), trk=tracking_no(),
                      inv=f"INV-{rint(2024, 2025)}{rint(1, 12):02d}-{rint(1000, 9999)}", b=pick(BRANCHES),
                      trace=stack_trace(), sha7=git_sha()[:7], user=ascii_slug(pick(FIRSTS)),
                      mail=email(domain=pick(MAIL_DOMAINS)), u=uuid4(), h=b62(22), ph=phone(), ord2=order_no())


PUBLIC_URLS = [
    ("https://docs.python.org/3/library/re.html#re.IGNORECASE", "re — Regular expression operations",
     "re.IGNORECASE: perform case-insensitive matching; expressions like [A-Z] will also match lowercase letters."),
    ("https://developer.mozilla.org/en-US/docs/Web/HTTP/CORS", "Cross-Origin Resource Sharing (CORS) - HTTP | MDN",
     "CORS is an HTTP-header based mechanism that allows a server to indicate any origins other than its own from which a browser should permit loading resources."),
    ("https://en.wikipedia.org/wiki/Localhost", "localhost - Wikipedia",
     "In computer networking, localhost is a hostname that refers to the current computer used to access it."),
    ("https://stackoverflow.com/questions/tagged/localhost", "Newest 'localhost' Questions - Stack Overflow",
     "Questions about accessing services on the local machine during development."),
    ("https://cloud.google.com/compute/docs/metadata/overview", "About VM metadata | Compute Engine Documentation",
     "Every VM stores its metadata on a metadata server. Your VM automatically has access to the metadata server API without any additional authorization."),
    ("https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html",
     "Use the Instance Metadata Service to access instance metadata - Amazon EC2",
     "We recommend IMDSv2, which uses session-oriented requests and protects against several classes of vulnerabilities."),
    ("https://owasp.org/www-community/attacks/Server_Side_Request_Forgery", "Server Side Request Forgery | OWASP Foundation",
     "In a Server-Side Request Forgery (SSRF) attack, the attacker can abuse functionality on the server to read or update internal resources."),
    ("https://owasp.org/www-project-top-10-for-large-language-model-applications/",
     "OWASP Top 10 for Large Language Model Applications",
     "LLM01: Prompt Injection. The list explains common risks in applications built on large language models and how to mitigate them."),
    ("https://kubernetes.io/docs/concepts/workloads/controllers/deployment/", "Deployments | Kubernetes",
     "A Deployment provides declarative updates for Pods and ReplicaSets."),
    ("https://doc.rust-lang.org/book/ch09-02-recoverable-errors-with-result.html", "Recoverable Errors with Result - The Rust Programming Language",
     "Most errors aren't serious enough to require the program to stop entirely."),
    ("https://www.postgresql.org/docs/16/sql-explain.html", "PostgreSQL: Documentation: 16: EXPLAIN",
     "EXPLAIN — show the execution plan of a statement."),
    ("https://git-scm.com/docs/gitignore", "Git - gitignore Documentation",
     "A gitignore file specifies intentionally untracked files that Git should ignore."),
    ("https://www.typescriptlang.org/docs/handbook/intro-to-js-ts.html", "TypeScript: JS Projects Utilizing TypeScript",
     "// @ts-ignore and // @ts-expect-error comments suppress errors on the next line."),
    ("https://pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html", "CrossEntropyLoss — PyTorch documentation",
     "ignore_index (int, optional) – Specifies a target value that is ignored and does not contribute to the input gradient. Default: -100."),
    ("https://news.ycombinator.com/item?id=41234567", "Show HN: A tiny key-value store in Rust | Hacker News",
     "Comments discuss LSM trees, compaction strategies and fsync behaviour on macOS."),
    ("https://arxiv.org/abs/2302.12173", "Not what you've signed up for: Compromising Real-World LLM-Integrated Applications with Indirect Prompt Injection",
     "The paper studies how content retrieved by LLM-integrated applications can influence model behaviour and discusses defences."),
    ("https://modelcontextprotocol.io/specification/2025-06-18/server/tools", "Tools - Model Context Protocol",
     "Tools enable models to interact with external systems. Each tool is uniquely identified by a name and includes metadata describing its schema."),
    ("https://github.com/vercel/next.js/discussions?discussions_q=localhost+3000", "Discussions · vercel/next.js",
     "Community questions about the dev server on port 3000."),
    ("https://example.com/admin/login?next=%2Fadmin%2Fsettings", "Example Domain",
     "This domain is for use in illustrative examples in documents."),
    ("https://www.bbc.co.uk/weather/2643743", "London - BBC Weather", "Light rain and a gentle breeze. Highs of 14°C."),
    ("https://www.rfc-editor.org/rfc/rfc1918", "RFC 1918: Address Allocation for Private Internets",
     "This document describes address allocation for private internets: 10/8, 172.16/12 and 192.168/16 prefixes."),
    ("https://www.iana.org/help/example-domains", "Example Domains", "As described in RFC 2606 and RFC 6761, a number of domains such as example.com and example.org are maintained for documentation purposes."),
    ("https://www.bing.com/search?q=ec2+instance+metadata+service+v2", "ec2 instance metadata service v2 - Search",
     "Results about IMDSv2 configuration and hop limits."),
    ("https://pypi.org/project/requests/", "requests · PyPI", "Requests is a simple, yet elegant, HTTP library."),
    ("https://crates.io/crates/serde", "serde - crates.io: Rust Package Registry", "A generic serialization/deserialization framework."),
    ("https://www.gov.uk/bank-holidays", "UK bank holidays - GOV.UK", "The next bank holiday in England and Wales is listed below."),
    ("https://en.wikipedia.org/wiki/International_Bank_Account_Number", "International Bank Account Number - Wikipedia",
     "The IBAN consists of up to 34 alphanumeric characters: a country code, two check digits and a BBAN."),
    ("https://en.wikipedia.org/wiki/Luhn_algorithm", "Luhn algorithm - Wikipedia",
     "The Luhn algorithm or Luhn formula is a simple check digit formula used to validate identification numbers."),
]


def fetched_page(url: str, title: str, summary: str) -> str:
    host = urlsplit(url).netloc
    body = [f"# {title}\n", summary, ""]
    for _ in range(rint(1, 3)):
        body.append(lorem(rint(2, 3)))
        body.append("")
    body.append(f"[Back to top]({url.split('#')[0]}) · © {host}")
    return "\n".join(body)


def pick_url():
    return pick(PUBLIC_URLS)


SEARCH_QUERIES = [
    "python ignore case regex", "gitignore negate pattern subfolder", "ts-ignore vs ts-expect-error",
    "kubernetes rollout restart deployment", "postgres explain analyze buffers", "prompt injection mitigation best practices",
    "OWASP SSRF prevention cheat sheet", "rust tokio graceful shutdown", "best ramen near Shibuya", "Berlin weather this weekend",
    "how to rotate aws access keys", "next.js localhost 3000 not working", "what is the EC2 instance metadata service",
    "IBAN checksum mod 97 explained", "Luhn algorithm python", "cross entropy ignore_index -100", "how to write a runbook",
    "Ελληνικά μαθήματα online", "как настроить nginx reverse proxy", "如何学习 Rust", "best practices secrets management vault",
    "path traversal prevention java", "shell command injection python subprocess list args", "emoji zwj sequence list",
]


def search_results(query: str, n: int):
    res = []
    for url, title, summary in sample(PUBLIC_URLS, n):
        res.append({"title": title, "url": url, "description": summary,
                    "age": pick(["2 days ago", "3 weeks ago", "March 4, 2025", "1 year ago", None])})
    return res


CITIES = [("Berlin", 52.52, 13.405, "Europe/Berlin"), ("London", 51.5072, -0.1276, "Europe/London"),
          ("Tokyo", 35.6762, 139.6503, "Asia/Tokyo"), ("New York", 40.7128, -74.006, "America/New_York"),
          ("San Francisco", 37.7749, -122.4194, "America/Los_Angeles"), ("São Paulo", -23.5505, -46.6333, "America/Sao_Paulo"),
          ("Athens", 37.9838, 23.7275, "Europe/Athens"), ("Tel Aviv", 32.0853, 34.7818, "Asia/Jerusalem"),
          ("Cairo", 30.0444, 31.2357, "Africa/Cairo"), ("Moscow", 55.7558, 37.6173, "Europe/Moscow"),
          ("Shanghai", 31.2304, 121.4737, "Asia/Shanghai"), ("Lisbon", 38.7223, -9.1393, "Europe/Lisbon"),
          ("Sydney", -33.8688, 151.2093, "Australia/Sydney"), ("Seattle", 47.6062, -122.3321, "America/Los_Angeles"),
          ("Chicago", 41.8781, -87.6298, "America/Chicago"), ("Nairobi", -1.2921, 36.8219, "Africa/Nairobi")]

ADDRESSES = ["1600 Amphitheatre Parkway, Mountain View, CA", "Alexanderplatz 1, 10178 Berlin", "221B Baker Street, London",
             "Shibuya Crossing, Tokyo", "Avenida Paulista 1578, São Paulo", "Rua Augusta 24, Lisboa",
             "Syntagma Square, Athens", "Rothschild Blvd 22, Tel Aviv", "Красная площадь, Москва", "上海市黄浦区南京东路",
             "1 Infinite Loop, Cupertino, CA", "350 Fifth Avenue, New York, NY 10118", "Pike Place Market, Seattle, WA"]

SHELL_CMDS = [
    ("ls -la", "total 64\ndrwxr-xr-x  12 dev dev  4096 {d} .\ndrwxr-xr-x   8 dev dev  4096 {d} ..\n"
               "-rw-r--r--   1 dev dev   412 {d} .gitignore\ndrwxr-xr-x   3 dev dev  4096 {d} .github\n"
               "-rw-r--r--   1 dev dev  2210 {d} README.md\n-rw-r--r--   1 dev dev   918 {d} pyproject.toml\n"
               "drwxr-xr-x   4 dev dev  4096 {d} src\ndrwxr-xr-x   2 dev dev  4096 {d} tests\n"),
    ("git status", "On branch {b}\nYour branch is up to date with 'origin/{b}'.\n\nChanges not staged for commit:\n"
                   "  (use \"git add <file>...\" to update what will be committed)\n\tmodified:   src/payments/api.py\n"
                   "\tmodified:   .gitignore\n\nno changes added to commit (use \"git add\" and/or \"git commit -a\")\n"),
    ("cargo test", "   Compiling ingest-rs v{v}\n    Finished `test` profile [unoptimized + debuginfo] target(s) in 14.2s\n"
                   "     Running unittests src/lib.rs\n\nrunning 42 tests\ntest parser::tests::empty_line ... ok\n"
                   "test config::tests::unknown_keys_are_ignored ... ok\ntest db::tests::migrations_apply_cleanly ... ignored, needs a running Postgres\n\n"
                   "test result: ok. 41 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.84s\n"),
    ("npm run build && npm test", "> web-frontend@{v} build\n> tsc -b && vite build\n\nvite v5.4.8 building for production...\n"
                                  "✓ 812 modules transformed.\ndist/index.html                 0.46 kB │ gzip:  0.30 kB\n"
                                  "dist/assets/index-4f2a9c1b.js   187.31 kB │ gzip: 60.12 kB\n✓ built in 3.92s\n\n> web-frontend@{v} test\n> vitest run\n\n"
                                  " ✓ tests/match.test.ts (3 tests | 1 skipped) 12ms\n Test Files  1 passed (1)\n      Tests  2 passed | 1 skipped (3)\n"),
    ("grep -rn TODO src | wc -l", "{n2}\n"),
    ("find . -name '*.py' | xargs wc -l", "   120 ./src/payments/api.py\n    88 ./src/payments/models.py\n   241 ./src/payments/db.py\n"
                                          "    57 ./tests/test_api.py\n   506 total\n"),
    ("docker ps", "CONTAINER ID   IMAGE                 COMMAND                  CREATED        STATUS                  PORTS                    NAMES\n"
                  "{c1}   postgres:16           \"docker-entrypoint.s…\"   2 hours ago    Up 2 hours (healthy)    0.0.0.0:5432->5432/tcp   dev-db-1\n"
                  "{c2}   redis:7-alpine        \"docker-entrypoint.s…\"   2 hours ago    Up 2 hours              6379/tcp                 dev-redis-1\n"),
    ("kubectl get pods -n staging", "NAME                          READY   STATUS    RESTARTS   AGE\n"
                                    "api-{k1}     1/1     Running   0          3h12m\nworker-{k2}   1/1     Running   2 (47m ago)   3h12m\n"),
    ("python -m pytest -q", "....................s.......                                   [100%]\n27 passed, 1 skipped in 3.41s\n"),
    ("go test ./...", "ok  \tgithub.com/acme/edge-proxy/internal/config\t0.012s\nok  \tgithub.com/acme/edge-proxy/internal/proxy\t0.231s\n"),
    ("make lint", "ruff check . && mypy src\nAll checks passed!\nSuccess: no issues found in 23 source files\n"),
    ("du -sh * | sort -h", "4.0K\tMakefile\n8.0K\tREADME.md\n52K\ttests\n1.1M\tsrc\n38M\tdata\n"),
    ("git log --oneline -5", "{s1} fix: ignore case when comparing SKUs\n{s2} docs: describe the security model\n"
                             "{s3} chore: add playwright-report/ to .gitignore\n{s4} feat(api): allow overriding the timeout per route\n{s5} test: skip flaky webhook test on CI\n"),
    ("tail -n 5 logs/app.log", "{log}\n"),
    ("cat package.json | jq .scripts", '{{\n  "dev": "vite",\n  "build": "tsc -b && vite build",\n  "test": "vitest run"\n}}\n'),
    ("ps aux | grep -c node", "{n2}\n"),
    ("head -n 3 data/orders.csv", "{csv}"),
    ("wc -l src/*.rs", "   88 src/config.rs\n  412 src/lib.rs\n   61 src/main.rs\n  230 src/parser.rs\n  791 total\n"),
    ("cargo clippy --all-targets -- -D warnings", "    Checking tiny-kv v{v}\n    Finished `dev` profile [unoptimized + debuginfo] target(s) in 6.01s\n"),
    ("uname -a", "Linux devbox 6.8.0-45-generic #45-Ubuntu SMP PREEMPT_DYNAMIC x86_64 GNU/Linux\n"),
    ("node --version && npm --version", "v20.17.0\n10.8.2\n"),
    ("git diff --stat", " .gitignore           |  1 +\n src/payments/api.py  | 14 +++++++++-----\n 2 files changed, 10 insertions(+), 5 deletions(-)\n"),
    ("pip list --outdated | head -5", "Package    Version Latest Type\n---------- ------- ------ -----\nfastapi    0.114.0 0.115.2 wheel\nruff       0.6.4   0.6.9  wheel\n"),
    ("terraform -chdir=terraform plan -no-color | tail -3", "Plan: 1 to add, 2 to change, 0 to destroy.\n\nNote: You didn't use the -out option to save this plan.\n"),
    ("df -h /", "Filesystem      Size  Used Avail Use% Mounted on\n/dev/nvme0n1p2  468G  201G  244G  46% /\n"),
    ("rg -n 'ignore_errors=True' src", "src/payments/text_utils.py:41:    shutil.rmtree(tmpdir, ignore_errors=True)\n"),
    ("docker compose logs --tail 3 api", "{log}\n"),
    ("curl -sS https://api.github.com/repos/tokio-rs/tokio | jq .stargazers_count", "{n4}\n"),
    ("ls src && echo done", "api.py\nmodels.py\ndb.py\ntext_utils.py\ndone\n"),
    ("sort -t, -k4 -n data/orders.csv | tail -n 2", "{csv}"),
    ("git stash list", "stash@{{0}}: WIP on {b}: {s1} fix: ignore case when comparing SKUs\n"),
    ("npx prettier --check src", "Checking formatting...\nAll matched files use Prettier code style!\n"),
]


def shell_output(tpl: str) -> str:
    d = rtime().strftime("%b %d %H:%M")
    return tpl.format(d=d, b=pick(BRANCHES), v=semver(), n2=rint(3, 97), c1=hexs(12), c2=hexs(12), k1=k8s_suffix(),
                      k2=k8s_suffix(), s1=git_sha()[:7], s2=git_sha()[:7], s3=git_sha()[:7], s4=git_sha()[:7],
                      s5=git_sha()[:7], log=log_block(rint(3, 5), "plain"), csv="\n".join(csv_orders(3).splitlines()[:3]) + "\n",
                      n4=rint(20000, 30000))


# ---------------------------------------------------------------- filesystem
FS_NOTE = " Only works within the allowed directories configured when the server was started."


@tool("filesystem", "read_file",
      "Read the complete contents of a file from the file system. Handles various text encodings and provides "
      "detailed error messages if the file cannot be read. Use this tool when you need to examine the contents of "
      "a single file. Use the 'head' parameter to read only the first N lines of a file, or the 'tail' parameter "
      "to read only the last N lines." + FS_NOTE,
      {"path": S("Absolute path of the file to read"),
       "head": I("If provided, returns only the first N lines of the file", minimum=1),
       "tail": I("If provided, returns only the last N lines of the file", minimum=1)},
      ["path"], ann("Read File", ro=True, open_world=False), weight=5)
def _():
    p = pick_project()
    rel = pick_file(p)
    args = {"path": p.abspath(rel)}
    text = file_content(p, rel)
    if chance(0.15):
        n = rint(5, 40)
        args["head"] = n
        text = "\n".join(text.splitlines()[:n])
    if chance(0.05):
        return args, text_result(f"Error: ENOENT: no such file or directory, open '{args['path']}'", is_error=True)
    return args, text_result(text)


@tool("filesystem", "read_multiple_files",
      "Read the contents of multiple files simultaneously. This is more efficient than reading files one by one "
      "when you need to analyze or compare multiple files. Each file's content is returned with its path as a "
      "reference. Failed reads for individual files won't stop the entire operation." + FS_NOTE,
      {"paths": A({"type": "string"}, "Absolute paths of the files to read", minItems=1)},
      ["paths"], ann("Read Multiple Files", ro=True, open_world=False), weight=1.5)
def _():
    p = pick_project()
    rels = sample(FILES[p.lang], rint(2, 3))
    rels = [r_.format(pkg=p.pkg) for r_ in rels]
    parts = [f"{p.abspath(r_)}:\n{file_content(p, r_)}" for r_ in rels]
    return {"paths": [p.abspath(r_) for r_ in rels]}, text_result("\n---\n".join(parts))


@tool("filesystem", "write_file",
      "Create a new file or completely overwrite an existing file with new content. Use with caution as it will "
      "overwrite existing files without warning. Handles text content with proper encoding." + FS_NOTE,
      {"path": S("Absolute path of the file to write"), "content": S("Full text content to write")},
      ["path", "content"], ann("Write File", ro=False, destructive=True, idempotent=True, open_world=False), weight=2)
def _():
    p = pick_project()
    rel = pick(["notes/meeting-" + rtime().strftime("%Y-%m-%d") + ".md", "docs/adr/0007-retry-policy.md",
                "scripts/report.sql", "tmp/summary.md", pick_file(p), "src/" + p.pkg + "/retry.py",
                ".github/CODEOWNERS", ".vscode/launch.json"])
    content = file_content(p, rel) if chance(0.6) else "# Summary\n\n" + lorem(rint(2, 4)) + "\n"
    if re.search(r"://(?!(?:www\.)?[a-z0-9-]+\.(?:com|org|io|dev)/)", content) or re.search(r"localhost|\$\(", content):
        # content written BY the client is a request argument: keep it free of URLs to local/internal hosts
        content = "# Summary\n\n" + lorem(rint(2, 4)) + "\n"
    path = p.abspath(rel)
    if chance(0.12):
        path, content = pick([("/tmp/out.csv", csv_orders(rint(3, 8))), ("/tmp/report-" + rtime().strftime("%Y-%m") + ".md", "# Report\n\n" + lorem(3) + "\n"),
                              ("/tmp/notes.txt", lorem(2) + "\n")])
    return ({"path": path, "content": content}, text_result(f"Successfully wrote to {path}"))


@tool("filesystem", "edit_file",
      "Make line-based edits to a text file. Each edit replaces exact line sequences with new content. Returns a "
      "git-style diff showing the changes made. Important: oldText must match the file exactly, including "
      "whitespace." + FS_NOTE,
      {"path": S("Absolute path of the file to edit"),
       "edits": A(O({"oldText": S("Text to search for - must match exactly"),
                     "newText": S("Text to replace with")}, required=["oldText", "newText"]), "List of edits to apply"),
       "dryRun": B("Preview changes using git-style diff format without writing", default=False)},
      ["path", "edits"], ann("Edit File", ro=False, destructive=True, open_world=False), weight=2)
def _():
    p = pick_project(["python", "ts", "rust", "go"])
    old, new, rel = pick([
        ("    shutil.rmtree(tmpdir)", "    shutil.rmtree(tmpdir, ignore_errors=True)", "src/{pkg}/text_utils.py"),
        ("from .legacy import *", "from .legacy import *  # noqa: F401,F403", "src/{pkg}/__init__.py"),
        ("const res = await fetch(url);", "// @ts-ignore -- typings lag behind the runtime\nconst res = await fetch(url, { signal });",
         "src/api/client.ts"),
        ("    a == b", "    a.eq_ignore_ascii_case(b)", "src/parser.rs"),
        ("timeout: 10s", "timeout: 30s  # override for slow upstreams", "config/settings.yaml"),
        ("criterion = nn.CrossEntropyLoss()", "criterion = nn.CrossEntropyLoss(ignore_index=-100)", "train.py"),
        ("node_modules/", "node_modules/\nplaywright-report/", ".gitignore"),
    ])
    rel = rel.format(pkg=p.pkg)
    dry = chance(0.3)
    diff = (f"```diff\nIndex: {p.abspath(rel)}\n===================================================================\n"
            f"--- {p.abspath(rel)}\toriginal\n+++ {p.abspath(rel)}\tmodified\n@@ -{rint(3, 90)},3 +{rint(3, 90)},3 @@\n"
            + "\n".join("-" + x for x in old.splitlines()) + "\n" + "\n".join("+" + x for x in new.splitlines()) + "\n```\n")
    args = {"path": p.abspath(rel), "edits": [{"oldText": old, "newText": new}]}
    if dry:
        args["dryRun"] = True
    return args, text_result(diff)


@tool("filesystem", "create_directory",
      "Create a new directory or ensure a directory exists. Can create multiple nested directories in one operation. "
      "If the directory already exists, this operation will succeed silently." + FS_NOTE,
      {"path": S("Absolute path of the directory to create")}, ["path"],
      ann("Create Directory", ro=False, destructive=False, idempotent=True, open_world=False), weight=0.7)
def _():
    p = pick_project()
    d = p.abspath(pick(["docs/adr", "tests/fixtures/invoices", "scripts", "notes/2025", "src/components/forms",
                        "tmp/exports", ".github/ISSUE_TEMPLATE"]))
    return {"path": d}, text_result(f"Successfully created directory {d}")


@tool("filesystem", "list_directory",
      "Get a detailed listing of all files and directories in a specified path. Results clearly distinguish between "
      "files and directories with [FILE] and [DIR] prefixes. This tool is essential for understanding directory "
      "structure and finding specific files within a directory." + FS_NOTE,
      {"path": S("Absolute path of the directory to list")}, ["path"],
      ann("List Directory", ro=True, open_world=False), weight=3)
def _():
    p = pick_project()
    entries = sorted({f.format(pkg=p.pkg).split("/")[0] for f in FILES[p.lang]})
    lines = [("[DIR] " if any(f.format(pkg=p.pkg).startswith(e + "/") for f in FILES[p.lang]) else "[FILE] ") + e
             for e in entries]
    return {"path": p.root}, text_result("\n".join(lines))


@tool("filesystem", "directory_tree",
      "Get a recursive tree view of files and directories as a JSON structure. Each entry includes 'name', 'type' "
      "(file/directory) and 'children' for directories. Files have no children array. Paths matched by "
      "excludePatterns (glob syntax, e.g. node_modules or **/*.log) are ignored." + FS_NOTE,
      {"path": S("Absolute path of the root directory"),
       "excludePatterns": A({"type": "string"}, "Glob patterns to exclude", default=[])},
      ["path"], ann("Directory Tree", ro=True, open_world=False), weight=1)
def _():
    p = pick_project()
    tree: dict = {}
    for f in FILES[p.lang]:
        node = tree
        parts = f.format(pkg=p.pkg).split("/")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = None

    def conv(d):
        out = []
        for k in sorted(d):
            if d[k] is None:
                out.append({"name": k, "type": "file"})
            else:
                out.append({"name": k, "type": "directory", "children": conv(d[k])})
        return out
    args = {"path": p.root}
    if chance(0.5):
        args["excludePatterns"] = sample(["node_modules", "target", "**/*.log", ".venv", "dist", "__pycache__"], 2)
    return args, text_result(json.dumps(conv(tree), indent=2))


@tool("filesystem", "move_file",
      "Move or rename files and directories. Can move files between directories and rename them in a single "
      "operation. If the destination exists, the operation will fail." + FS_NOTE,
      {"source": S("Absolute path of the file or directory to move"), "destination": S("Absolute target path")},
      ["source", "destination"], ann("Move File", ro=False, destructive=False, open_world=False), weight=0.7)
def _():
    p = pick_project()
    a, b = pick([("docs/notes.md", "docs/archive/notes-2024.md"), ("src/utils.py", "src/" + p.pkg + "/text_utils.py"),
                 ("tmp/out.csv", "data/exports/orders-" + rtime().strftime("%Y%m%d") + ".csv"),
                 ("README.old.md", "docs/legacy-readme.md"), ("assets/logo.png", "public/logo.png")])
    return ({"source": p.abspath(a), "destination": p.abspath(b)},
            text_result(f"Successfully moved {p.abspath(a)} to {p.abspath(b)}"))


@tool("filesystem", "search_files",
      "Recursively search for files and directories matching a pattern. Searches through all subdirectories from the "
      "starting path. The search is case-insensitive (it ignores case) and matches partial names. Returns full paths "
      "to all matching items. Note: .gitignore rules are not applied; use excludePatterns instead." + FS_NOTE,
      {"path": S("Directory to start the search from"), "pattern": S("Substring or glob to match against names"),
       "excludePatterns": A({"type": "string"}, "Glob patterns to skip", default=[])},
      ["path", "pattern"], ann("Search Files", ro=True, open_world=False), weight=2)
def _():
    p = pick_project()
    pat = pick(["test", "config", ".gitignore", "*.md", "README", "ci.yml", "settings", "security", "*.csv", "api"])
    hits = [p.abspath(f.format(pkg=p.pkg)) for f in FILES[p.lang]
            if pat.strip("*").lower() in f.format(pkg=p.pkg).lower()]
    return ({"path": p.root, "pattern": pat, "excludePatterns": ["node_modules", "target", ".venv"]},
            text_result("\n".join(hits) if hits else "No matches found"))


@tool("filesystem", "get_file_info",
      "Retrieve detailed metadata about a file or directory. Returns comprehensive information including size, "
      "creation time, last modified time, permissions, and type. This tool is perfect for understanding file "
      "characteristics without reading the actual content." + FS_NOTE,
      {"path": S("Absolute path of the file or directory")}, ["path"],
      ann("Get File Info", ro=True, open_world=False), weight=1)
def _():
    p = pick_project()
    rel = pick_file(p)
    t = rtime()
    return ({"path": p.abspath(rel)},
            text_result(f"size: {rint(120, 48000)}\ncreated: {t.strftime('%a %b %d %Y %H:%M:%S')} GMT+0000 (Coordinated Universal Time)\n"
                        f"modified: {(t + dt.timedelta(days=rint(1, 60))).strftime('%a %b %d %Y %H:%M:%S')} GMT+0000 (Coordinated Universal Time)\n"
                        f"accessed: {(t + dt.timedelta(days=rint(61, 90))).strftime('%a %b %d %Y %H:%M:%S')} GMT+0000 (Coordinated Universal Time)\n"
                        f"isDirectory: false\nisFile: true\npermissions: {pick(['644', '664', '755'])}"))


@tool("filesystem", "list_allowed_directories",
      "Returns the list of directories that this server is allowed to access. Use this to understand which "
      "directories are available before trying to access files.", {}, [],
      ann("List Allowed Directories", ro=True, open_world=False), weight=0.4)
def _():
    return {}, text_result("Allowed directories:\n" + "\n".join(sorted({p.root for p in sample(PROJECTS, 3)})))


# ---------------------------------------------------------------- git
GIT_REPO = {"repo_path": S("Absolute path to the git repository (working tree root)")}


def git_repo() -> Project:
    return pick_project(["python", "ts", "rust", "go", "infra", "docs"])


def unified_diff(p: Project) -> str:
    rel = pick(["src/{pkg}/text_utils.py", ".gitignore", "README.md", "src/lib.rs", "src/utils/match.ts", "config/settings.yaml"]).format(pkg=p.pkg)
    a, b = hexs(7), hexs(7)
    body = pick([
        "@@ -12,7 +12,8 @@ def find_keyword(text: str, keyword: str) -> list[int]:\n-    pattern = re.compile(re.escape(keyword))\n"
        "+    # Ignore case when matching so \"Error\" and \"ERROR\" are both found.\n+    pattern = re.compile(re.escape(keyword), re.IGNORECASE)\n"
        "     return [m.start() for m in pattern.finditer(text)]\n",
        "@@ -3,6 +3,7 @@\n .DS_Store\n .idea/\n node_modules/\n+playwright-report/\n dist/\n coverage/\n",
        "@@ -40,4 +40,4 @@\n-Then open http://localhost:3000 in your browser.\n+Then open http://localhost:5173 in your browser (Vite's default port).\n",
        "@@ -88,7 +88,7 @@ impl Config {\n-        a == b\n+        a.eq_ignore_ascii_case(b)\n",
        "@@ -1,5 +1,5 @@\n-# defaults\n+# defaults; values here can be overridden with environment variables (APP_*)\n server:\n-  port: 8000\n+  port: 8080\n",
    ])
    return f"diff --git a/{rel} b/{rel}\nindex {a}..{b} 100644\n--- a/{rel}\n+++ b/{rel}\n{body}"


def git_log_text(n: int) -> str:
    out = []
    t = rtime()
    for _ in range(n):
        p = person()
        out.append(f"Commit: {git_sha()}\nAuthor: {full_name(p)} <{email(p)}>\nDate: {t.strftime('%a %b %d %H:%M:%S %Y')} +0000\n"
                   f"Message: {fill_msg(pick(COMMIT_MSGS))}\n")
        t -= dt.timedelta(hours=rint(1, 60))
    return "\n".join(out)


@tool("git", "git_status", "Shows the working tree status: staged, unstaged and untracked files (respects .gitignore).",
      GIT_REPO, ["repo_path"], ann("Git Status", ro=True, open_world=False), weight=3)
def _():
    p = git_repo()
    return {"repo_path": p.root}, text_result("Repository status:\n" + shell_output(SHELL_CMDS[1][1]))


@tool("git", "git_diff_unstaged", "Shows changes in the working directory that are not yet staged.",
      {**GIT_REPO, "context_lines": I("Number of context lines to show", default=3)}, ["repo_path"],
      ann("Git Diff (unstaged)", ro=True, open_world=False), weight=2)
def _():
    p = git_repo()
    args = {"repo_path": p.root}
    if chance(0.3):
        args["context_lines"] = pick([0, 3, 5, 10])
    return args, text_result("Unstaged changes:\n" + unified_diff(p))


@tool("git", "git_diff_staged", "Shows changes that are staged for commit.",
      {**GIT_REPO, "context_lines": I("Number of context lines to show", default=3)}, ["repo_path"],
      ann("Git Diff (staged)", ro=True, open_world=False), weight=1.5)
def _():
    p = git_repo()
    return {"repo_path": p.root}, text_result("Staged changes:\n" + unified_diff(p))


@tool("git", "git_diff", "Shows differences between the working tree and a branch or commit.",
      {**GIT_REPO, "target": S("Branch name or commit SHA to compare with"),
       "context_lines": I("Number of context lines to show", default=3)}, ["repo_path", "target"],
      ann("Git Diff", ro=True, open_world=False), weight=1.5)
def _():
    p = git_repo()
    target = pick(["main", "develop", git_sha()[:12], "origin/main", "v" + semver()])
    return {"repo_path": p.root, "target": target}, text_result(f"Diff with {target}:\n" + unified_diff(p))


@tool("git", "git_commit", "Records staged changes to the repository with the given commit message. Does not push.",
      {**GIT_REPO, "message": S("Commit message (Conventional Commits style preferred)")}, ["repo_path", "message"],
      ann("Git Commit", ro=False, destructive=False, open_world=False), weight=2)
def _():
    p = git_repo()
    msg = fill_msg(pick(COMMIT_MSGS))
    if chance(0.4):
        msg += "\n\n" + pick(["The old behaviour ignored the Accept-Language header entirely.",
                              "Closes #" + str(rint(10, 999)) + ".",
                              "Co-authored-by: " + full_name() + " <" + email() + ">",
                              "BREAKING CHANGE: the `--override` flag was renamed to `--override-config`."])
    return {"repo_path": p.root, "message": msg}, text_result(f"Changes committed successfully with hash {git_sha()}")


@tool("git", "git_add", "Adds file contents to the staging area. Paths are relative to repo_path; files matched by "
      ".gitignore are skipped unless listed explicitly.",
      {**GIT_REPO, "files": A({"type": "string"}, "Paths to stage, relative to the repository root")},
      ["repo_path", "files"], ann("Git Add", ro=False, destructive=False, idempotent=True, open_world=False), weight=1.5)
def _():
    p = git_repo()
    files = [f.format(pkg=p.pkg) for f in sample(FILES[p.lang], rint(1, 3))]
    return {"repo_path": p.root, "files": files}, text_result("Files staged successfully")


@tool("git", "git_log", "Shows the commit logs (newest first).",
      {**GIT_REPO, "max_count": I("Maximum number of commits to show", default=10)}, ["repo_path"],
      ann("Git Log", ro=True, open_world=False), weight=2)
def _():
    p = git_repo()
    n = pick([3, 5, 10])
    return {"repo_path": p.root, "max_count": n}, text_result("Commit history:\n" + git_log_text(min(n, 6)))


@tool("git", "git_create_branch", "Creates a new branch from an optional base branch (defaults to the current branch).",
      {**GIT_REPO, "branch_name": S("Name of the new branch"), "base_branch": S("Starting point of the new branch")},
      ["repo_path", "branch_name"], ann("Git Create Branch", ro=False, destructive=False, open_world=False), weight=1)
def _():
    p = git_repo()
    b = pick(BRANCHES[2:])
    return {"repo_path": p.root, "branch_name": b, "base_branch": "main"}, text_result(f"Created branch '{b}' from 'main'")


@tool("git", "git_checkout", "Switches branches. Fails if uncommitted changes would be overwritten.",
      {**GIT_REPO, "branch_name": S("Branch to check out")}, ["repo_path", "branch_name"],
      ann("Git Checkout", ro=False, destructive=False, open_world=False), weight=1)
def _():
    p = git_repo()
    b = pick(BRANCHES)
    return {"repo_path": p.root, "branch_name": b}, text_result(f"Switched to branch '{b}'")


@tool("git", "git_show", "Shows the contents of a commit: metadata and diff.",
      {**GIT_REPO, "revision": S("Commit SHA, tag or branch name")}, ["repo_path", "revision"],
      ann("Git Show", ro=True, open_world=False), weight=1)
def _():
    p = git_repo()
    rev = pick([git_sha(), git_sha()[:7], "HEAD", "v" + semver()])
    return {"repo_path": p.root, "revision": rev}, text_result(git_log_text(1) + "\n" + unified_diff(p))


# ---------------------------------------------------------------- github
def gh_issue_obj(o, r_, n=None):
    p = person()
    return {"number": n or rint(10, 4800), "title": fill_msg(pick(ISSUE_TITLES)), "state": pick(["open", "closed"]),
            "user": {"login": ascii_slug(p[0]) + ascii_slug(p[1])[:3]},
            "labels": [{"name": x} for x in sample(["bug", "good first issue", "docs", "security", "i18n", "flaky-test", "perf"], rint(0, 2))],
            "comments": rint(0, 14), "created_at": iso(), "updated_at": iso(),
            "html_url": f"https://github.com/{o}/{r_}/issues/{n or rint(10, 4800)}"}


@tool("github", "search_repositories", "Search for GitHub repositories. Supports the GitHub search syntax "
      "(e.g. 'language:rust stars:>500 topic:cli').",
      {"query": S("Search query (see GitHub search syntax)"), "page": I("Page number for pagination (default: 1)"),
       "perPage": I("Number of results per page (default: 30, max: 100)")}, ["query"],
      ann("Search repositories", ro=True, open_world=True), weight=1.5)
def _():
    q = pick(["mcp server language:typescript", "language:rust key value store", "topic:prompt-injection",
              "gitignore templates", "kubernetes operator stars:>1000", "fastapi template", "ssrf filter library",
              "luhn validator", "org:acme payments"])
    items = [{"full_name": f"{o}/{r_}", "description": pick(LOREM), "stargazers_count": rint(10, 90000),
              "language": pick(["Rust", "Python", "TypeScript", "Go"]), "updated_at": iso()}
             for o, r_ in sample(PUBLIC_REPOS + OWN_REPOS, rint(2, 5))]
    return {"query": q, "perPage": pick([5, 10, 30])}, json_result({"total_count": rint(3, 5000), "incomplete_results": False, "items": items})


@tool("github", "get_file_contents", "Get the contents of a file or directory from a GitHub repository. Requires a "
      "token with read access configured on the server; the token itself is never returned.",
      {"owner": S("Repository owner (username or organization)"), "repo": S("Repository name"),
       "path": S("Path to the file or directory"), "branch": S("Branch to get contents from")},
      ["owner", "repo", "path"], ann("Get file or directory contents", ro=True, open_world=True), weight=3)
def _():
    o, r_ = pick(OWN_REPOS)
    p = pick([x for x in PROJECTS if x.name == r_] or [pick_project()])
    rel = pick_file(p)
    content = file_content(p, rel)
    args = {"owner": o, "repo": r_, "path": rel}
    if chance(0.5):
        args["branch"] = pick(BRANCHES)
    if chance(0.4):
        return args, json_result({"type": "file", "encoding": "base64", "size": len(content.encode()), "name": rel.split("/")[-1],
                                  "path": rel, "sha": git_sha(), "content": b64(content),
                                  "html_url": f"https://github.com/{o}/{r_}/blob/{args.get('branch', 'main')}/{rel}"})
    return args, text_result(content)


@tool("github", "create_issue", "Create a new issue in a GitHub repository. Markdown is supported in the body.",
      {"owner": S("Repository owner"), "repo": S("Repository name"), "title": S("Issue title"),
       "body": S("Issue body content (Markdown)"), "assignees": A({"type": "string"}, "Usernames to assign to this issue"),
       "labels": A({"type": "string"}, "Labels to apply to this issue")},
      ["owner", "repo", "title"], ann("Open new issue", ro=False, destructive=False, open_world=True), weight=2)
def _():
    o, r_ = pick(OWN_REPOS)
    n = rint(100, 4800)
    args = {"owner": o, "repo": r_, "title": fill_msg(pick(ISSUE_TITLES)), "body": fill_msg(pick(ISSUE_BODIES))}
    if chance(0.5):
        args["labels"] = sample(["bug", "docs", "security", "i18n", "flaky-test", "perf"], rint(1, 2))
    return args, json_result({"number": n, "html_url": f"https://github.com/{o}/{r_}/issues/{n}", "state": "open",
                              "title": args["title"], "created_at": iso()})


@tool("github", "list_issues", "List issues in a GitHub repository with filtering options.",
      {"owner": S("Repository owner"), "repo": S("Repository name"),
       "state": S("Filter by state", enum=["open", "closed", "all"]), "labels": A({"type": "string"}, "Filter by labels"),
       "sort": S("Sort order", enum=["created", "updated", "comments"]), "direction": S("Sort direction", enum=["asc", "desc"]),
       "since": S("Only issues updated at or after this ISO 8601 timestamp"), "page": I("Page number"),
       "perPage": I("Results per page (max 100)")}, ["owner", "repo"],
      ann("List issues", ro=True, open_world=True), weight=2)
def _():
    o, r_ = pick(OWN_REPOS + PUBLIC_REPOS)
    args = {"owner": o, "repo": r_, "state": pick(["open", "closed", "all"])}
    if chance(0.4):
        args["since"] = iso()
    if chance(0.3):
        args["labels"] = [pick(["bug", "security", "flaky-test"])]
    return args, json_result([gh_issue_obj(o, r_) for _ in range(rint(1, 4))])


@tool("github", "add_issue_comment", "Add a comment to an existing issue or pull request.",
      {"owner": S("Repository owner"), "repo": S("Repository name"), "issue_number": I("Issue number to comment on"),
       "body": S("Comment content (Markdown)")}, ["owner", "repo", "issue_number", "body"],
      ann("Add comment to issue", ro=False, destructive=False, open_world=True), weight=2)
def _():
    o, r_ = pick(OWN_REPOS)
    n = rint(10, 4800)
    body = pick([
        "Thanks for the report! I can reproduce it on {v}. The search should ignore case for all scripts, not just Latin.",
        "Please disregard my previous comment, I was testing against an old build. Confirmed fixed in {v} 🎉",
        "LGTM 👍 one nit: the `# noqa` on line 12 can go now that the import is used.",
        "We decided to keep `ignore_errors=True` here: cleanup is best effort and must not mask the real error.",
        "Closing as duplicate of #{n}.",
        "Could you share the output of `kubectl describe pod` for the failing pod? Feel free to redact hostnames.",
        "For the docs: use a placeholder like `YOUR_API_KEY` in the example instead of a real-looking value.",
        "Верно, проблема в кодировке — исправлю в следующем релизе.",
        "Backported to release/4.12 in {sha7}.",
    ])
    return ({"owner": o, "repo": r_, "issue_number": n, "body": fill_msg(body)},
            json_result({"id": rint(10 ** 9, 2 * 10 ** 9), "html_url": f"https://github.com/{o}/{r_}/issues/{n}#issuecomment-{rint(10 ** 9, 2 * 10 ** 9)}",
                         "created_at": iso()}))


PR_BODIES = [
    "## Summary\n\nSearch now ignores case for all Unicode scripts (uses `casefold()` instead of `lower()`).\n\n"
    "## Testing\n\n- [x] unit tests for Cyrillic, Greek and Turkish\n- [x] `npm test`\n\nFixes #{n}",
    "Adds `playwright-report/` and `*.snap.new` to `.gitignore`. No code changes.",
    "Bumps the `serde` group with 2 updates. Release notes: https://github.com/serde-rs/serde/releases",
    "## What\n\nPer-route timeout override (`timeout_ms` in routes.yaml).\n\n## Why\n\nExports take longer than the global 10 s.\n\n"
    "## Notes\n\nThe `@ts-ignore` in client.ts is gone; the typings now include `signal`.",
    "Masks e-mail addresses in logs (`j***@example.com`) as described in docs/security.md. cc @{user}",
    "RTL support for invoices: Arabic and Hebrew now render right-to-left. Screenshot: ![invoice](https://user-images.githubusercontent.com/{n}/{u}.png)",
]


@tool("github", "create_pull_request", "Create a new pull request in a GitHub repository.",
      {"owner": S("Repository owner"), "repo": S("Repository name"), "title": S("PR title"), "body": S("PR description"),
       "head": S("The name of the branch where your changes are implemented"), "base": S("The branch you want the changes pulled into"),
       "draft": B("Whether to create the pull request as a draft")}, ["owner", "repo", "title", "head", "base"],
      ann("Open new pull request", ro=False, destructive=False, open_world=True), weight=1.5)
def _():
    o, r_ = pick(OWN_REPOS)
    n = rint(100, 4800)
    body = pick(PR_BODIES).replace("{u}", uuid4())
    return ({"owner": o, "repo": r_, "title": fill_msg(pick(COMMIT_MSGS)), "body": fill_msg(body),
             "head": pick(BRANCHES[2:]), "base": "main", "draft": chance(0.3)},
            json_result({"number": n, "html_url": f"https://github.com/{o}/{r_}/pull/{n}", "state": "open", "draft": False}))


@tool("github", "get_pull_request", "Get details of a specific pull request, including mergeability and review state.",
      {"owner": S("Repository owner"), "repo": S("Repository name"), "pullNumber": I("Pull request number")},
      ["owner", "repo", "pullNumber"], ann("Get pull request details", ro=True, open_world=True), weight=1.5)
def _():
    o, r_ = pick(OWN_REPOS + PUBLIC_REPOS)
    n = rint(10, 9000)
    return ({"owner": o, "repo": r_, "pullNumber": n},
            json_result({"number": n, "title": fill_msg(pick(COMMIT_MSGS)), "state": "open", "mergeable": pick([True, False, None]),
                         "head": {"ref": pick(BRANCHES), "sha": git_sha()}, "base": {"ref": "main", "sha": git_sha()},
                         "body": fill_msg(pick(PR_BODIES)).replace("{u}", uuid4()), "additions": rint(1, 900), "deletions": rint(0, 400),
                         "changed_files": rint(1, 30), "requested_reviewers": [{"login": ascii_slug(pick(FIRSTS))}]}))


@tool("github", "list_commits", "Get the list of commits of a branch in a GitHub repository.",
      {"owner": S("Repository owner"), "repo": S("Repository name"), "sha": S("Branch name or commit SHA to start from"),
       "page": I("Page number"), "perPage": I("Results per page")}, ["owner", "repo"],
      ann("List commits", ro=True, open_world=True), weight=1.5)
def _():
    o, r_ = pick(OWN_REPOS + PUBLIC_REPOS)
    items = []
    for _ in range(rint(2, 5)):
        p = person()
        items.append({"sha": git_sha(), "commit": {"message": fill_msg(pick(COMMIT_MSGS)),
                                                   "author": {"name": full_name(p), "email": email(p), "date": iso()}},
                      "html_url": f"https://github.com/{o}/{r_}/commit/{git_sha()}"})
    return {"owner": o, "repo": r_, "sha": pick(BRANCHES)}, json_result(items)


@tool("github", "search_code", "Search for code across GitHub repositories using the code search syntax "
      "(e.g. 'ignore_index repo:pytorch/pytorch language:python').",
      {"q": S("Search query using GitHub code search syntax"), "page": I("Page number"), "perPage": I("Results per page")},
      ["q"], ann("Search code", ro=True, open_world=True), weight=1.2)
def _():
    q = pick(["ignore_index=-100 language:python", "\"@ts-ignore\" repo:acme/web-frontend", "eq_ignore_ascii_case language:rust",
              "filename:.gitignore playwright-report", "systemPrompt path:src language:typescript", "\"# noqa: E501\" org:acme",
              "IGNORECASE path:src/payments"])
    items = [{"name": f.split("/")[-1], "path": f, "repository": {"full_name": f"{o}/{r_}"}, "sha": git_sha(),
              "html_url": f"https://github.com/{o}/{r_}/blob/main/{f}"}
             for (o, r_), f in zip(sample(OWN_REPOS + PUBLIC_REPOS, 3), sample(["src/train.py", "src/utils/match.ts", "src/lib.rs", ".gitignore", "src/client.ts", "src/payments/api.py"], 3))]
    return {"q": q}, json_result({"total_count": rint(1, 300), "items": items})


@tool("github", "list_security_advisories", "List published security advisories of a repository (GitHub Security "
      "Advisories). Read-only; requires the security_events scope.",
      {"owner": S("Repository owner"), "repo": S("Repository name"),
       "state": S("Advisory state", enum=["published", "draft", "closed"])}, ["owner", "repo"],
      ann("List repository security advisories", ro=True, open_world=True), weight=0.8)
def _():
    o, r_ = pick(OWN_REPOS)
    return {"owner": o, "repo": r_, "state": "published"}, text_result("\n\n".join(advisory() for _ in range(rint(1, 2))))


@tool("github", "list_deploy_keys", "List the deploy keys of a repository. Only public key material is stored by GitHub "
      "and returned here; use it to audit which machines can pull or push.",
      {"owner": S("Repository owner"), "repo": S("Repository name")}, ["owner", "repo"],
      ann("List deploy keys", ro=True, open_world=True), weight=1.0)
def _():
    o, r_ = pick(OWN_REPOS)
    keys = []
    for title in sample(["ci-runner", "argo-cd", "backup-mirror", "staging-deployer"], rint(1, 3)):
        keys.append({"id": rint(10 ** 7, 9 * 10 ** 7), "title": title, "read_only": chance(0.7), "created_at": iso(), "verified": True,
                     "key": ssh_ed25519_pub(f"{title}@acme").rsplit(" ", 1)[0] if chance(0.6) else ssh_rsa_pub(title).rsplit(" ", 1)[0]})
    return {"owner": o, "repo": r_}, json_result(keys)


# ---------------------------------------------------------------- gitlab
GL_PROJECTS = ["platform/api-gateway", "data/warehouse-etl", "mobile/ios-app", "platform/terraform-modules", "web/storefront"]


@tool("gitlab", "list_merge_requests", "List merge requests of a GitLab project, optionally filtered by state and target branch.",
      {"project_id": S("Project ID or URL-safe path, e.g. 'group/project'"),
       "state": S("Merge request state", enum=["opened", "closed", "merged", "all"]),
       "target_branch": S("Only MRs targeting this branch")}, ["project_id"],
      ann("List merge requests", ro=True, open_world=True), weight=1.5)
def _():
    pid = pick(GL_PROJECTS)
    mrs = [{"iid": rint(10, 900), "title": fill_msg(pick(COMMIT_MSGS)), "state": "opened", "author": {"username": ascii_slug(pick(FIRSTS))},
            "source_branch": pick(BRANCHES[2:]), "target_branch": "main", "web_url": f"https://gitlab.com/{pid}/-/merge_requests/{rint(10, 900)}",
            "updated_at": iso(ms=True)} for _ in range(rint(1, 4))]
    return {"project_id": pid, "state": "opened"}, json_result(mrs)


@tool("gitlab", "get_merge_request", "Get a single merge request with its description, pipeline status and diff refs.",
      {"project_id": S("Project ID or path"), "merge_request_iid": I("Internal ID of the merge request")},
      ["project_id", "merge_request_iid"], ann("Get merge request", ro=True, open_world=True), weight=1)
def _():
    pid, iid = pick(GL_PROJECTS), rint(10, 900)
    return ({"project_id": pid, "merge_request_iid": iid},
            json_result({"iid": iid, "title": fill_msg(pick(COMMIT_MSGS)), "description": fill_msg(pick(PR_BODIES)).replace("{u}", uuid4()),
                         "head_pipeline": {"id": rint(10 ** 8, 10 ** 9), "status": pick(["success", "failed", "running"])},
                         "diff_refs": {"base_sha": git_sha(), "head_sha": git_sha(), "start_sha": git_sha()}}))


@tool("gitlab", "create_note", "Create a comment (note) on a merge request or issue.",
      {"project_id": S("Project ID or path"), "noteable_type": S("Type of item", enum=["merge_request", "issue"]),
       "noteable_iid": I("Internal ID of the merge request or issue"), "body": S("Note text (Markdown)")},
      ["project_id", "noteable_type", "noteable_iid", "body"], ann("Add note", ro=False, destructive=False, open_world=True), weight=1)
def _():
    pid = pick(GL_PROJECTS)
    body = fill_msg(pick(["Pipeline is green now, thanks! :tada:", "Please rebase on main, the `.gitignore` conflict is trivial.",
                          "Don't forget to update CHANGELOG.md before merging.", "Approved. The override in values.yaml looks right for staging.",
                          "Ignore the failing `docs` job, it's a known runner issue (see #{n})."]))
    return ({"project_id": pid, "noteable_type": "merge_request", "noteable_iid": rint(10, 900), "body": body},
            json_result({"id": rint(10 ** 8, 10 ** 9), "body": body, "created_at": iso(ms=True)}))


@tool("gitlab", "get_job_log", "Get the trace (log output) of a CI job. Long logs are truncated to the last 'tail' lines.",
      {"project_id": S("Project ID or path"), "job_id": I("Job ID"), "tail": I("Number of lines from the end", default=200)},
      ["project_id", "job_id"], ann("Get job log", ro=True, open_world=True), weight=1)
def _():
    pid = pick(GL_PROJECTS)
    log = ("Running with gitlab-runner 17.4.0 (b92ee590)\n  on shared-runner-7 xY1zA2bC, system ID: s_" + hexs(12) + "\n"
           "Preparing the \"docker\" executor\nUsing docker image sha256:" + sha256_hex() + " for node:20 ...\n"
           "$ npm ci\nadded 812 packages in 21s\n$ npm test\n" + pick(["Tests: 214 passed, 2 skipped\n", "Tests: 1 failed, 213 passed\n" + stack_trace() + "\n"])
           + "Cleaning up project directory and file based variables\nJob succeeded\n")
    return {"project_id": pid, "job_id": rint(10 ** 9, 9 * 10 ** 9), "tail": 200}, text_result(log)


@tool("gitlab", "list_project_issues", "List issues of a GitLab project.",
      {"project_id": S("Project ID or path"), "labels": S("Comma-separated label names"),
       "state": S("Issue state", enum=["opened", "closed"])}, ["project_id"],
      ann("List issues", ro=True, open_world=True), weight=1)
def _():
    pid = pick(GL_PROJECTS)
    return ({"project_id": pid, "state": "opened"},
            json_result([{"iid": rint(1, 500), "title": fill_msg(pick(ISSUE_TITLES)), "labels": ["backend"], "created_at": iso(ms=True)}
                         for _ in range(rint(1, 4))]))


# ---------------------------------------------------------------- slack
@tool("slack", "slack_list_channels", "List public channels in the workspace with pagination.",
      {"limit": I("Maximum number of channels to return (default 100, max 200)", default=100),
       "cursor": S("Pagination cursor for next page of results")}, [],
      ann("List channels", ro=True, open_world=True), weight=1)
def _():
    ch = [{"id": cid, "name": name, "is_archived": False, "num_members": rint(4, 300),
           "topic": {"value": pick(["", "Deploys and releases 🚀", "Ask anything", "On-call: see pinned"])}} for cid, name in sample(CHANNELS, 5)]
    return {"limit": pick([20, 100])}, json_result({"ok": True, "channels": ch, "response_metadata": {"next_cursor": ""}})


@tool("slack", "slack_post_message", "Post a new message to a Slack channel. Supports Slack mrkdwn formatting.",
      {"channel_id": S("The ID of the channel to post to"), "text": S("The message text to post")},
      ["channel_id", "text"], ann("Post message", ro=False, destructive=False, open_world=True), weight=3)
def _():
    cid, _n = pick(CHANNELS)
    text = fill_msg(pick(SLACK_MSGS))
    return ({"channel_id": cid, "text": text},
            json_result({"ok": True, "channel": cid, "ts": slack_ts(), "message": {"text": text, "type": "message"}}))


@tool("slack", "slack_reply_to_thread", "Reply to a specific message thread in Slack.",
      {"channel_id": S("The ID of the channel containing the thread"),
       "thread_ts": S("The timestamp of the parent message in the format '1234567890.123456'"),
       "text": S("The reply text")}, ["channel_id", "thread_ts", "text"],
      ann("Reply in thread", ro=False, destructive=False, open_world=True), weight=2)
def _():
    cid, _n = pick(CHANNELS)
    text = fill_msg(pick(SLACK_MSGS))
    return ({"channel_id": cid, "thread_ts": slack_ts(), "text": text}, json_result({"ok": True, "ts": slack_ts()}))


@tool("slack", "slack_add_reaction", "Add a reaction emoji to a message.",
      {"channel_id": S("The ID of the channel containing the message"), "timestamp": S("The timestamp of the message"),
       "reaction": S("The name of the emoji reaction (without ::)")}, ["channel_id", "timestamp", "reaction"],
      ann("Add reaction", ro=False, destructive=False, idempotent=True, open_world=True), weight=1)
def _():
    return ({"channel_id": pick(CHANNELS)[0], "timestamp": slack_ts(), "reaction": pick(["thumbsup", "tada", "eyes", "white_check_mark", "pray", "rocket"])},
            json_result({"ok": True}))


@tool("slack", "slack_get_channel_history", "Get recent messages from a channel (newest first).",
      {"channel_id": S("The ID of the channel"), "limit": I("Number of messages to retrieve (default 10)", default=10)},
      ["channel_id"], ann("Channel history", ro=True, open_world=True), weight=2.5)
def _():
    cid, _n = pick(CHANNELS)
    msgs = [{"type": "message", "user": pick(SLACK_USERS)[0], "text": fill_msg(pick(SLACK_MSGS)), "ts": slack_ts(),
             **({"reactions": [{"name": "thumbsup", "count": rint(1, 6)}]} if chance(0.3) else {})}
            for _ in range(rint(2, 6))]
    return {"channel_id": cid, "limit": pick([5, 10, 20])}, json_result({"ok": True, "messages": msgs, "has_more": chance(0.5)})


@tool("slack", "slack_get_users", "Get a list of all users in the workspace with their basic profile information.",
      {"cursor": S("Pagination cursor"), "limit": I("Maximum number of users to return", default=100)}, [],
      ann("List users", ro=True, open_world=True), weight=0.7)
def _():
    members = [{"id": uid, "name": ascii_slug(p[0]), "real_name": name, "tz": pick(CITIES)[3],
                "profile": {"email": email(p), "title": pick(["Engineer", "Product Manager", "Designer", "Executive Assistant", "SRE"])}}
               for uid, name, p in sample(SLACK_USERS, 4)]
    return {"limit": 50}, json_result({"ok": True, "members": members})


@tool("slack", "slack_get_user_profile", "Get detailed profile information for a specific user.",
      {"user_id": S("The user's ID")}, ["user_id"], ann("User profile", ro=True, open_world=True), weight=0.7)
def _():
    uid, name, p = pick(SLACK_USERS)
    return ({"user_id": uid},
            json_result({"ok": True, "profile": {"real_name": name, "display_name": p[0], "email": email(p), "phone": phone(),
                                                 "status_text": pick(["In a meeting", "🌴 vacation until Monday", "Focus time 🎧", "", "🤒 out sick"]),
                                                 "status_emoji": pick([":calendar:", ":palm_tree:", ""])}}))


# ---------------------------------------------------------------- postgres
PG_QUERIES = [
    ("SELECT id, email, created_at FROM customers WHERE email ILIKE '%@example.com' ORDER BY created_at DESC LIMIT 20;", "customers"),
    ("SELECT status, count(*) AS n FROM orders WHERE created_at >= now() - interval '7 days' GROUP BY status ORDER BY n DESC;", "status"),
    ("SELECT date_trunc('day', issued_at) AS day, sum(amount_cents) / 100.0 AS revenue FROM invoices GROUP BY 1 ORDER BY 1 DESC LIMIT 14;", "revenue"),
    ("SELECT o.number, c.email, o.amount_cents, o.status FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.status = 'refunded' LIMIT 50;", "orders"),
    ("SELECT number, customer_id, amount_cents, currency, issued_at FROM invoices WHERE paid_at IS NULL AND issued_at < now() - interval '30 days';", "invoices"),
    ("SELECT relname, n_live_tup, n_dead_tup FROM pg_stat_user_tables ORDER BY n_dead_tup DESC LIMIT 10;", "stats"),
    ("SELECT pid, state, wait_event_type, left(query, 60) AS query FROM pg_stat_activity WHERE state <> 'idle';", "activity"),
    ("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name;", "tables"),
    ("SELECT pg_size_pretty(pg_total_relation_size('events')) AS events_size;", "size"),
    ("SELECT tracking_number, carrier, shipped_at FROM shipments WHERE order_id = '{u}';", "shipments"),
    ("SELECT id, name, phone, country FROM suppliers WHERE lower(name) = lower('Müller & Söhne GmbH');", "suppliers"),
    ("WITH monthly AS (SELECT date_trunc('month', created_at) m, count(*) c FROM signups GROUP BY 1) SELECT m, c, c - lag(c) OVER (ORDER BY m) AS delta FROM monthly ORDER BY m;", "signups"),
]


def pg_rows(kind: str, n: int):
    rows = []
    for _ in range(n):
        if kind == "customers":
            rows.append({"id": uuid4(), "email": email(domain="example.com"), "created_at": iso()})
        elif kind == "status":
            rows.append({"status": pick(["paid", "pending", "refunded", "shipped", "cancelled"]), "n": rint(1, 9000)})
        elif kind == "revenue":
            rows.append({"day": rtime().strftime("%Y-%m-%dT00:00:00.000Z"), "revenue": f"{rint(1000, 90000)}.{rint(0, 99):02d}"})
        elif kind == "orders":
            rows.append({"number": order_no(), "email": email(domain=pick(MAIL_DOMAINS)), "amount_cents": rint(500, 250000), "status": "refunded"})
        elif kind == "invoices":
            rows.append({"number": f"INV-{rint(2024, 2025)}{rint(1, 12):02d}-{rint(1000, 9999)}", "customer_id": uuid4(),
                         "amount_cents": rint(900, 990000), "currency": pick(["EUR", "USD"]), "issued_at": iso()})
        elif kind == "stats":
            rows.append({"relname": pick(WORDS) + "s", "n_live_tup": rint(10, 9000000), "n_dead_tup": rint(0, 90000)})
        elif kind == "activity":
            rows.append({"pid": rint(1000, 60000), "state": pick(["active", "idle in transaction"]), "wait_event_type": pick([None, "Lock", "IO"]),
                         "query": "SELECT * FROM orders WHERE customer_id = $1 ORDER BY created_at DES"})
        elif kind == "tables":
            rows.append({"table_name": pick(WORDS) + "s"})
        elif kind == "size":
            rows.append({"events_size": f"{rint(1, 900)} GB"})
        elif kind == "shipments":
            rows.append({"tracking_number": tracking_no(), "carrier": pick(["UPS", "DHL", "FedEx"]), "shipped_at": iso()})
        elif kind == "suppliers":
            rows.append({"id": rint(1, 900), "name": "Müller & Söhne GmbH", "phone": phone(), "country": "DE"})
        else:
            rows.append({"m": rtime().strftime("%Y-%m-01T00:00:00.000Z"), "c": rint(100, 5000), "delta": rint(-300, 600)})
    return rows


@tool("postgres", "query", "Run a read-only SQL query against the connected PostgreSQL database. Important: the query "
      "is executed inside a READ ONLY transaction, so statements that modify data (INSERT, UPDATE, DELETE, DDL) fail. "
      "Results are returned as a JSON array of row objects, capped at 1000 rows.",
      {"sql": S("The SQL query to run")}, ["sql"], ann("Run read-only SQL", ro=True, open_world=False), weight=5)
def _():
    q, kind = pick(PG_QUERIES)
    q = q.replace("{u}", uuid4())
    if chance(0.04):
        return {"sql": q}, text_result('ERROR: relation "' + pick(WORDS) + 's" does not exist\nLINE 1: SELECT ...', is_error=True)
    return {"sql": q}, json_result(pg_rows(kind, rint(1, 8)))


@tool("postgres", "list_tables", "List tables of a schema with their estimated row counts and sizes.",
      {"schema": S("Schema name", default="public")}, [], ann("List tables", ro=True, open_world=False), weight=1)
def _():
    rows = [{"table": t, "rows_estimate": rint(0, 9000000), "size": f"{rint(1, 999)} MB"}
            for t in ["customers", "orders", "invoices", "shipments", "events", "suppliers", "signups"]]
    return {"schema": "public"}, json_result(rows)


@tool("postgres", "describe_table", "Describe the columns, types, defaults, indexes and foreign keys of a table.",
      {"schema": S("Schema name", default="public"), "table": S("Table name")}, ["table"],
      ann("Describe table", ro=True, open_world=False), weight=1)
def _():
    t = pick(["customers", "orders", "invoices", "shipments"])
    return {"schema": "public", "table": t}, text_result(sql_migration() if t == "invoices" else
                                                          json.dumps({"table": t, "columns": [
                                                              {"name": "id", "type": "uuid", "nullable": False, "default": "gen_random_uuid()"},
                                                              {"name": "email", "type": "text", "nullable": False},
                                                              {"name": "created_at", "type": "timestamptz", "nullable": False, "default": "now()"}],
                                                              "indexes": [f"{t}_pkey PRIMARY KEY (id)", f"{t}_email_lower_idx (lower(email))"]}, indent=2))


@tool("postgres", "explain_query", "Show the execution plan of a query (EXPLAIN, optionally ANALYZE with BUFFERS). "
      "ANALYZE executes the query inside a transaction that is always rolled back.",
      {"sql": S("The query to explain"), "analyze": B("Run EXPLAIN ANALYZE (executes the query)", default=False)}, ["sql"],
      ann("Explain query", ro=True, open_world=False), weight=1)
def _():
    q, _k = pick(PG_QUERIES[:5])
    plan = (f"Limit  (cost=0.43..{rint(10, 900)}.12 rows=20 width=48) (actual time=0.031..{rint(1, 90)}.201 rows=20 loops=1)\n"
            f"  ->  Index Scan Backward using customers_created_idx on customers  (cost=0.43..{rint(1000, 90000)}.55 rows={rint(100, 9000)} width=48)\n"
            f"        Filter: (email ~~* '%@example.com'::text)\n        Rows Removed by Filter: {rint(10, 900)}\n"
            f"        Buffers: shared hit={rint(10, 900)}\nPlanning Time: 0.{rint(100, 999)} ms\nExecution Time: {rint(1, 90)}.{rint(100, 999)} ms")
    return {"sql": q, "analyze": True}, text_result(plan)


# ---------------------------------------------------------------- sqlite
SQLITE_READ = [
    "SELECT title, due_date, done FROM todos WHERE done = 0 ORDER BY due_date LIMIT 10",
    "SELECT category, round(sum(amount), 2) AS total FROM expenses WHERE strftime('%Y-%m', spent_on) = '2025-03' GROUP BY category",
    "SELECT name, isbn, author FROM books WHERE author LIKE '%Le Guin%' COLLATE NOCASE",
    "SELECT count(*) AS n FROM events WHERE kind = 'page_view' AND date(ts) = date('now', '-1 day')",
    "SELECT city, avg(temp_c) AS avg_temp FROM readings GROUP BY city ORDER BY avg_temp DESC",
    "SELECT name, ssn, hired_on FROM employees_fixture ORDER BY hired_on LIMIT 5",
]
SQLITE_WRITE = [
    "INSERT INTO todos (title, due_date) VALUES ('Renew passport', '2025-06-01')",
    "UPDATE todos SET done = 1 WHERE id = 42",
    "INSERT INTO expenses (category, amount, spent_on, note) VALUES ('travel', 89.90, '2025-03-14', 'ICE Berlin–Hamburg')",
    "DELETE FROM readings WHERE ts < '2024-01-01'",
    "INSERT INTO books (name, isbn, author) VALUES ('The Dispossessed', '{isbn}', 'Ursula K. Le Guin')",
]


@tool("sqlite", "read_query", "Execute a SELECT query on the SQLite database and return the rows.",
      {"query": S("SELECT SQL query to execute")}, ["query"], ann("Read query", ro=True, open_world=False), weight=3)
def _():
    q = pick(SQLITE_READ)
    if "books" in q:
        rows = [{"name": n, "isbn": isbn13(), "author": "Ursula K. Le Guin"} for n in sample(["The Left Hand of Darkness", "The Dispossessed", "A Wizard of Earthsea", "The Lathe of Heaven"], 2)]
    elif "todos" in q:
        rows = [{"title": pick(["Renew passport", "Call the plumber", "Book dentist", "Pay electricity bill", "Submit expense report"]),
                 "due_date": rtime().strftime("%Y-%m-%d"), "done": 0} for _ in range(rint(1, 4))]
    elif "expenses" in q:
        rows = [{"category": c, "total": round(R.uniform(10, 900), 2)} for c in ["groceries", "travel", "utilities"]]
    elif "employees" in q:
        rows = [{"name": full_name(), "ssn": invalid_ssn(), "hired_on": rtime().strftime("%Y-%m-%d")} for _ in range(rint(2, 5))]
    elif "readings" in q:
        rows = [{"city": c[0], "avg_temp": round(R.uniform(-5, 30), 1)} for c in sample(CITIES, 3)]
    else:
        rows = [{"n": rint(100, 90000)}]
    return {"query": q}, text_result(str(rows).replace("'", '"'))


@tool("sqlite", "write_query", "Execute an INSERT, UPDATE or DELETE query on the SQLite database.",
      {"query": S("SQL modification query")}, ["query"], ann("Write query", ro=False, destructive=True, open_world=False), weight=1.5)
def _():
    q = pick(SQLITE_WRITE).replace("{isbn}", isbn13())
    return {"query": q}, text_result(f"[{{'affected_rows': {rint(0, 3)}}}]")


@tool("sqlite", "create_table", "Create a new table in the SQLite database.",
      {"query": S("CREATE TABLE SQL statement")}, ["query"], ann("Create table", ro=False, destructive=False, open_world=False), weight=0.6)
def _():
    q = pick(["CREATE TABLE IF NOT EXISTS readings (id INTEGER PRIMARY KEY, city TEXT NOT NULL, temp_c REAL, ts TEXT)",
              "CREATE TABLE books (id INTEGER PRIMARY KEY, name TEXT, isbn TEXT UNIQUE, author TEXT)",
              "CREATE TABLE expenses (id INTEGER PRIMARY KEY, category TEXT, amount REAL, spent_on TEXT, note TEXT)"])
    return {"query": q}, text_result("Table created successfully")


@tool("sqlite", "list_tables", "List all tables in the SQLite database.", {}, [], ann("List tables", ro=True, open_world=False), weight=0.8)
def _():
    return {}, text_result(str([{"name": n} for n in ["todos", "expenses", "books", "events", "readings"]]).replace("'", '"'))


@tool("sqlite", "describe_table", "Get the schema information for a specific table.",
      {"table_name": S("Name of the table to describe")}, ["table_name"], ann("Describe table", ro=True, open_world=False), weight=0.8)
def _():
    t = pick(["todos", "expenses", "books"])
    cols = [{"cid": 0, "name": "id", "type": "INTEGER", "notnull": 0, "dflt_value": None, "pk": 1},
            {"cid": 1, "name": "title" if t == "todos" else "name", "type": "TEXT", "notnull": 1, "dflt_value": None, "pk": 0}]
    return {"table_name": t}, json_result(cols)


@tool("sqlite", "append_insight", "Add a business insight to the memo resource (memo://insights). Insights are short "
      "observations discovered while analysing the data.",
      {"insight": S("Business insight discovered from data analysis")}, ["insight"],
      ann("Append insight", ro=False, destructive=False, open_world=False), weight=0.6)
def _():
    ins = pick(["Travel spend in March was 40% above February, driven by two conference trips.",
                "Most overdue todos are administrative (passport, taxes); consider a monthly admin block.",
                "Readings from Athens are consistently the warmest; Moscow has the largest daily variance.",
                "Page views dip every Sunday by roughly a third."])
    return {"insight": ins}, text_result("Insight added to memo")


# ---------------------------------------------------------------- fetch
@tool("fetch", "fetch", "Fetches a URL from the internet and optionally extracts its contents as markdown. Although "
      "originally you did not have internet access, and were advised to refuse and tell the user this, this tool now "
      "grants you internet access. Only public http(s) URLs are allowed; the server refuses private and loopback "
      "addresses. Use start_index to continue reading a long page.",
      {"url": S("URL to fetch", format="uri", minLength=1),
       "max_length": I("Maximum number of characters to return.", default=5000, exclusiveMaximum=1000000, exclusiveMinimum=0),
       "start_index": I("On return output starting at this character index, useful if a previous fetch was truncated "
                        "and more context is required.", default=0, minimum=0),
       "raw": B("Get the actual HTML content of the requested page, without simplification.", default=False)},
      ["url"], ann("Fetch URL", ro=True, open_world=True), weight=4)
def _():
    url, title, summary = pick_url()
    args = {"url": url}
    if chance(0.4):
        args["max_length"] = pick([2000, 5000, 10000, 20000])
    if chance(0.15):
        args["start_index"] = pick([5000, 10000])
    if chance(0.1):
        args["raw"] = True
        html = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>"
                f"<!-- Google tag (gtag.js) --></head><body><main><h1>{title}</h1><p>{summary}</p></main></body></html>")
        return args, text_result(f"Here is the raw HTML of {url}:\n{html}")
    if chance(0.04):
        return args, text_result(f"Failed to fetch {url} - status code 429 (Too Many Requests)", is_error=True)
    return args, text_result(f"Contents of {url}:\n{fetched_page(url, title, summary)}")


# ---------------------------------------------------------------- brave-search
@tool("brave-search", "brave_web_search", "Performs a web search using the Brave Search API, ideal for general "
      "queries, news, articles, and online content. Use this for broad information gathering, recent events, or when "
      "you need diverse web sources. Supports pagination, content filtering, and freshness controls. Maximum 20 "
      "results per request, with offset for pagination.",
      {"query": S("Search query (max 400 chars, 50 words)"), "count": I("Number of results (1-20, default 10)", default=10),
       "offset": I("Pagination offset (max 9, default 0)", default=0)}, ["query"],
      ann("Web search", ro=True, open_world=True), weight=3)
def _():
    q = pick(SEARCH_QUERIES)
    n = pick([3, 5, 10])
    res = search_results(q, min(n, 5))
    text = "\n\n".join(f"Title: {r_['title']}\nDescription: {r_['description']}\nURL: {r_['url']}" for r_ in res)
    return {"query": q, "count": n}, text_result(text)


@tool("brave-search", "brave_local_search", "Searches for local businesses and places using Brave's Local Search API. "
      "Best for queries related to physical locations, businesses, restaurants, services, etc. Returns detailed "
      "information including business names, addresses, ratings, phone numbers and opening hours.",
      {"query": S("Local search query (e.g. 'pizza near Central Park')"), "count": I("Number of results (1-20, default 5)", default=5)},
      ["query"], ann("Local search", ro=True, open_world=True), weight=1)
def _():
    q = pick(["ramen near Shibuya Station", "coworking space Lisbon Alfama", "pharmacy open now Mitte Berlin",
              "bike repair shop Williamsburg", "vegan bakery Athens Koukaki", "café near Rothschild Blvd Tel Aviv"])
    res = [f"Name: {pick(['Ichiran', 'Heden', 'Apotheke am Hackeschen Markt', 'Bushwick Bikes', 'Kombu Bakery', 'Café Xoho'])}\n"
           f"Address: {pick(ADDRESSES)}\nPhone: {phone()}\nRating: {R.uniform(3.6, 4.9):.1f} ({rint(20, 4000)} reviews)\n"
           f"Price Range: {pick(['$', '$$', '€€'])}\nHours: Mon-Fri 08:00-20:00"
           for _ in range(rint(1, 3))]
    return {"query": q, "count": 3}, text_result("\n---\n".join(res))


# ---------------------------------------------------------------- puppeteer
PUPPETEER_SCRIPTS = [
    "document.title", "document.querySelectorAll('h2').length",
    "Array.from(document.querySelectorAll('a[href]')).slice(0, 5).map(a => a.href)",
    "window.getComputedStyle(document.body).direction", "document.documentElement.lang",
    "[...document.querySelectorAll('table tr')].length", "performance.getEntriesByType('navigation')[0].duration",
]


@tool("puppeteer", "puppeteer_navigate", "Navigate the browser to a URL. Only public http(s) URLs are allowed.",
      {"url": S("URL to navigate to"), "launchOptions": O({}, "PuppeteerJS launch options (e.g. { headless: true })"),
       "allowDangerous": B("Allow launch options that reduce security, such as --no-sandbox. Default false.", default=False)},
      ["url"], ann("Navigate", ro=False, destructive=False, open_world=True), weight=2)
def _():
    url, title, _s = pick_url()
    return {"url": url}, text_result(f"Navigated to {url}")


@tool("puppeteer", "puppeteer_screenshot", "Take a screenshot of the current page or a specific element. The image "
      "is returned as base64 PNG and also stored as a resource (screenshot://<name>).",
      {"name": S("Name for the screenshot"), "selector": S("CSS selector for element to screenshot"),
       "width": I("Width in pixels (default: 800)"), "height": I("Height in pixels (default: 600)"),
       "encoded": B("If true, capture the screenshot as a base64-encoded data URI (as text) instead of binary image content.")},
      ["name"], ann("Screenshot", ro=True, open_world=False), weight=1.5)
def _():
    name = pick(["homepage", "checkout-form", "search-results", "dashboard", "invoice-preview", "login-page"])
    w, h = rint(16, 40), rint(12, 30)
    data = png_b64(w, h)
    args = {"name": name, "width": pick([800, 1280, 1440]), "height": pick([600, 800, 900])}
    if chance(0.3):
        args["selector"] = pick(["#main", ".invoice", "header nav", "form#checkout"])
    if chance(0.3):
        args["encoded"] = True
        return args, text_result(f"data:image/png;base64,{data}")
    return args, {"content": [{"type": "text", "text": f"Screenshot '{name}' taken at {args['width']}x{args['height']}"},
                              {"type": "image", "data": data, "mimeType": "image/png"}]}


@tool("puppeteer", "puppeteer_click", "Click an element on the page.", {"selector": S("CSS selector for element to click")},
      ["selector"], ann("Click", ro=False, destructive=False, open_world=True), weight=1.5)
def _():
    sel = pick(["button[type=submit]", "#accept-cookies", "a[href='/pricing']", ".pagination .next", "text/Sign in", "[data-testid=save]"])
    return {"selector": sel}, text_result(f"Clicked: {sel}")


@tool("puppeteer", "puppeteer_fill", "Fill out an input field.",
      {"selector": S("CSS selector for input field"), "value": S("Value to fill")}, ["selector", "value"],
      ann("Fill input", ro=False, destructive=False, open_world=True), weight=1.5)
def _():
    sel, val = pick([("input[name=q]", pick(SEARCH_QUERIES)), ("#email", email(domain="example.com")),
                     ("#city", pick(CITIES)[0]), ("textarea#message", "Hi! Is the conference room free on Friday afternoon? 🙂"),
                     ("input[name=coupon]", "SPRING25"), ("#phone", phone())])
    return {"selector": sel, "value": val}, text_result(f"Filled {sel} with: {val}")


@tool("puppeteer", "puppeteer_select", "Select an option in a <select> element.",
      {"selector": S("CSS selector for the select element"), "value": S("Value to select")}, ["selector", "value"],
      ann("Select option", ro=False, destructive=False, open_world=True), weight=0.7)
def _():
    sel, val = pick([("select#country", "DE"), ("select[name=lang]", "el"), ("#sort", "price_asc"), ("#size", "M")])
    return {"selector": sel, "value": val}, text_result(f"Selected {sel} with: {val}")


@tool("puppeteer", "puppeteer_evaluate", "Execute JavaScript in the browser console of the current page and return "
      "the result. The script runs in the page context; keep it read-only.",
      {"script": S("JavaScript code to execute")}, ["script"], ann("Evaluate JavaScript", ro=False, destructive=False, open_world=True), weight=1)
def _():
    s = pick(PUPPETEER_SCRIPTS)
    out = {"document.title": json.dumps(pick(PUBLIC_URLS)[1]), "document.documentElement.lang": '"en"',
           "window.getComputedStyle(document.body).direction": pick(['"ltr"', '"rtl"'])}.get(s, str(rint(1, 60)))
    return {"script": s}, text_result(f"Execution result:\n{out}\n\nConsole output:\n")


# ---------------------------------------------------------------- google-calendar
EVENT_TITLES = ["Weekly sync", "1:1 {first} / {first2}", "Sprint planning", "Design review: onboarding flow", "Dentist 🦷",
                "Q3 planning offsite", "Incident postmortem: payments latency", "Lunch with {first}", "Interview: backend engineer",
                "Kita pickup 👨‍👩‍👧", "Flight LH 2034 BER → MUC ✈️", "Release 4.13 go/no-go", "Coffee chat ☕", "Security training"]
EVENT_DESCS = ["Agenda:\n1. Status\n2. Risks\n3. AOB", "Please disregard the earlier invite — room changed to Atlas (3rd floor).",
               "Meeting notes: https://www.notion.so/acme/Weekly-sync-{h}", "Dial-in: {ph} (PIN {pin})",
               "Instructions for remote attendees: join via the Meet link, camera optional.", "Bring your laptop charger 🔌",
               "Don't forget to review the doc before the meeting.", "", "Zoom: https://acme.zoom.us/j/{zoom}"]


def event_obj():
    t = rtime()
    t = t.replace(minute=pick([0, 15, 30, 45]), second=0)
    return {"id": lower_alnum(26), "summary": EVENT_TITLES[R.randrange(len(EVENT_TITLES))].format(first=pick(FIRSTS), first2=pick(FIRSTS)),
            "start": {"dateTime": t.strftime("%Y-%m-%dT%H:%M:00Z")},
            "end": {"dateTime": (t + dt.timedelta(minutes=pick([25, 30, 45, 60, 90]))).strftime("%Y-%m-%dT%H:%M:00Z")},
            "attendees": [{"email": email(p), "responseStatus": pick(["accepted", "needsAction", "tentative", "declined"])} for p in sample(PEOPLE, rint(1, 4))],
            "location": pick(["Room Atlas", "Room Kepler", "Google Meet", "Café Einstein, Unter den Linden 42", ""]),
            "hangoutLink": f"https://meet.google.com/{lower_alnum(3)}-{lower_alnum(4)}-{lower_alnum(3)}",
            "description": pick(EVENT_DESCS).format(h=hexs(32), ph=phone(), pin=rint(1000, 9999), zoom=rint(81000000000, 89999999999))}


@tool("google-calendar", "list_events", "List events from a calendar within a time range. Times are RFC 3339. "
      "Recurring events are expanded into single instances.",
      {"calendarId": S("Calendar ID ('primary' for the user's main calendar)"), "timeMin": S("Start of the range (RFC 3339)"),
       "timeMax": S("End of the range (RFC 3339)"), "q": S("Free-text search terms"), "maxResults": I("Maximum number of events", default=50)},
      ["calendarId"], ann("List events", ro=True, open_world=True), weight=3)
def _():
    t = rtime()
    args = {"calendarId": pick(["primary", email(domain="acme.io")]), "timeMin": iso(t), "timeMax": iso(t + dt.timedelta(days=pick([1, 7]))),
            "maxResults": pick([10, 25, 50])}
    if chance(0.2):
        args["q"] = pick(["planning", "1:1", "interview"])
    return args, json_result({"items": [event_obj() for _ in range(rint(1, 4))], "timeZone": pick(CITIES)[3]})


@tool("google-calendar", "create_event", "Create a calendar event. Attendees receive an invitation e-mail when "
      "sendUpdates is 'all'. Use RFC 3339 date-times with an offset or set timeZone.",
      {"calendarId": S("Calendar ID"), "summary": S("Event title"), "description": S("Event description"),
       "start": S("Start date-time (RFC 3339)"), "end": S("End date-time (RFC 3339)"), "timeZone": S("IANA time zone, e.g. Europe/Berlin"),
       "location": S("Event location"), "attendees": A({"type": "string", "format": "email"}, "Attendee e-mail addresses"),
       "sendUpdates": S("Whether to send invitations", enum=["all", "externalOnly", "none"])},
      ["calendarId", "summary", "start", "end"], ann("Create event", ro=False, destructive=False, open_world=True), weight=2)
def _():
    e = event_obj()
    args = {"calendarId": "primary", "summary": e["summary"], "start": e["start"]["dateTime"], "end": e["end"]["dateTime"],
            "timeZone": pick(CITIES)[3], "attendees": [a["email"] for a in e["attendees"]], "sendUpdates": pick(["all", "none"])}
    if e["description"]:
        args["description"] = e["description"]
    if e["location"]:
        args["location"] = e["location"]
    return args, json_result({"id": e["id"], "status": "confirmed", "htmlLink": f"https://www.google.com/calendar/event?eid={b64(e['id'] + ' primary').rstrip('=')}"})


@tool("google-calendar", "update_event", "Update fields of an existing event (only provided fields change).",
      {"calendarId": S("Calendar ID"), "eventId": S("Event ID"), "summary": S("New title"), "start": S("New start (RFC 3339)"),
       "end": S("New end (RFC 3339)"), "description": S("New description")}, ["calendarId", "eventId"],
      ann("Update event", ro=False, destructive=False, idempotent=True, open_world=True), weight=1)
def _():
    e = event_obj()
    args = {"calendarId": "primary", "eventId": e["id"], "start": e["start"]["dateTime"], "end": e["end"]["dateTime"]}
    if chance(0.5):
        args["description"] = pick(EVENT_DESCS[:3]).format(h=hexs(32))
    return args, json_result({"id": e["id"], "status": "confirmed", "updated": iso(ms=True)})


@tool("google-calendar", "delete_event", "Delete an event. Attendees are notified when sendUpdates is 'all'.",
      {"calendarId": S("Calendar ID"), "eventId": S("Event ID"), "sendUpdates": S("Notify attendees", enum=["all", "none"])},
      ["calendarId", "eventId"], ann("Delete event", ro=False, destructive=True, idempotent=True, open_world=True), weight=0.6)
def _():
    return {"calendarId": "primary", "eventId": lower_alnum(26), "sendUpdates": "all"}, text_result("Event deleted.")


@tool("google-calendar", "find_free_time", "Find free slots common to several calendars within a time range.",
      {"calendars": A({"type": "string"}, "Calendar IDs or e-mail addresses"), "timeMin": S("Start (RFC 3339)"),
       "timeMax": S("End (RFC 3339)"), "durationMinutes": I("Minimum slot length in minutes", default=30)},
      ["calendars", "timeMin", "timeMax"], ann("Find free time", ro=True, open_world=True), weight=1)
def _():
    t = rtime().replace(hour=8, minute=0, second=0)
    slots = [{"start": iso(t + dt.timedelta(hours=h)), "end": iso(t + dt.timedelta(hours=h, minutes=45))} for h in sorted(sample(range(1, 9), 3))]
    return ({"calendars": [email(p) for p in sample(PEOPLE, 3)], "timeMin": iso(t), "timeMax": iso(t + dt.timedelta(hours=10)), "durationMinutes": 45},
            json_result({"free": slots}))


# ---------------------------------------------------------------- gmail
EMAILS = [
    ("Re: Q3 invoice {inv}", "Hi {first},\n\nplease disregard my previous email — the attached PDF had the wrong PO number. "
     "The corrected invoice is attached.\n\nBank details for the transfer: IBAN {iban}, BIC COBADEFFXXX. Reference {inv}.\n\nBest regards,\n{me}\n{ph}"),
    ("Your order {ord} has shipped 📦", "Good news! Your order {ord} is on its way.\nTracking number: {trk}\n"
     "Estimated delivery: {date}\n\nQuestions? Call us at {ph} or reply to this e-mail."),
    ("Lunch recipe from Saturday", "As promised, the shakshuka recipe:\n\nInstructions: preheat the oven to 190 °C, fry onions and "
     "peppers, add tomatoes and spices, simmer 15 min, crack the eggs in and bake 8-10 min.\n\nEnjoy! {me}"),
    ("Benefits enrolment form", "Hi,\n\nfor the test run of the new HR form please use the dummy SSN {ssn} — real numbers are only "
     "entered in the Workday portal. Don't forget to sign page 2.\n\nThanks,\n{me} (People Ops)"),
    ("Offsite agenda 🏔️", "Hi team,\n\nagenda for the offsite is in the doc. Day 1: strategy, Day 2: hackathon.\n"
     "My assistant {first} will send the travel details. Vegetarian options are available ✅\n\n{me}"),
    ("Security notice: new sign-in to your account", "We noticed a new sign-in from Chrome on Windows near Lisbon, Portugal "
     "on {date}. If this was you, you can ignore this message. Otherwise review your account at https://myaccount.google.com/notifications"),
    ("Re: Contract draft v3", "Thanks {first}, the changes in §4.2 look good. One question on the liability cap (clause 9): "
     "can we align it with the MSA? I'm out Friday, back Monday.\n\n— {me}"),
    ("Приглашение на конференцию", "Здравствуйте, {first}!\n\nПриглашаем вас выступить на конференции 15 мая в Москве. "
     "Тема доклада на ваш выбор.\n\nС уважением,\nОргкомитет"),
    ("会议纪要：支付接口超时", "各位好，\n\n附件是今天会议的纪要。主要结论：增加重试，并把超时时间调整为 30 秒。\n\n谢谢！"),
    ("Invoice {inv} – payment reminder", "Dear customer,\n\nour records show that invoice {inv} over €{amt} is still open. "
     "Please transfer the amount to IBAN {iban} within 14 days, or disregard this reminder if you have already paid.\n\nKind regards\nAccounts receivable"),
    ("Order {ord}: invoice and payment details", "Hello,\n\nthank you for your order {ord}. Invoice {inv} is attached (total €{amt}).\n"
     "Bank transfer: IBAN {iban} · reference {inv}\nQuestions: {ph} (Mon–Fri 9:00–17:00)\n\nBest regards,\n{me}"),
    ("Newsletter: March product updates", "✨ What's new: dark mode follows your system theme, search now ignores accents "
     "(Zoë = Zoe), and exports support emoji 👨‍👩‍👧. Read more at https://www.acme.io/blog/march-updates?utm_source=newsletter"),
]


def email_obj():
    subj, body = pick(EMAILS)
    me = full_name()
    vals = dict(first=pick(FIRSTS), me=me, ph=phone(), inv=f"INV-{rint(2024, 2025)}{rint(1, 12):02d}-{rint(1000, 9999)}",
                iban=wrong_iban(), ord=order_no(), trk=tracking_no(), date=rtime().strftime("%A, %d %B %Y"),
                ssn=invalid_ssn(), amt=f"{rint(100, 9000)}.{rint(0, 99):02d}")
    return subj.format(**vals), body.format(**vals)


@tool("gmail", "search_emails", "Search for e-mails using Gmail search syntax (e.g. 'from:alice@example.com is:unread "
      "after:2025/01/01'). Returns message ids, senders, subjects and snippets.",
      {"query": S("Gmail search query"), "maxResults": I("Maximum number of results to return", default=10)}, ["query"],
      ann("Search e-mails", ro=True, open_world=True), weight=2.5)
def _():
    q = pick(["is:unread newer_than:2d", "from:billing@acme.io invoice", "subject:(offsite) has:attachment", "label:receipts after:2025/01/01",
              "tracking number", "from:noreply@github.com is:unread", "in:inbox category:primary"])
    items = []
    for _ in range(rint(1, 4)):
        s, b = email_obj()
        items.append({"id": hexs(16), "threadId": hexs(16), "from": sender(),
                      "subject": s, "snippet": b[:120].replace("\n", " "), "date": rtime().strftime("%a, %d %b %Y %H:%M:%S +0000")})
    return {"query": q, "maxResults": 10}, json_result(items)


@tool("gmail", "read_email", "Retrieve the full content of an e-mail by id (headers, plain-text body, attachment names).",
      {"messageId": S("ID of the e-mail message to retrieve")}, ["messageId"], ann("Read e-mail", ro=True, open_world=True), weight=2.5)
def _():
    s, b = email_obj()
    mid = hexs(16)
    txt = (f"Thread ID: {hexs(16)}\nSubject: {s}\nFrom: {sender()}\nTo: {email()}\n"
           f"Date: {rtime().strftime('%a, %d %b %Y %H:%M:%S +0000')}\n\n{b}")
    if chance(0.3):
        txt += f"\n\nAttachments (1):\n- {pick(['invoice.pdf', 'agenda.docx', 'photo.jpg', 'contract-v3.pdf'])} (application/pdf, {rint(20, 900)} KB, ID: {hexs(24)})"
    return {"messageId": mid}, text_result(txt)


@tool("gmail", "send_email", "Send a new e-mail. The body is plain text unless 'html' is true. Callers should confirm "
      "recipients and content with the user before sending.",
      {"to": A({"type": "string", "format": "email"}, "Recipient addresses"), "cc": A({"type": "string", "format": "email"}, "CC recipients"),
       "subject": S("Subject line"), "body": S("Message body"), "html": B("Treat body as HTML", default=False),
       "inReplyTo": S("Message ID this e-mail replies to")}, ["to", "subject", "body"],
      ann("Send e-mail", ro=False, destructive=False, open_world=True), weight=2)
def _():
    s, b = email_obj()
    args = {"to": [email(domain=pick(MAIL_DOMAINS))], "subject": s, "body": b}
    if chance(0.4):
        args["cc"] = [email()]
    return args, text_result(f"Email sent successfully with ID: {hexs(16)}")


@tool("gmail", "draft_email", "Create a draft e-mail without sending it.",
      {"to": A({"type": "string", "format": "email"}, "Recipient addresses"), "subject": S("Subject line"), "body": S("Message body")},
      ["to", "subject", "body"], ann("Draft e-mail", ro=False, destructive=False, open_world=False), weight=1.2)
def _():
    s, b = email_obj()
    return {"to": [email(domain=pick(MAIL_DOMAINS))], "subject": s, "body": b}, text_result(f"Draft created with ID: r-{rint(10 ** 8, 10 ** 9)}")


@tool("gmail", "modify_email", "Add or remove labels of an e-mail (e.g. archive by removing INBOX, mark read by removing UNREAD).",
      {"messageId": S("Message ID"), "addLabelIds": A({"type": "string"}, "Label IDs to add"),
       "removeLabelIds": A({"type": "string"}, "Label IDs to remove")}, ["messageId"],
      ann("Modify labels", ro=False, destructive=False, idempotent=True, open_world=False), weight=1)
def _():
    return ({"messageId": hexs(16), "addLabelIds": [pick(["Label_12", "STARRED", "IMPORTANT"])], "removeLabelIds": ["UNREAD", "INBOX"]},
            text_result("Email labels updated successfully"))


# ---------------------------------------------------------------- jira
JIRA_PROJECTS = ["PAY", "WEB", "OPS", "DATA", "SEC"]
JQLS = ['project = PAY AND status = "In Progress" ORDER BY updated DESC', "assignee = currentUser() AND resolution = Unresolved",
        'project = SEC AND labels = pentest AND created >= -30d', 'text ~ "ignore case" AND project = WEB',
        'project = OPS AND priority in (Highest, High) AND statusCategory != Done', 'sprint in openSprints() AND project = DATA',
        'summary ~ "timeout" ORDER BY created DESC']
JIRA_SUMMARIES = ISSUE_TITLES + ["Pentest finding: SSRF in image proxy (fixed, needs retest)", "Rotate the CI deploy key (quarterly)",
                                 "Add runbook for database failover", "Customer 4711 cannot download invoice PDF"]


@tool("jira", "jira_search", "Search Jira issues using JQL (Jira Query Language). Returns key, summary, status, assignee "
      "and updated date for each issue.",
      {"jql": S("JQL query string"), "fields": S("Comma-separated fields to return", default="summary,status,assignee,updated"),
       "limit": I("Maximum number of results (1-50)", default=10, minimum=1, maximum=50)}, ["jql"],
      ann("Search issues (JQL)", ro=True, open_world=True), weight=2.5)
def _():
    j = pick(JQLS)
    issues = [{"key": f"{pick(JIRA_PROJECTS)}-{rint(10, 4800)}", "summary": fill_msg(pick(JIRA_SUMMARIES)),
               "status": pick(["To Do", "In Progress", "In Review", "Done"]), "assignee": full_name(), "updated": iso()}
              for _ in range(rint(1, 5))]
    return {"jql": j, "limit": pick([10, 20])}, json_result({"total": rint(len(issues), 80), "issues": issues})


@tool("jira", "jira_get_issue", "Get details of a Jira issue including description, comments and linked issues.",
      {"issue_key": S("Jira issue key (e.g. 'PROJ-123')"), "expand": S("Optional fields to expand, e.g. 'renderedFields,changelog'")},
      ["issue_key"], ann("Get issue", ro=True, open_world=True), weight=2)
def _():
    key = f"{pick(JIRA_PROJECTS)}-{rint(10, 4800)}"
    desc = fill_msg(pick(ISSUE_BODIES))
    comments = [{"author": full_name(), "created": iso(), "body": fill_msg(pick(["Please disregard my previous comment, wrong ticket 🙈",
                                                                                  "Reproduced on staging with {v}.", "Moving to next sprint.",
                                                                                  "Customer confirmed the fix, closing.",
                                                                                  "Summary of the pentest note: the image proxy now refuses private address ranges; retest scheduled."]))}
                for _ in range(rint(0, 3))]
    return ({"issue_key": key}, json_result({"key": key, "fields": {"summary": fill_msg(pick(JIRA_SUMMARIES)), "description": desc,
                                                                      "status": {"name": pick(["Open", "In Progress", "Done"])},
                                                                      "priority": {"name": pick(["Medium", "High", "Low"])},
                                                                      "reporter": full_name(), "created": iso(), "comment": {"comments": comments}}}))


@tool("jira", "jira_create_issue", "Create a new Jira issue.",
      {"project_key": S("Project key (e.g. 'PAY')"), "summary": S("Issue summary"),
       "issue_type": S("Issue type", enum=["Bug", "Task", "Story", "Epic"]), "description": S("Description (Markdown is converted to Jira markup)"),
       "priority": S("Priority name", enum=["Highest", "High", "Medium", "Low", "Lowest"]), "labels": A({"type": "string"}, "Labels")},
      ["project_key", "summary", "issue_type"], ann("Create issue", ro=False, destructive=False, open_world=True), weight=1.5)
def _():
    pk = pick(JIRA_PROJECTS)
    n = rint(10, 4800)
    args = {"project_key": pk, "summary": fill_msg(pick(JIRA_SUMMARIES)), "issue_type": pick(["Bug", "Task", "Story"]),
            "description": fill_msg(pick(ISSUE_BODIES)), "priority": pick(["High", "Medium", "Low"])}
    return args, json_result({"key": f"{pk}-{n}", "id": str(rint(10000, 99999)), "self": f"https://acme.atlassian.net/rest/api/3/issue/{rint(10000, 99999)}"})


@tool("jira", "jira_add_comment", "Add a comment to a Jira issue.",
      {"issue_key": S("Jira issue key"), "comment": S("Comment text (Markdown)")}, ["issue_key", "comment"],
      ann("Add comment", ro=False, destructive=False, open_world=True), weight=1.5)
def _():
    c = fill_msg(pick(["Deployed to staging in {v}, please verify.", "Please disregard my previous comment — wrong environment.",
                       "Root cause: the retry loop ignored the Retry-After header. Fix in {sha7}.", "Customer called ({ph}); they confirmed the invoice arrived."
                       .replace("{ph}", phone()), "Blocked until the vendor answers (ticket #{n}).", "Affected orders: {ord}, {ord2}. Both refunded, tracking {trk} cancelled."]))
    return {"issue_key": f"{pick(JIRA_PROJECTS)}-{rint(10, 4800)}", "comment": c}, json_result({"id": str(rint(10000, 99999)), "created": iso()})


@tool("jira", "jira_transition_issue", "Move an issue to another status using a transition id (see jira_get_transitions).",
      {"issue_key": S("Jira issue key"), "transition_id": S("Transition ID"), "comment": S("Optional comment to add")},
      ["issue_key", "transition_id"], ann("Transition issue", ro=False, destructive=False, open_world=True), weight=1)
def _():
    return ({"issue_key": f"{pick(JIRA_PROJECTS)}-{rint(10, 4800)}", "transition_id": pick(["11", "21", "31", "41"])},
            text_result("Issue transitioned successfully to " + pick(["In Progress", "In Review", "Done"])))


@tool("jira", "jira_get_transitions", "List the transitions available for an issue in its current status.",
      {"issue_key": S("Jira issue key")}, ["issue_key"], ann("Get transitions", ro=True, open_world=True), weight=0.6)
def _():
    return ({"issue_key": f"{pick(JIRA_PROJECTS)}-{rint(10, 4800)}"},
            json_result([{"id": "11", "name": "To Do"}, {"id": "21", "name": "In Progress"}, {"id": "31", "name": "In Review"}, {"id": "41", "name": "Done"}]))


# ---------------------------------------------------------------- linear
LINEAR_TEAMS = [("ENG", "Engineering"), ("DES", "Design"), ("OPS", "Operations"), ("GRO", "Growth")]


def linear_issue():
    team = pick(LINEAR_TEAMS)[0]
    return {"id": uuid4(), "identifier": f"{team}-{rint(10, 2400)}", "title": fill_msg(pick(ISSUE_TITLES)),
            "state": {"name": pick(["Backlog", "Todo", "In Progress", "In Review", "Done"])}, "priority": rint(0, 4),
            "assignee": {"name": full_name()}, "url": f"https://linear.app/acme/issue/{team}-{rint(10, 2400)}", "updatedAt": iso(ms=True)}


@tool("linear", "linear_search_issues", "Search issues in Linear with flexible filters (text, team, status, assignee, labels, priority).",
      {"query": S("Text to search in title and description"), "teamId": S("Filter by team ID"), "status": S("Filter by status name"),
       "assigneeId": S("Filter by assignee ID"), "labels": A({"type": "string"}, "Filter by label names"),
       "priority": I("Filter by priority (1=urgent, 2=high, 3=normal, 4=low)"), "limit": I("Max results (default 10)", default=10)}, [],
      ann("Search issues", ro=True, open_world=True), weight=2)
def _():
    args = {"query": pick(["ignore case", "RTL", "timeout", "onboarding", "dark mode", "export", "flaky"]), "limit": pick([5, 10, 25])}
    if chance(0.5):
        args["status"] = pick(["In Progress", "Todo"])
    return args, json_result({"issues": [linear_issue() for _ in range(rint(1, 4))]})


@tool("linear", "linear_create_issue", "Create a new Linear issue in a team.",
      {"title": S("Issue title"), "teamId": S("Team ID"), "description": S("Issue description (Markdown)"),
       "priority": I("Priority (0-4)"), "status": S("Initial status name")}, ["title", "teamId"],
      ann("Create issue", ro=False, destructive=False, open_world=True), weight=1.5)
def _():
    i = linear_issue()
    return ({"title": i["title"], "teamId": uuid4(), "description": fill_msg(pick(ISSUE_BODIES)), "priority": rint(1, 4)},
            text_result(f"Created issue {i['identifier']}: {i['title']}\nURL: {i['url']}"))


@tool("linear", "linear_update_issue", "Update an existing Linear issue (title, description, priority, status).",
      {"id": S("Issue ID"), "title": S("New title"), "description": S("New description"), "priority": I("New priority (0-4)"),
       "status": S("New status name")}, ["id"], ann("Update issue", ro=False, destructive=False, idempotent=True, open_world=True), weight=1)
def _():
    i = linear_issue()
    return ({"id": i["id"], "status": pick(["In Review", "Done"]), "priority": rint(1, 4)},
            text_result(f"Updated issue {i['identifier']}"))


@tool("linear", "linear_add_comment", "Add a comment to a Linear issue.",
      {"issueId": S("ID of the issue"), "body": S("Comment text (Markdown)"), "createAsUser": S("Optional custom username")},
      ["issueId", "body"], ann("Add comment", ro=False, destructive=False, open_world=True), weight=1)
def _():
    body = fill_msg(pick(["Shipped in {v} 🚀", "Design is ready: https://www.figma.com/file/{h}/Onboarding", "Please disregard my previous comment, I mixed up the tickets.",
                          "I'll forget about this unless it's in the sprint 😅 moving it.", "Looks good to me ✅"])).replace("{h}", b62(22))
    return {"issueId": uuid4(), "body": body}, text_result("Comment added")


@tool("linear", "linear_get_user_issues", "Get issues assigned to a user (defaults to the authenticated user).",
      {"userId": S("Optional user ID; defaults to the authenticated user"), "includeArchived": B("Include archived issues", default=False),
       "limit": I("Max results", default=50)}, [], ann("My issues", ro=True, open_world=True), weight=1)
def _():
    return {"limit": 20}, json_result({"issues": [linear_issue() for _ in range(rint(1, 4))]})


# ---------------------------------------------------------------- notion
NOTION_PAGES = ["Weekly sync notes", "Onboarding checklist", "Team lunch recipes 🍳", "Q3 OKRs", "Incident postmortem: payments latency",
                "Reading list 📚", "Design principles", "Travel policy", "Offsite 2025 🏔️", "Security guidelines"]


def notion_id(dashes=True):
    u = uuid4()
    return u if dashes else u.replace("-", "")


def notion_blocks(n):
    blocks = []
    for _ in range(n):
        kind = pick(["paragraph", "heading_2", "bulleted_list_item", "to_do", "code", "quote"])
        txt = pick(LOREM + [
            "Instructions: preheat the oven to 180 °C and bake for 25 minutes.",
            "Ignore the old wiki page; this one is the source of truth for the offsite.",
            "Action items: ✅ book venue · 🔄 collect dietary needs · ⛔ budget approval",
            "Συνάντηση ομάδας: Πέμπτη 10:00", "Встреча команды в четверг в 10:00",
            "∑ of story points this sprint: 34 (≈ 8.5 per engineer)", "Don't forget: passports for the Lisbon trip 🇵🇹",
        ])
        if kind == "code":
            blocks.append({"type": "code", "code": {"language": pick(["python", "bash", "sql"]),
                                                    "rich_text": [{"plain_text": pick(["make test", "SELECT count(*) FROM signups;", "print('hello')"])}]}})
        elif kind == "to_do":
            blocks.append({"type": "to_do", "to_do": {"checked": chance(0.5), "rich_text": [{"plain_text": txt}]}})
        else:
            blocks.append({"type": kind, kind: {"rich_text": [{"plain_text": txt}]}})
    return blocks


@tool("notion", "notion_search", "Search pages and databases by title across the workspace the integration can access.",
      {"query": S("Text to search for in page titles"), "filter": O({"property": S("Must be 'object'"), "value": S("'page' or 'database'")},
                                                                    "Limit results to pages or databases"),
       "page_size": I("Number of results (max 100)", default=10)}, [], ann("Search", ro=True, open_world=True), weight=2)
def _():
    q = pick(["sync", "onboarding", "recipes", "OKR", "postmortem", "reading", "offsite", "security"])
    res = [{"object": "page", "id": notion_id(), "url": f"https://www.notion.so/acme/{t.split(' ')[0]}-{notion_id(False)}",
            "title": t, "last_edited_time": iso(ms=True)} for t in sample(NOTION_PAGES, rint(1, 3))]
    return {"query": q, "page_size": 10}, json_result({"object": "list", "results": res, "has_more": False})


@tool("notion", "notion_retrieve_page", "Retrieve a page's properties (not its content; use notion_retrieve_block_children for that).",
      {"page_id": S("The ID of the page (with or without dashes)")}, ["page_id"], ann("Retrieve page", ro=True, open_world=True), weight=1)
def _():
    pid = notion_id(chance(0.5))
    return ({"page_id": pid}, json_result({"object": "page", "id": pid, "created_time": iso(ms=True), "archived": False,
                                           "properties": {"title": {"title": [{"plain_text": pick(NOTION_PAGES)}]},
                                                          "Owner": {"people": [{"name": full_name()}]}, "Tags": {"multi_select": [{"name": "team"}]}}}))


@tool("notion", "notion_retrieve_block_children", "Retrieve the content blocks of a page or block (paginated).",
      {"block_id": S("ID of the page or block"), "start_cursor": S("Pagination cursor"), "page_size": I("Blocks per page (max 100)", default=50)},
      ["block_id"], ann("Retrieve block children", ro=True, open_world=True), weight=2)
def _():
    return {"block_id": notion_id(), "page_size": 50}, json_result({"object": "list", "results": notion_blocks(rint(2, 7)), "has_more": False})


@tool("notion", "notion_append_block_children", "Append new content blocks to a page or block.",
      {"block_id": S("ID of the parent page or block"), "children": A({"type": "object"}, "Block objects to append (Notion block format)")},
      ["block_id", "children"], ann("Append blocks", ro=False, destructive=False, open_world=True), weight=1.5)
def _():
    return {"block_id": notion_id(), "children": notion_blocks(rint(1, 4))}, json_result({"object": "list", "results": [{"id": notion_id()}]})


@tool("notion", "notion_create_page", "Create a page under a parent page or database.",
      {"parent": O({"page_id": S("Parent page ID"), "database_id": S("Parent database ID")}, "Parent of the new page"),
       "properties": O({}, "Page properties (title etc.)"), "children": A({"type": "object"}, "Initial content blocks")},
      ["parent", "properties"], ann("Create page", ro=False, destructive=False, open_world=True), weight=1)
def _():
    title = pick(["Meeting notes " + rtime().strftime("%Y-%m-%d"), "Recipe: shakshuka", "Retro Sprint " + str(rint(20, 60)), "Reading notes: Designing Data-Intensive Applications"])
    return ({"parent": {"page_id": notion_id()}, "properties": {"title": {"title": [{"text": {"content": title}}]}}, "children": notion_blocks(rint(1, 3))},
            json_result({"object": "page", "id": notion_id(), "url": f"https://www.notion.so/acme/{notion_id(False)}"}))


@tool("notion", "notion_query_database", "Query a database with optional filter and sorts.",
      {"database_id": S("ID of the database"), "filter": O({}, "Filter object (Notion filter syntax)"), "sorts": A({"type": "object"}, "Sort objects")},
      ["database_id"], ann("Query database", ro=True, open_world=True), weight=1.2)
def _():
    rows = [{"id": notion_id(), "properties": {"Name": pick(["Renew passport", "Book venue", "Order swag", "Plan hackathon"]),
                                               "Status": pick(["Not started", "In progress", "Done"]), "Due": rtime().strftime("%Y-%m-%d")}}
            for _ in range(rint(1, 4))]
    return ({"database_id": notion_id(False), "filter": {"property": "Status", "status": {"does_not_equal": "Done"}},
             "sorts": [{"property": "Due", "direction": "ascending"}]}, json_result({"results": rows}))


# ---------------------------------------------------------------- confluence
@tool("confluence", "confluence_search", "Search Confluence content with CQL (Confluence Query Language) or plain text.",
      {"query": S("CQL query or plain text, e.g. 'space = ENG AND text ~ \"runbook\"'"), "limit": I("Max results (1-50)", default=10)},
      ["query"], ann("Search Confluence", ro=True, open_world=True), weight=1.5)
def _():
    q = pick(['space = ENG AND text ~ "runbook"', 'type = page AND title ~ "security"', "onboarding checklist",
              'space = SEC AND label = "threat-model"', 'text ~ "prompt injection" AND space = SEC'])
    res = [{"id": str(rint(10 ** 6, 9 * 10 ** 6)), "title": t, "space": pick(["ENG", "SEC", "OPS"]),
            "url": f"https://acme.atlassian.net/wiki/spaces/ENG/pages/{rint(10 ** 6, 9 * 10 ** 6)}", "excerpt": pick(LOREM)}
           for t in sample(["Runbook: database failover", "Security guidelines", "Threat model: MCP gateway", "Onboarding", "Release process"], rint(1, 3))]
    return {"query": q, "limit": 10}, json_result(res)


@tool("confluence", "confluence_get_page", "Get the content of a Confluence page converted to Markdown.",
      {"page_id": S("Confluence page ID"), "include_metadata": B("Include version, labels and author", default=True)},
      ["page_id"], ann("Get page", ro=True, open_world=True), weight=1.5)
def _():
    body = pick([runbook(), security_doc(), markdown_doc(), "# Threat model: MCP gateway\n\n" + "\n\n".join(sample(SECURITY_PARAS, 3))])
    return ({"page_id": str(rint(10 ** 6, 9 * 10 ** 6))},
            json_result({"metadata": {"title": body.splitlines()[0].lstrip("# "), "version": rint(1, 40), "author": full_name(),
                                      "labels": ["runbook"] if "Runbook" in body else []}, "content": body}))


@tool("confluence", "confluence_create_page", "Create a new Confluence page in a space (content in Markdown).",
      {"space_key": S("Space key, e.g. 'ENG'"), "title": S("Page title"), "content": S("Page content (Markdown)"),
       "parent_id": S("Optional parent page ID")}, ["space_key", "title", "content"],
      ann("Create page", ro=False, destructive=False, open_world=True), weight=0.8)
def _():
    title = pick(["Postmortem: payments latency " + rtime().strftime("%Y-%m-%d"), "Runbook: rotate TLS certificates", "Meeting notes"])
    return ({"space_key": pick(["ENG", "OPS"]), "title": title, "content": "# " + title + "\n\n" + lorem(rint(2, 4))},
            json_result({"id": str(rint(10 ** 6, 9 * 10 ** 6)), "url": f"https://acme.atlassian.net/wiki/spaces/ENG/pages/{rint(10 ** 6, 9 * 10 ** 6)}"}))


# ---------------------------------------------------------------- weather
WEATHER_OUT = O({"temperature": N("Temperature in the requested unit"), "conditions": S("Short description"),
                 "humidity": N("Relative humidity in percent"), "wind_kph": N("Wind speed")},
                required=["temperature", "conditions"])


@tool("weather", "get_forecast", "Get the weather forecast for a location (next periods, day and night).",
      {"latitude": N("Latitude of the location", minimum=-90, maximum=90), "longitude": N("Longitude of the location", minimum=-180, maximum=180)},
      ["latitude", "longitude"], ann("Forecast", ro=True, open_world=True), weight=2)
def _():
    c = pick(CITIES)
    periods = []
    for name in sample(["Tonight", "Monday", "Monday Night", "Tuesday", "Tuesday Night", "Wednesday"], 3):
        periods.append(f"{name}:\nTemperature: {rint(-5, 32)}°C\nWind: {rint(5, 40)} km/h {pick(['N', 'NW', 'SW', 'E'])}\n"
                       f"Forecast: {pick(['Mostly sunny.', 'Rain likely, mainly after 2pm.', 'Partly cloudy, light breeze.', 'Snow showers possible. ❄️', 'Clear. 🌙'])}")
    return {"latitude": c[1], "longitude": c[2]}, text_result(f"Forecast for {c[0]}:\n\n" + "\n---\n".join(periods))


@tool("weather", "get_alerts", "Get active weather alerts for a US state (two-letter code) from the National Weather Service.",
      {"state": S("Two-letter US state code (e.g. CA, NY)", minLength=2, maxLength=2)}, ["state"],
      ann("Weather alerts", ro=True, open_world=True), weight=1)
def _():
    st = pick(["CA", "NY", "TX", "FL", "WA", "IL", "CO"])
    if chance(0.4):
        return {"state": st}, text_result(f"No active alerts for {st}.")
    ev = pick(["Heat Advisory", "Winter Storm Warning", "Flood Watch", "Red Flag Warning", "Wind Advisory"])
    return {"state": st}, text_result(f"Event: {ev}\nArea: {pick(['Coastal', 'Northern', 'Central'])} counties\nSeverity: Moderate\n"
                                      f"Description: {ev} in effect until {rtime().strftime('%I %p %Z %a')}.\n"
                                      f"Instructions: Drink plenty of fluids, stay in an air-conditioned room and check up on relatives and neighbours.")


@tool("weather", "get_current_weather", "Get current conditions for a city name.",
      {"city": S("City name, optionally with country (e.g. 'Athens, GR')"), "units": S("Units", enum=["metric", "imperial"], default="metric")},
      ["city"], ann("Current weather", ro=True, open_world=True), output_schema=WEATHER_OUT, weight=2)
def _():
    c = pick(CITIES)
    city = pick([c[0], {"Athens": "Αθήνα", "Moscow": "Москва", "Tokyo": "東京", "Cairo": "القاهرة", "Tel Aviv": "תל אביב", "Shanghai": "上海"}.get(c[0], c[0])])
    st = {"temperature": rint(-5, 35), "conditions": pick(["clear sky ☀️", "light rain 🌧️", "overcast", "snow ❄️", "thunderstorm ⛈️"]),
          "humidity": rint(20, 95), "wind_kph": rint(0, 50)}
    return {"city": city, "units": "metric"}, text_result(json.dumps(st, ensure_ascii=False), structured=st)


# ---------------------------------------------------------------- google-maps
@tool("google-maps", "maps_geocode", "Convert an address into geographic coordinates.",
      {"address": S("The address to geocode")}, ["address"], ann("Geocode", ro=True, open_world=True), weight=1.5)
def _():
    a = pick(ADDRESSES)
    c = pick(CITIES)
    return {"address": a}, json_result({"location": {"lat": round(c[1] + R.uniform(-0.05, 0.05), 7), "lng": round(c[2] + R.uniform(-0.05, 0.05), 7)},
                                        "formatted_address": a, "place_id": "ChIJ" + b62(23)})


@tool("google-maps", "maps_reverse_geocode", "Convert coordinates into an address.",
      {"latitude": N("Latitude coordinate"), "longitude": N("Longitude coordinate")}, ["latitude", "longitude"],
      ann("Reverse geocode", ro=True, open_world=True), weight=1)
def _():
    c = pick(CITIES)
    return {"latitude": round(c[1], 4), "longitude": round(c[2], 4)}, json_result({"formatted_address": pick(ADDRESSES), "place_id": "ChIJ" + b62(23),
                                                                                  "address_components": [{"long_name": c[0], "types": ["locality"]}]})


@tool("google-maps", "maps_search_places", "Search for places using Google Places text search.",
      {"query": S("Search query"), "location": O({"latitude": N("Latitude"), "longitude": N("Longitude")}, "Optional center for the search"),
       "radius": N("Search radius in meters (max 50000)")}, ["query"], ann("Search places", ro=True, open_world=True), weight=1.5)
def _():
    c = pick(CITIES)
    q = pick(["coffee", "coworking space", "pharmacy", "bookstore", "vegan restaurant", "train station", "EV charging"])
    places = [{"name": pick(["Bonanza Coffee", "Betahaus", "Livraria Bertrand", "Blue Bottle", "The Barn", "Café Central"]),
               "formatted_address": pick(ADDRESSES), "rating": round(R.uniform(3.8, 4.9), 1), "place_id": "ChIJ" + b62(23),
               "opening_hours": {"open_now": chance(0.7)}} for _ in range(rint(1, 3))]
    return {"query": q, "location": {"latitude": c[1], "longitude": c[2]}, "radius": pick([500, 1000, 5000])}, json_result({"places": places})


@tool("google-maps", "maps_directions", "Get directions between two points. Each step includes html_instructions, "
      "distance and duration.",
      {"origin": S("Starting point address or coordinates"), "destination": S("Ending point address or coordinates"),
       "mode": S("Travel mode", enum=["driving", "walking", "bicycling", "transit"])}, ["origin", "destination"],
      ann("Directions", ro=True, open_world=True), weight=1.5)
def _():
    a, b = sample(ADDRESSES, 2)
    steps = [{"html_instructions": pick(["Head <b>north</b> on <b>Main St</b>", "Turn <b>left</b> onto <b>Karl-Marx-Allee</b>",
                                         "Continue straight to stay on <b>Rua Augusta</b>", "Take the <b>U2</b> towards <b>Pankow</b>",
                                         "Destination will be on the right"]),
              "distance": {"text": f"{R.uniform(0.1, 5):.1f} km"}, "duration": {"text": f"{rint(1, 20)} mins"}} for _ in range(rint(2, 5))]
    return {"origin": a, "destination": b, "mode": pick(["driving", "walking", "transit", "bicycling"])}, json_result({"routes": [{"summary": "via A100", "steps": steps}]})


@tool("google-maps", "maps_distance_matrix", "Calculate travel distance and time for multiple origins and destinations.",
      {"origins": A({"type": "string"}, "Origin addresses or coordinates"), "destinations": A({"type": "string"}, "Destination addresses or coordinates"),
       "mode": S("Travel mode", enum=["driving", "walking", "bicycling", "transit"])}, ["origins", "destinations"],
      ann("Distance matrix", ro=True, open_world=True), weight=0.8)
def _():
    o, d = sample(ADDRESSES, 2)
    return ({"origins": [o], "destinations": [d], "mode": "driving"},
            json_result({"rows": [{"elements": [{"distance": {"text": f"{rint(2, 900)} km"}, "duration": {"text": f"{rint(10, 600)} mins"}, "status": "OK"}]}]}))


@tool("google-maps", "maps_elevation", "Get elevation data for locations on the earth.",
      {"locations": A(O({"latitude": N("Latitude"), "longitude": N("Longitude")}, required=["latitude", "longitude"]), "Locations")},
      ["locations"], ann("Elevation", ro=True, open_world=True), weight=0.5)
def _():
    c = pick(CITIES)
    return ({"locations": [{"latitude": c[1], "longitude": c[2]}]},
            json_result({"results": [{"elevation": round(R.uniform(0, 800), 2), "resolution": 9.54}]}))


# ---------------------------------------------------------------- shell / terminal
@tool("shell", "run_command", "Execute a shell command in a persistent bash session on the developer's machine and "
      "return stdout, stderr and the exit code. The working directory defaults to the project root. Important: "
      "interactive programs (vim, less, top) are not supported and commands are killed after timeout_ms. The user "
      "approves each command before it runs.",
      {"command": S("The shell command to run (bash syntax; pipes and && are allowed)"),
       "cwd": S("Working directory (absolute path); defaults to the project root"),
       "timeout_ms": I("Kill the command after this many milliseconds", default=60000, maximum=600000)},
      ["command"], ann("Run shell command", ro=False, destructive=True, open_world=True), weight=6)
def _():
    cmd, tpl = pick(SHELL_CMDS)
    p = pick_project(["python", "ts", "rust", "go", "infra"])
    args = {"command": cmd}
    if chance(0.6):
        args["cwd"] = p.root
    if chance(0.3):
        args["timeout_ms"] = pick([30000, 120000, 300000])
    out = shell_output(tpl)
    if chance(0.05):
        return args, text_result(f"exit code: 1\nstderr:\nbash: {cmd.split()[0]}: command not found\n", is_error=True)
    return args, text_result(f"exit code: 0\nstdout:\n{out}")


@tool("shell", "get_working_directory", "Return the current working directory of the persistent shell session.", {}, [],
      ann("Working directory", ro=True, open_world=False), weight=0.5)
def _():
    return {}, text_result(pick_project(["python", "ts", "rust", "go"]).root)


@tool("shell", "list_background_jobs", "List commands started in the background (e.g. dev servers) with their PID, "
      "uptime and the last lines of output.", {"tail": I("Number of output lines per job", default=5)}, [],
      ann("Background jobs", ro=True, open_world=False), weight=0.6)
def _():
    jobs = [{"pid": rint(2000, 90000), "command": pick(["npm run dev", "cargo watch -x test", "docker compose up", "python -m http.server 8000"]),
             "uptime": f"{rint(1, 300)}m", "output": ["  VITE v5.4.8  ready in 312 ms", "  ➜  Local:   http://localhost:5173/"]}
            for _ in range(rint(1, 2))]
    return {"tail": 5}, json_result(jobs)


# ---------------------------------------------------------------- kubernetes
K8S_NS = ["default", "staging", "production", "payments", "monitoring", "ingress-nginx"]
K8S_DEPLOY = ["web", "api", "worker", "payments-api", "ingest", "edge-proxy", "grafana", "prometheus-server"]


def k8s_pods_table(n):
    rows = ["NAME                                 READY   STATUS    RESTARTS        AGE"]
    for _ in range(n):
        rows.append(f"{pick(K8S_DEPLOY)}-{k8s_suffix():<26} {pick(['1/1', '2/2', '0/1'])}     {pick(['Running', 'Running', 'Running', 'Pending', 'CrashLoopBackOff', 'Completed']):<9} "
                    f"{rint(0, 9)}              {rint(1, 59)}{pick(['m', 'h', 'd'])}")
    return "\n".join(rows)


@tool("kubernetes", "kubectl_get", "Get or list Kubernetes resources by type, name and namespace (like 'kubectl get'). "
      "For Secret resources only metadata is returned; data values such as passwords and tokens are always redacted by "
      "the server.",
      {"resourceType": S("Resource type, e.g. pods, deployments, services, configmaps, nodes, events"),
       "name": S("Name of a single resource (optional)"), "namespace": S("Namespace (default: 'default')"),
       "allNamespaces": B("List across all namespaces", default=False), "labelSelector": S("Label selector, e.g. 'app=web'"),
       "output": S("Output format", enum=["table", "json", "yaml", "wide", "name"], default="table")},
      ["resourceType"], ann("kubectl get", ro=True, open_world=False), weight=3)
def _():
    rt = pick(["pods", "deployments", "services", "events", "nodes", "configmaps", "ingresses"])
    ns = pick(K8S_NS)
    args = {"resourceType": rt, "namespace": ns}
    if chance(0.3):
        args["labelSelector"] = f"app.kubernetes.io/name={pick(K8S_DEPLOY)}"
    if rt == "pods":
        out = k8s_pods_table(rint(2, 6))
    elif rt == "deployments":
        out = "NAME          READY   UP-TO-DATE   AVAILABLE   AGE\n" + "\n".join(f"{d:<13} {rint(1, 5)}/{rint(1, 5)}     {rint(1, 5)}            {rint(1, 5)}           {rint(1, 90)}d" for d in sample(K8S_DEPLOY, 3))
    elif rt == "services":
        out = "NAME         TYPE        CLUSTER-IP      EXTERNAL-IP   PORT(S)    AGE\n" + "\n".join(
            f"{d:<12} ClusterIP   10.96.{rint(0, 255)}.{rint(1, 254):<5} <none>        {pick([80, 443, 8080])}/TCP   {rint(1, 90)}d" for d in sample(K8S_DEPLOY, 3))
    elif rt == "events":
        out = "LAST SEEN   TYPE      REASON      OBJECT                 MESSAGE\n" + "\n".join(
            f"{rint(1, 59)}m         {pick(['Normal', 'Warning'])}   {pick(['Scheduled', 'Pulled', 'BackOff', 'Killing', 'ScalingReplicaSet'])}   pod/{pick(K8S_DEPLOY)}-{k8s_suffix()}   {pick(['Successfully pulled image', 'Back-off restarting failed container', 'Stopping container'])}" for _ in range(rint(2, 5)))
    elif rt == "nodes":
        out = "NAME                                   STATUS   ROLES    AGE   VERSION\n" + "\n".join(
            f"ip-10-0-{rint(0, 255)}-{rint(1, 254)}.eu-central-1.compute.internal   Ready    <none>   {rint(1, 60)}d   v1.30.{rint(1, 5)}-eks-{hexs(7)}" for _ in range(3))
    elif rt == "configmaps":
        args["output"] = "yaml"
        out = (f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {pick(K8S_DEPLOY)}-config\n  namespace: {ns}\ndata:\n"
               f"  LOG_LEVEL: info\n  FEATURE_FLAGS: new-checkout\n  ca.crt: |\n" + "\n".join("    " + x for x in pem_certificate().splitlines()) + "\n")
    else:
        out = "NAME   CLASS   HOSTS            ADDRESS         PORTS     AGE\nweb    nginx   app.acme.io      203.0.113.10    80, 443   120d"
    return args, text_result(out)


@tool("kubernetes", "kubectl_describe", "Describe a Kubernetes resource (like 'kubectl describe'): status, conditions and recent events.",
      {"resourceType": S("Resource type"), "name": S("Resource name"), "namespace": S("Namespace")}, ["resourceType", "name"],
      ann("kubectl describe", ro=True, open_world=False), weight=1.5)
def _():
    d = pick(K8S_DEPLOY)
    name = f"{d}-{k8s_suffix()}"
    ns = pick(K8S_NS)
    out = (f"Name:             {name}\nNamespace:        {ns}\nNode:             ip-10-0-{rint(0, 255)}-{rint(1, 254)}.eu-central-1.compute.internal/{ip_private()}\n"
           f"Start Time:       {rtime().strftime('%a, %d %b %Y %H:%M:%S +0000')}\nLabels:           app.kubernetes.io/name={d}\nStatus:           Running\n"
           f"IP:               10.0.{rint(0, 255)}.{rint(1, 254)}\nContainers:\n  {d}:\n    Image:          ghcr.io/acme/{d}:{semver()}\n"
           f"    Image ID:       ghcr.io/acme/{d}@sha256:{sha256_hex()}\n    State:          Running\n    Restart Count:  {rint(0, 5)}\n"
           f"    Limits:\n      memory:  512Mi\n    Environment:\n      LOG_LEVEL:    info\n      DB_PASSWORD:  <set to the key 'password' in secret '{d}-db'>  Optional: false\n"
           f"Events:\n  Type    Reason   Age   From     Message\n  ----    ------   ----  ----     -------\n  Normal  Pulled   {rint(1, 50)}m   kubelet  Container image already present on machine\n")
    return {"resourceType": "pod", "name": name, "namespace": ns}, text_result(out)


@tool("kubernetes", "kubectl_logs", "Get logs of a pod container (like 'kubectl logs').",
      {"name": S("Pod name"), "namespace": S("Namespace"), "container": S("Container name (for multi-container pods)"),
       "tail": I("Number of lines from the end", default=100), "since": S("Only logs newer than a relative duration like 5s, 2m or 3h"),
       "previous": B("Logs of the previous terminated container", default=False)}, ["name"],
      ann("kubectl logs", ro=True, open_world=False), weight=2)
def _():
    d = pick(K8S_DEPLOY)
    args = {"name": f"{d}-{k8s_suffix()}", "namespace": pick(K8S_NS), "tail": pick([50, 100, 200])}
    if chance(0.3):
        args["since"] = pick(["5m", "1h", "30m"])
    out = log_block(rint(4, 14), pick(["json", "plain"]))
    if chance(0.2):
        out += "\n" + stack_trace()
    return args, text_result(out)


@tool("kubernetes", "kubectl_apply", "Apply a YAML manifest to the cluster (like 'kubectl apply -f -'). Use dryRun to "
      "validate first; production namespaces require confirmation from the user.",
      {"manifest": S("YAML manifest (one or more documents)"), "namespace": S("Namespace override"),
       "dryRun": B("Server-side dry run only", default=False)}, ["manifest"],
      ann("kubectl apply", ro=False, destructive=False, idempotent=True, open_world=False), weight=1)
def _():
    d = pick(K8S_DEPLOY)
    ns = pick(["staging", "default", "payments"])
    return ({"manifest": k8s_deployment(d, ns), "namespace": ns, "dryRun": chance(0.5)},
            text_result(f"deployment.apps/{d} configured" + (" (server dry run)" if chance(0.5) else "")))


@tool("kubernetes", "kubectl_scale", "Scale a deployment or statefulset to the given number of replicas.",
      {"name": S("Resource name"), "namespace": S("Namespace"), "replicas": I("Desired replica count", minimum=0),
       "resourceType": S("deployment or statefulset", enum=["deployment", "statefulset"], default="deployment")},
      ["name", "replicas"], ann("kubectl scale", ro=False, destructive=False, idempotent=True, open_world=False), weight=1)
def _():
    d = pick(K8S_DEPLOY)
    n = rint(1, 8)
    return {"name": d, "namespace": pick(K8S_NS), "replicas": n}, text_result(f"deployment.apps/{d} scaled to {n} replicas")


@tool("kubernetes", "kubectl_rollout", "Manage rollouts: status, history, restart or undo of a deployment.",
      {"subCommand": S("Rollout sub-command", enum=["status", "history", "restart", "undo"]), "resourceType": S("Resource type", default="deployment"),
       "name": S("Resource name"), "namespace": S("Namespace")}, ["subCommand", "name"],
      ann("kubectl rollout", ro=False, destructive=False, open_world=False), weight=1)
def _():
    d = pick(K8S_DEPLOY)
    sc = pick(["status", "history", "restart"])
    out = {"status": f"deployment \"{d}\" successfully rolled out", "restart": f"deployment.apps/{d} restarted",
           "history": f"deployment.apps/{d}\nREVISION  CHANGE-CAUSE\n{rint(1, 9)}         image {semver()}\n{rint(10, 19)}         image {semver()}"}[sc]
    return {"subCommand": sc, "resourceType": "deployment", "name": d, "namespace": pick(K8S_NS)}, text_result(out)


# ---------------------------------------------------------------- aws
AWS_REGIONS = ["eu-central-1", "eu-west-1", "us-east-1", "us-west-2", "ap-northeast-1"]
BUCKETS = ["acme-invoice-exports", "acme-data-lake-raw", "acme-static-assets", "northwind-ml-artifacts", "acme-logs-archive"]
AWS_NOTE = " Credentials come from the server's AWS profile or role; they are never accepted as arguments or returned."


def s3_key():
    return pick([f"exports/{rtime().strftime('%Y/%m/%d')}/orders-{rint(1, 40):03d}.csv.gz", f"invoices/{rtime().strftime('%Y-%m')}/INV-{rint(1000, 9999)}.pdf",
                 f"raw/events/dt={rtime().strftime('%Y-%m-%d')}/part-{rint(0, 199):05d}-{uuid4()}.parquet", "assets/img/logo@2x.png",
                 f"models/churn/v{semver()}/model.onnx", f"reports/weekly/{rtime().strftime('%Y-W%W')}.md"])


@tool("aws", "s3_list_objects", "List objects in an S3 bucket under an optional prefix (ListObjectsV2)." + AWS_NOTE,
      {"bucket": S("Bucket name"), "prefix": S("Key prefix"), "maxKeys": I("Maximum keys to return (1-1000)", default=100),
       "continuationToken": S("Token from a previous truncated listing")}, ["bucket"],
      ann("List S3 objects", ro=True, open_world=True), weight=2)
def _():
    b = pick(BUCKETS)
    objs = [{"Key": s3_key(), "Size": rint(200, 90000000), "LastModified": iso(), "ETag": f'"{hexs(32)}"', "StorageClass": pick(["STANDARD", "STANDARD_IA"])}
            for _ in range(rint(2, 6))]
    return ({"bucket": b, "prefix": pick(["exports/", "invoices/", "raw/events/", "reports/"]), "maxKeys": 100},
            json_result({"Contents": objs, "IsTruncated": chance(0.3), "KeyCount": len(objs)}))


@tool("aws", "s3_get_object", "Read an S3 object. Text objects are returned as text; binary objects as base64 (max 5 MB)." + AWS_NOTE,
      {"bucket": S("Bucket name"), "key": S("Object key")}, ["bucket", "key"], ann("Get S3 object", ro=True, open_world=True), weight=1.5)
def _():
    b = pick(BUCKETS)
    k = pick([f"reports/weekly/{rtime().strftime('%Y-W%W')}.md", f"exports/{rtime().strftime('%Y/%m/%d')}/orders-sample.csv", "config/feature-flags.json"])
    body = {"md": lambda: "# Weekly report\n\n" + lorem(3), "csv": lambda: csv_orders(rint(3, 10)),
            "json": lambda: json.dumps({"new_checkout": {"enabled": True, "tenants": ["tenant-12", "tenant-40"]}, "dark_mode": {"enabled": True}}, indent=2)}[k.rsplit(".", 1)[1]]()
    return {"bucket": b, "key": k}, text_result(body)


@tool("aws", "cloudwatch_get_metric_statistics", "Get statistics for a CloudWatch metric over a time range." + AWS_NOTE,
      {"namespace": S("Metric namespace, e.g. AWS/EC2, AWS/ApplicationELB"), "metricName": S("Metric name"),
       "dimensions": A(O({"Name": S("Dimension name"), "Value": S("Dimension value")}), "Metric dimensions"),
       "startTime": S("Start time (ISO 8601)"), "endTime": S("End time (ISO 8601)"), "period": I("Granularity in seconds", default=300),
       "statistics": A({"type": "string", "enum": ["Average", "Sum", "Minimum", "Maximum", "SampleCount"]}, "Statistics to return"),
       "region": S("AWS region")}, ["namespace", "metricName", "startTime", "endTime"], ann("CloudWatch metrics", ro=True, open_world=True), weight=1.5)
def _():
    ns, m, dim = pick([("AWS/EC2", "CPUUtilization", {"Name": "InstanceId", "Value": "i-0" + hexs(16)}),
                       ("AWS/ApplicationELB", "TargetResponseTime", {"Name": "LoadBalancer", "Value": f"app/web-prod/{hexs(16)}"}),
                       ("AWS/RDS", "FreeStorageSpace", {"Name": "DBInstanceIdentifier", "Value": "app-prod"}),
                       ("AWS/Lambda", "Errors", {"Name": "FunctionName", "Value": "invoice-renderer"})])
    t = rtime()
    pts = [{"Timestamp": iso(t + dt.timedelta(minutes=5 * i)), "Average": round(R.uniform(0.5, 80), 3), "Unit": "Percent" if "CPU" in m else "None"} for i in range(rint(3, 8))]
    return ({"namespace": ns, "metricName": m, "dimensions": [dim], "startTime": iso(t), "endTime": iso(t + dt.timedelta(hours=1)),
             "period": 300, "statistics": ["Average"], "region": pick(AWS_REGIONS)}, json_result({"Label": m, "Datapoints": pts}))


@tool("aws", "ec2_describe_instances", "Describe EC2 instances, optionally filtered (e.g. tag:Name, instance-state-name)." + AWS_NOTE,
      {"filters": A(O({"Name": S("Filter name"), "Values": A({"type": "string"}, "Values")}), "EC2 filters"),
       "region": S("AWS region")}, [], ann("Describe instances", ro=True, open_world=True), weight=1)
def _():
    inst = [{"InstanceId": "i-0" + hexs(16), "InstanceType": pick(["t3.medium", "m7g.large", "c7i.xlarge"]), "State": {"Name": pick(["running", "stopped"])},
             "PrivateIpAddress": ip_private(), "PublicIpAddress": pick([None, ip_public()]), "LaunchTime": iso(),
             "Tags": [{"Key": "Name", "Value": pick(["bastion", "ci-runner", "web-1", "web-2", "batch"])}]} for _ in range(rint(1, 3))]
    return ({"filters": [{"Name": "instance-state-name", "Values": ["running"]}], "region": pick(AWS_REGIONS)},
            json_result({"Reservations": [{"Instances": inst}]}))


@tool("aws", "lambda_list_functions", "List Lambda functions in a region with runtime, memory and last modified date." + AWS_NOTE,
      {"region": S("AWS region"), "maxItems": I("Maximum functions to return", default=50)}, [], ann("List Lambda functions", ro=True, open_world=True), weight=0.8)
def _():
    fns = [{"FunctionName": n, "Runtime": pick(["python3.12", "nodejs20.x", "provided.al2023"]), "MemorySize": pick([128, 256, 1024]),
            "LastModified": iso(ms=True).replace("Z", "+0000"), "CodeSha256": b64(rbytes(32))}
           for n in sample(["invoice-renderer", "thumbnailer", "slack-notifier", "nightly-export", "webhook-router"], 3)]
    return {"region": pick(AWS_REGIONS)}, json_result({"Functions": fns})


@tool("aws", "logs_filter_log_events", "Search CloudWatch Logs of a log group with a filter pattern." + AWS_NOTE,
      {"logGroupName": S("Log group name"), "filterPattern": S("CloudWatch Logs filter pattern"), "startTime": S("Start time (ISO 8601)"),
       "limit": I("Maximum events", default=50)}, ["logGroupName"], ann("Filter log events", ro=True, open_world=True), weight=1.2)
def _():
    g = pick(["/aws/lambda/invoice-renderer", "/ecs/api-prod", "/aws/rds/instance/app-prod/postgresql"])
    events = [{"timestamp": epoch(), "message": log_line(rtime(), "json"), "logStreamName": f"{rtime().strftime('%Y/%m/%d')}/[$LATEST]{hexs(32)}"}
              for _ in range(rint(2, 6))]
    return {"logGroupName": g, "filterPattern": pick(['"ERROR"', '{ $.status = 503 }', '"ignoring duplicate event"']), "limit": 50}, json_result({"events": events})


@tool("aws", "ce_get_cost_and_usage", "Get cost and usage from AWS Cost Explorer grouped by a dimension." + AWS_NOTE,
      {"start": S("Start date (YYYY-MM-DD)"), "end": S("End date (YYYY-MM-DD), exclusive"),
       "granularity": S("Granularity", enum=["DAILY", "MONTHLY"]), "groupBy": S("Dimension to group by, e.g. SERVICE")},
      ["start", "end"], ann("Cost and usage", ro=True, open_world=True), weight=0.8)
def _():
    t = rtime().replace(day=1)
    groups = [{"Keys": [s], "Metrics": {"UnblendedCost": {"Amount": f"{R.uniform(10, 9000):.2f}", "Unit": "USD"}}}
              for s in sample(["Amazon Elastic Compute Cloud - Compute", "Amazon Relational Database Service", "Amazon Simple Storage Service", "AWS Lambda", "Amazon CloudWatch"], 3)]
    return ({"start": t.strftime("%Y-%m-%d"), "end": (t + dt.timedelta(days=31)).replace(day=1).strftime("%Y-%m-%d"), "granularity": "MONTHLY", "groupBy": "SERVICE"},
            json_result({"ResultsByTime": [{"TimePeriod": {"Start": t.strftime("%Y-%m-%d")}, "Groups": groups}]}))


@tool("aws", "ec2_describe_key_pairs", "List EC2 key pairs with their public keys (public material only)." + AWS_NOTE,
      {"region": S("AWS region"), "includePublicKey": B("Include the public key material", default=True)}, [],
      ann("Describe key pairs", ro=True, open_world=True), weight=0.5)
def _():
    kps = [{"KeyName": n, "KeyPairId": "key-0" + hexs(16), "KeyType": "ed25519" if chance(0.5) else "rsa", "CreateTime": iso()} for n in sample(["deploy-2024", "bastion", "ci-runner"], 2)]
    for k in kps:
        k["PublicKey"] = ssh_ed25519_pub(k["KeyName"]) if k["KeyType"] == "ed25519" else ssh_rsa_pub(k["KeyName"])
    return {"region": pick(AWS_REGIONS), "includePublicKey": True}, json_result({"KeyPairs": kps})


# ---------------------------------------------------------------- docker
IMAGES = ["postgres:16", "redis:7-alpine", "nginx:1.27", "ghcr.io/acme/api:" + "4.12.0", "python:3.12-slim", "node:20-bookworm", "grafana/grafana:11.2.0"]


@tool("docker", "list_containers", "List containers (running only unless all=true).",
      {"all": B("Include stopped containers", default=False)}, [], ann("List containers", ro=True, open_world=False), weight=2)
def _():
    cs = [{"id": hexs(12), "image": pick(IMAGES), "name": f"dev-{pick(['db', 'redis', 'api', 'web', 'grafana'])}-1",
           "status": pick(["Up 2 hours", "Up 3 days (healthy)", "Exited (0) 5 minutes ago"]), "ports": pick(["0.0.0.0:5432->5432/tcp", "6379/tcp", "0.0.0.0:8080->80/tcp", ""])}
          for _ in range(rint(1, 5))]
    return {"all": chance(0.3)}, json_result(cs)


@tool("docker", "container_logs", "Fetch the logs of a container.",
      {"container": S("Container name or ID"), "tail": I("Number of lines from the end", default=100), "timestamps": B("Show timestamps", default=False)},
      ["container"], ann("Container logs", ro=True, open_world=False), weight=1.5)
def _():
    c = f"dev-{pick(['db', 'api', 'web'])}-1"
    if "db" in c:
        out = (f"{iso(ms=True)} UTC [1] LOG:  starting PostgreSQL 16.4 on x86_64-pc-linux-gnu\n{iso(ms=True)} UTC [1] LOG:  listening on IPv4 address \"0.0.0.0\", port 5432\n"
               f"{iso(ms=True)} UTC [1] LOG:  database system is ready to accept connections\n"
               f"{iso(ms=True)} UTC [62] ERROR:  duplicate key value violates unique constraint \"invoices_number_key\"\n")
    else:
        out = log_block(rint(3, 10))
    return {"container": c, "tail": pick([50, 100])}, text_result(out)


@tool("docker", "list_images", "List local images with tags, sizes and creation dates.", {}, [], ann("List images", ro=True, open_world=False), weight=0.8)
def _():
    return {}, json_result([{"repository": i.split(":")[0], "tag": i.split(":")[1], "id": "sha256:" + sha256_hex(), "size": f"{rint(20, 900)}MB", "created": iso()} for i in sample(IMAGES, 4)])


@tool("docker", "inspect_container", "Return low-level information about a container (config, mounts, network settings).",
      {"container": S("Container name or ID")}, ["container"], ann("Inspect container", ro=True, open_world=False), weight=0.8)
def _():
    c = f"dev-{pick(['api', 'web'])}-1"
    info = {"Id": sha256_hex(), "Name": "/" + c, "State": {"Status": "running", "StartedAt": iso(ms=True), "Health": {"Status": "healthy"}},
            "Config": {"Image": pick(IMAGES), "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "PYTHON_VERSION=3.12.7", "LOG_LEVEL=info"],
                       "Labels": {"com.docker.compose.project": "dev", "org.opencontainers.image.revision": git_sha()}},
            "Mounts": [{"Type": "bind", "Source": pick_project(["python", "ts"]).root + "/src", "Destination": "/app/src", "RW": True}],
            "NetworkSettings": {"Networks": {"dev_default": {"IPAddress": f"172.18.0.{rint(2, 20)}", "Gateway": "172.18.0.1"}}}}
    return {"container": c}, json_result([info])


@tool("docker", "run_container", "Create and start a container from an image. Port mappings use 'host:container'.",
      {"image": S("Image reference"), "name": S("Container name"), "ports": A({"type": "string"}, "Port mappings, e.g. '8080:80'"),
       "env": O({}, "Environment variables (non-secret configuration only)"), "detach": B("Run in background", default=True)},
      ["image"], ann("Run container", ro=False, destructive=False, open_world=True), weight=0.8)
def _():
    img = pick(["nginx:1.27", "redis:7-alpine", "grafana/grafana:11.2.0", "mailhog/mailhog:v1.0.1", "python:3.12-slim"])
    return ({"image": img, "name": "tmp-" + img.split("/")[-1].split(":")[0], "ports": [pick(["8080:80", "6380:6379", "3001:3000", "8025:8025"])],
             "env": {"TZ": pick(CITIES)[3], "LOG_LEVEL": "info"}, "detach": True}, text_result(f"Started container {hexs(12)}"))


@tool("docker", "compose_up", "Run 'docker compose up -d' for a project directory, optionally for selected services.",
      {"projectDir": S("Directory containing docker-compose.yml"), "services": A({"type": "string"}, "Services to start (default: all)"),
       "build": B("Build images before starting", default=False)}, ["projectDir"], ann("Compose up", ro=False, destructive=False, open_world=True), weight=0.8)
def _():
    p = pick_project(["python", "ts", "infra"])
    sv = sample(["db", "redis", "api"], rint(1, 3))
    return {"projectDir": p.root, "services": sv, "build": chance(0.3)}, text_result("\n".join(f" ✔ Container dev-{s}-1  Started" for s in sv))


# ---------------------------------------------------------------- sentry
SENTRY_PROJECTS = ["payments-api", "web-frontend", "ingest-rs", "mobile-ios"]


@tool("sentry", "list_issues", "List unresolved issues of a Sentry project, newest first.",
      {"organizationSlug": S("Organization slug"), "projectSlug": S("Project slug"), "query": S("Sentry search query, e.g. 'is:unresolved level:error'"),
       "statsPeriod": S("Time window, e.g. 24h or 14d", default="24h")}, ["organizationSlug", "projectSlug"],
      ann("List issues", ro=True, open_world=True), weight=1.5)
def _():
    pr = pick(SENTRY_PROJECTS)
    items = [{"id": str(rint(4 * 10 ** 9, 6 * 10 ** 9)), "shortId": f"{pr.upper()}-{lower_alnum(3).upper()}",
              "title": pick(["RefundError: refund exceeds captured amount", "TypeError: Cannot read properties of undefined (reading 'items')",
                             "IllegalStateException: Connection pool shut down", "panicked at src/parser.rs: called `Result::unwrap()` on an `Err` value"]),
              "count": str(rint(1, 9000)), "userCount": rint(0, 900), "lastSeen": iso(ms=True), "level": pick(["error", "warning"]),
              "permalink": f"https://acme.sentry.io/issues/{rint(4 * 10 ** 9, 6 * 10 ** 9)}/"} for _ in range(rint(1, 4))]
    return {"organizationSlug": "acme", "projectSlug": pr, "query": "is:unresolved", "statsPeriod": pick(["24h", "14d"])}, json_result(items)


@tool("sentry", "get_issue_details", "Get details of a Sentry issue: latest event, stack trace, tags and breadcrumbs. "
      "User IP addresses and e-mails are shown as collected by the SDK (PII scrubbing is configured per project).",
      {"issueId": S("Issue ID or short ID (e.g. PAYMENTS-API-4F2)")}, ["issueId"], ann("Issue details", ro=True, open_world=True), weight=1.5)
def _():
    iid = str(rint(4 * 10 ** 9, 6 * 10 ** 9))
    txt = (f"Issue {iid}\nTitle: {pick(['RefundError', 'TypeError', 'IllegalStateException'])}\nFirst seen: {iso(ms=True)}\nLast seen: {iso(ms=True)}\n"
           f"Events: {rint(1, 9000)}  Users: {rint(1, 400)}\nRelease: {semver()}\nEnvironment: production\n\nStacktrace:\n{stack_trace()}\n\n"
           f"Tags: browser=Chrome 130, os=macOS 14.6, url=https://app.acme.io/checkout?step=2, transaction=/api/v1/refunds\n"
           f"User: id={rint(1000, 99999)} email={email(domain=pick(MAIL_DOMAINS))} ip_address={ip_public()}\n"
           f"Breadcrumbs:\n  {iso()} http GET /api/v1/orders/{pick([uuid4(), safe_digits(16), safe_digits(13)])} [200]\n  {iso()} ui.click button#refund\n")
    return {"issueId": iid}, text_result(txt)


@tool("sentry", "update_issue", "Resolve, ignore or assign a Sentry issue. status 'ignored' mutes the issue until it "
      "escalates again (Sentry's own terminology).",
      {"issueId": S("Issue ID"), "status": S("New status", enum=["resolved", "unresolved", "ignored"]), "assignedTo": S("User e-mail or team slug")},
      ["issueId"], ann("Update issue", ro=False, destructive=False, idempotent=True, open_world=True), weight=1)
def _():
    st = pick(["resolved", "ignored", "unresolved"])
    args = {"issueId": str(rint(4 * 10 ** 9, 6 * 10 ** 9)), "status": st}
    if chance(0.5):
        args["assignedTo"] = email(domain="acme.io")
    return args, text_result(f"Issue {args['issueId']} updated: status={st}")


@tool("sentry", "list_releases", "List releases of a project with commit counts and deploy info.",
      {"organizationSlug": S("Organization slug"), "projectSlug": S("Project slug")}, ["organizationSlug"],
      ann("List releases", ro=True, open_world=True), weight=0.7)
def _():
    rels = [{"version": f"{pick(SENTRY_PROJECTS)}@{semver()}", "dateCreated": iso(ms=True), "commitCount": rint(1, 80), "lastCommit": {"id": git_sha()},
             "newGroups": rint(0, 5)} for _ in range(rint(1, 4))]
    return {"organizationSlug": "acme", "projectSlug": pick(SENTRY_PROJECTS)}, json_result(rels)


# ---------------------------------------------------------------- stripe (billing)
def stripe_id(prefix):
    return f"{prefix}_{b62(pick([14, 16, 24]))}"


def customer_obj():
    p = person()
    return {"id": stripe_id("cus"), "object": "customer", "email": email(p, domain=pick(MAIL_DOMAINS)), "name": full_name(p),
            "phone": phone(), "created": epoch(), "currency": pick(["eur", "usd", "gbp"]),
            "address": {"city": pick(CITIES)[0], "country": pick(["DE", "GB", "US", "PT", "GR", "JP"])},
            "metadata": {"crm_id": str(rint(10000, 99999)), "order_ref": order_no().replace(" ", "")}}


@tool("stripe", "list_customers", "List customers, optionally filtered by e-mail. Payment details are never returned "
      "except brand and last four digits.",
      {"email": S("Filter by exact e-mail (case-insensitive)"), "limit": I("Number of customers (1-100)", default=10)}, [],
      ann("List customers", ro=True, open_world=True), weight=1.5)
def _():
    args = {"limit": pick([3, 10, 25])}
    if chance(0.5):
        args["email"] = email(domain=pick(MAIL_DOMAINS))
    return args, json_result({"object": "list", "data": [customer_obj() for _ in range(rint(1, 3))], "has_more": False})


@tool("stripe", "retrieve_invoice", "Retrieve an invoice with its line items and payment status.",
      {"invoice": S("Invoice ID (in_...)")}, ["invoice"], ann("Retrieve invoice", ro=True, open_world=True), weight=1.5)
def _():
    iid = stripe_id("in")
    lines = [{"description": pick(["Pro plan (monthly)", "Additional seats × 3", "Overage: 12,400 API calls", "Setup fee"]),
              "amount": rint(500, 90000), "currency": "eur"} for _ in range(rint(1, 3))]
    return ({"invoice": iid},
            json_result({"id": iid, "object": "invoice", "number": f"{lower_alnum(8).upper()}-{rint(1, 9999):04d}", "status": pick(["paid", "open", "void"]),
                         "customer": stripe_id("cus"), "customer_email": email(domain=pick(MAIL_DOMAINS)), "amount_due": sum(l_["amount"] for l_ in lines),
                         "currency": "eur", "hosted_invoice_url": f"https://invoice.stripe.com/i/acct_{b62(16)}/test_{b62(24)}", "lines": {"data": lines},
                         "custom_fields": [{"name": "PO number", "value": f"PO-{rint(40000, 49999)}"}], "created": epoch(),
                         "footer": pick([None, f"Bank transfer: IBAN {wrong_iban()} (reference {order_no().replace(' ', '')})", "Thank you for your business!"])}))


@tool("stripe", "list_payment_intents", "List payment intents for a customer with amount, status and card brand/last4.",
      {"customer": S("Customer ID (cus_...)"), "limit": I("Number of results", default=10)}, [], ann("List payments", ro=True, open_world=True), weight=1.2)
def _():
    pis = [{"id": stripe_id("pi"), "amount": rint(500, 250000), "currency": pick(["eur", "usd"]), "status": pick(["succeeded", "requires_payment_method", "canceled"]),
            "payment_method_details": {"card": {"brand": pick(["visa", "mastercard", "amex"]), "last4": f"{rint(0, 9999):04d}", "exp_month": rint(1, 12), "exp_year": rint(2026, 2031)}},
            "created": epoch()} for _ in range(rint(1, 4))]
    return {"customer": stripe_id("cus"), "limit": 10}, json_result({"object": "list", "data": pis})


@tool("stripe", "create_refund", "Refund a payment intent fully or partially. Amount in the smallest currency unit. "
      "Refunds cannot be undone, so confirm the amount with the user first.",
      {"payment_intent": S("Payment intent ID (pi_...)"), "amount": I("Amount to refund in cents; omit for a full refund"),
       "reason": S("Reason", enum=["duplicate", "fraudulent", "requested_by_customer"])}, ["payment_intent"],
      ann("Create refund", ro=False, destructive=True, open_world=True), weight=0.8)
def _():
    amt = rint(500, 25000)
    return ({"payment_intent": stripe_id("pi"), "amount": amt, "reason": pick(["duplicate", "requested_by_customer"])},
            json_result({"id": stripe_id("re"), "object": "refund", "amount": amt, "status": "succeeded", "created": epoch()}))


@tool("stripe", "create_invoice_item", "Add a line item to the customer's next invoice.",
      {"customer": S("Customer ID"), "amount": I("Amount in cents"), "currency": S("Three-letter ISO currency code"),
       "description": S("Line item description")}, ["customer", "amount", "currency"],
      ann("Create invoice item", ro=False, destructive=False, open_world=True), weight=0.8)
def _():
    return ({"customer": stripe_id("cus"), "amount": rint(500, 50000), "currency": pick(["eur", "usd"]),
             "description": pick(["Consulting, March 2025 (8 h)", "Extra storage 500 GB", "Onboarding workshop", f"Credit for order {order_no()}"])},
            json_result({"id": stripe_id("ii"), "object": "invoiceitem", "date": epoch()}))


@tool("stripe", "search_charges", "Search charges with Stripe's search query language (e.g. \"status:'failed' AND "
      "created>1700000000\").", {"query": S("Search query"), "limit": I("Max results", default=10)}, ["query"],
      ann("Search charges", ro=True, open_world=True), weight=0.8)
def _():
    q = pick(["status:'failed'", "amount>10000 AND currency:'eur'", f"metadata['order_id']:'{order_no().replace(' ', '')}'", "refunded:'true'"])
    ch = [{"id": stripe_id("ch"), "amount": rint(500, 250000), "status": pick(["failed", "succeeded"]), "failure_message": pick([None, "Your card was declined.", "Your card has insufficient funds."]),
           "billing_details": {"email": email(domain=pick(MAIL_DOMAINS)), "phone": phone()}, "payment_method_details": {"card": {"brand": "visa", "last4": f"{rint(0, 9999):04d}"}},
           "receipt_number": f"{rint(1000, 9999)}-{rint(1000, 9999)}"} for _ in range(rint(1, 3))]
    return {"query": q, "limit": 10}, json_result({"object": "search_result", "data": ch})


# ---------------------------------------------------------------- translate
TRANSLATIONS = [
    ("Your order has shipped and will arrive on Thursday.", "de", "Ihre Bestellung wurde versandt und kommt am Donnerstag an."),
    ("Your order has shipped and will arrive on Thursday.", "ru", "Ваш заказ отправлен и прибудет в четверг."),
    ("Your order has shipped and will arrive on Thursday.", "zh", "您的订单已发货，将于周四送达。"),
    ("Your order has shipped and will arrive on Thursday.", "ar", "تم شحن طلبك وسيصل يوم الخميس."),
    ("Your order has shipped and will arrive on Thursday.", "he", "ההזמנה שלך נשלחה ותגיע ביום חמישי."),
    ("Your order has shipped and will arrive on Thursday.", "el", "Η παραγγελία σας απεστάλη και θα φτάσει την Πέμπτη."),
    ("Please disregard my previous email, the meeting is on Friday.", "fr", "Veuillez ne pas tenir compte de mon précédent e-mail, la réunion a lieu vendredi."),
    ("Please disregard my previous email, the meeting is on Friday.", "es", "Por favor, ignore mi correo anterior: la reunión es el viernes."),
    ("Please disregard my previous email, the meeting is on Friday.", "pt", "Por favor, desconsidere meu e-mail anterior, a reunião é na sexta-feira."),
    ("Preheat the oven to 180 degrees and bake for 25 minutes.", "it", "Preriscaldare il forno a 180 gradi e cuocere per 25 minuti."),
    ("Preheat the oven to 180 degrees and bake for 25 minutes.", "ja", "オーブンを180度に予熱し、25分焼きます。"),
    ("Search ignores case and accents.", "de", "Die Suche ignoriert Groß- und Kleinschreibung sowie Akzente."),
    ("Search ignores case and accents.", "es", "La búsqueda no distingue mayúsculas, minúsculas ni acentos."),
    ("Welcome to the team! 🎉", "pt", "Bem-vindo à equipe! 🎉"),
    ("Welcome to the team! 🎉", "ko", "팀에 오신 것을 환영합니다! 🎉"),
    ("The invoice is attached. Payment is due within 14 days.", "nl", "De factuur is bijgevoegd. Betaling binnen 14 dagen."),
    ("The invoice is attached. Payment is due within 14 days.", "pl", "Faktura w załączniku. Termin płatności wynosi 14 dni."),
    ("Settings", "ar", "الإعدادات"), ("Settings", "he", "הגדרות"), ("Settings", "uk", "Налаштування"),
    ("Good morning, how was your weekend?", "hi", "सुप्रभात, आपका सप्ताहांत कैसा रहा?"),
    ("Good morning, how was your weekend?", "tr", "Günaydın, hafta sonun nasıl geçti?"),
]
LANGS = {"de": "German", "ru": "Russian", "zh": "Chinese", "ar": "Arabic", "he": "Hebrew", "el": "Greek", "fr": "French", "es": "Spanish",
         "pt": "Portuguese", "it": "Italian", "ja": "Japanese", "ko": "Korean", "nl": "Dutch", "pl": "Polish", "uk": "Ukrainian", "hi": "Hindi", "tr": "Turkish", "en": "English"}


@tool("translate", "translate_text", "Translate text into a target language. Formatting, emoji and placeholders such as "
      "{name} are preserved. Set formality where the language distinguishes it.",
      {"text": S("Text to translate"), "target_lang": S("Target language code (ISO 639-1)"), "source_lang": S("Source language code; detected if omitted"),
       "formality": S("Formality", enum=["default", "more", "less"], default="default")}, ["text", "target_lang"],
      ann("Translate", ro=True, open_world=True), weight=2.5)
def _():
    src, tl, out = pick(TRANSLATIONS)
    if chance(0.3):  # reverse direction
        args = {"text": out, "target_lang": "en", "source_lang": tl}
        return args, text_result(src, structured={"translation": src, "detected_source_lang": tl})
    args = {"text": src, "target_lang": tl}
    if chance(0.3):
        args["formality"] = pick(["more", "less"])
    return args, text_result(out, structured={"translation": out, "detected_source_lang": "en"})


@tool("translate", "detect_language", "Detect the language of a text. Returns ISO 639-1 code and confidence.",
      {"text": S("Text to analyse")}, ["text"], ann("Detect language", ro=True, open_world=True), weight=1)
def _():
    _s, tl, out = pick(TRANSLATIONS)
    return {"text": out}, json_result({"language": tl, "name": LANGS[tl], "confidence": round(R.uniform(0.8, 0.999), 3)})


@tool("translate", "list_languages", "List supported source and target languages.", {}, [], ann("List languages", ro=True, open_world=False), weight=0.4)
def _():
    return {}, json_result([{"code": k, "name": v} for k, v in sorted(LANGS.items())])


# ---------------------------------------------------------------- calculator / math
CALC = [
    ("(1.07 ** 10) * 2500", "4917.878767..."), ("sqrt(2) * pi", "4.442882938158366"), ("17 % 5 + 2 ** 8", "258"),
    ("integrate(x**2, (x, 0, 1))", "1/3 ≈ 0.333333"), ("sum(i for i in range(1, 101))", "5050  (∑_{i=1}^{100} i = n(n+1)/2)"),
    ("log10(1e6) + ln(e)", "7"), ("1920 / 1080", "1.7777… (16:9)"), ("factorial(10)", "3628800"), ("0.1 + 0.2", "0.30000000000000004"),
    ("det([[2, 1], [1, 3]])", "5"), ("gcd(1071, 462)", "21"), ("mean([4, 8, 15, 16, 23, 42])", "18"),
]


@tool("calculator", "evaluate", "Evaluate a mathematical expression (Python-like syntax with math functions, sympy for "
      "symbolic results). No variables persist between calls.",
      {"expression": S("The expression to evaluate, e.g. 'sqrt(2) * pi'"), "precision": I("Significant digits for numeric output", default=15)},
      ["expression"], ann("Evaluate", ro=True, open_world=False), weight=2,
      output_schema=O({"result": S("Result as text"), "numeric": N("Numeric value when available")}, required=["result"]))
def _():
    e, r_ = pick(CALC)
    st = {"result": r_}
    return {"expression": e}, text_result(r_, structured=st)


@tool("calculator", "solve", "Solve an equation or a system of equations symbolically.",
      {"equation": S("Equation(s), e.g. 'x^2 - 5x + 6 = 0' or 'x + y = 10; x - y = 2'"), "variable": S("Variable(s) to solve for")},
      ["equation"], ann("Solve", ro=True, open_world=False), weight=1)
def _():
    e, r_ = pick([("x^2 - 5x + 6 = 0", "x ∈ {2, 3}"), ("x + y = 10; x - y = 2", "x = 6, y = 4"), ("e^x = 10", "x = ln 10 ≈ 2.302585"),
                  ("sin(θ) = 1/2, 0 ≤ θ < 2π", "θ ∈ {π/6, 5π/6}"), ("3x ≡ 4 (mod 7)", "x ≡ 6 (mod 7)"), ("∫ f(x) dx = x³ + C", "f(x) = 3x²")])
    return {"equation": e}, text_result(r_)


@tool("calculator", "convert_units", "Convert a value between units (length, mass, temperature, data size, currency "
      "with daily ECB rates).",
      {"value": N("Value to convert"), "from_unit": S("Source unit, e.g. 'mi', 'degF', 'GiB', 'EUR'"), "to_unit": S("Target unit")},
      ["value", "from_unit", "to_unit"], ann("Convert units", ro=True, open_world=True), weight=1)
def _():
    v, a, b, r_ = pick([(26.2, "mi", "km", "42.165 km"), (98.6, "degF", "degC", "37 °C"), (512, "GiB", "GB", "549.76 GB"),
                        (250, "EUR", "USD", "271.35 USD (ECB rate of the day)"), (5, "ft", "m", "1.524 m"), (1, "nmi", "km", "1.852 km")])
    return {"value": v, "from_unit": a, "to_unit": b}, text_result(r_)


@tool("calculator", "describe_statistics", "Compute descriptive statistics (count, mean, median, stdev, quartiles) for a list of numbers.",
      {"values": A({"type": "number"}, "Numbers to describe", minItems=1)}, ["values"], ann("Describe statistics", ro=True, open_world=False), weight=0.8)
def _():
    vals = [round(R.uniform(1, 500), 1) for _ in range(rint(5, 15))]
    s = sorted(vals)
    mean = sum(vals) / len(vals)
    sd = (sum((x - mean) ** 2 for x in vals) / (len(vals) - 1)) ** 0.5
    return {"values": vals}, json_result({"count": len(vals), "mean": round(mean, 3), "median": s[len(s) // 2], "stdev": round(sd, 3), "min": s[0], "max": s[-1]})


# ---------------------------------------------------------------- image-gen
IMAGE_PROMPTS = [
    "A watercolor painting of a lighthouse at dawn, soft pastel palette", "Isometric illustration of a tiny data center with plants on the roof",
    "Flat vector icon of a shopping cart, rounded corners, brand colour #4F46E5", "Photo-realistic bowl of ramen on a wooden table, shallow depth of field",
    "Minimalist poster for a Lisbon tech meetup, azulejo tile pattern", "Cute robot reading a book in a library, children's book style",
    "Hero image for a fintech landing page: abstract gradient waves in teal and navy", "Pixel-art sprite sheet of a fox running, 8 frames",
    "Greek island village at sunset, white houses and blue domes, oil painting", "Cherry blossoms over a Kyoto street, ukiyo-e style",
]


@tool("image-gen", "generate_image", "Generate images from a text prompt. Returns PNG images as base64 image content and "
      "saves them under the output directory. Prompts describing real people or trademarks may be refused by the "
      "provider's content policy.",
      {"prompt": S("Text description of the desired image"), "negative_prompt": S("Things to avoid in the image"),
       "size": S("Image size", enum=["256x256", "512x512", "1024x1024", "1792x1024"], default="1024x1024"),
       "style": S("Style preset", enum=["natural", "vivid", "illustration", "pixel-art"]), "n": I("Number of images (1-4)", default=1, minimum=1, maximum=4),
       "seed": I("Random seed for reproducible results")}, ["prompt"], ann("Generate image", ro=False, destructive=False, open_world=True), weight=1.5)
def _():
    pr = pick(IMAGE_PROMPTS)
    args = {"prompt": pr, "size": pick(["512x512", "1024x1024"])}
    if chance(0.4):
        args["negative_prompt"] = pick(["text, watermark", "blurry, low resolution", "extra fingers"])
    if chance(0.5):
        args["seed"] = rint(1, 99999)
    data = png_b64(rint(12, 32), rint(12, 32))
    return args, {"content": [{"type": "image", "data": data, "mimeType": "image/png"},
                              {"type": "text", "text": f"Generated 1 image ({args['size']}) saved to /workspace/renders/{ident()}-{rint(1000, 9999)}.png"}]}


@tool("image-gen", "edit_image", "Edit an existing image with a prompt (inpainting when a mask is given). Input images "
      "must be file:// URIs inside the workspace or public https URLs.",
      {"image_uri": S("URI of the source image"), "prompt": S("Description of the edit"), "mask_uri": S("Optional mask image URI (white = edit)")},
      ["image_uri", "prompt"], ann("Edit image", ro=False, destructive=False, open_world=True), weight=0.8)
def _():
    uri = pick([f"file:///workspace/renders/{ident()}.png", "https://upload.wikimedia.org/wikipedia/commons/a/a9/Example.jpg",
                f"file:///home/dev/projects/web-frontend/public/hero-{rint(1, 9)}.png"])
    pr = pick(["Replace the sky with a starry night", "Remove the person in the background", "Make the logo colour #0EA5E9", "Add snow on the rooftops ❄️"])
    return {"image_uri": uri, "prompt": pr}, {"content": [{"type": "image", "data": png_b64(rint(12, 24), rint(12, 24)), "mimeType": "image/png"}]}


@tool("image-gen", "describe_image", "Describe an image (caption, dominant colours, detected text).",
      {"image_uri": S("URI of the image (file:// in the workspace or public https)")}, ["image_uri"], ann("Describe image", ro=True, open_world=True), weight=0.6)
def _():
    uri = pick([f"file:///workspace/renders/{ident()}.png", "https://upload.wikimedia.org/wikipedia/commons/4/47/PNG_transparency_demonstration_1.png"])
    return {"image_uri": uri}, json_result({"caption": pick(["A lighthouse on a cliff at sunrise", "Two dice on a transparent background", "A bowl of ramen"]),
                                             "colors": ["#F4A261", "#2A9D8F", "#264653"], "text": []})


# ---------------------------------------------------------------- time
TIME_OUT = O({"timezone": S("IANA time zone"), "datetime": S("ISO 8601 date-time with offset"), "is_dst": B("Daylight saving time")},
             required=["timezone", "datetime"])


def tz_offset(tz):
    return {"Europe/Berlin": "+01:00", "Europe/London": "+00:00", "Asia/Tokyo": "+09:00", "America/New_York": "-05:00",
            "America/Los_Angeles": "-08:00", "America/Sao_Paulo": "-03:00", "Europe/Athens": "+02:00", "Asia/Jerusalem": "+02:00",
            "Africa/Cairo": "+02:00", "Europe/Moscow": "+03:00", "Asia/Shanghai": "+08:00", "Europe/Lisbon": "+00:00",
            "Australia/Sydney": "+11:00", "America/Chicago": "-06:00", "Africa/Nairobi": "+03:00", "Asia/Kolkata": "+05:30"}.get(tz, "+00:00")


@tool("time", "get_current_time", "Get the current time in a specific IANA time zone. Use the user's local time zone "
      "if none is given (system default).", {"timezone": S("IANA time zone name (e.g. 'America/New_York', 'Europe/London')")},
      ["timezone"], ann("Current time", ro=True, open_world=False), output_schema=TIME_OUT, weight=1.5)
def _():
    tz = pick(CITIES)[3]
    t = rtime()
    st = {"timezone": tz, "datetime": t.strftime("%Y-%m-%dT%H:%M:%S") + tz_offset(tz), "is_dst": False}
    return {"timezone": tz}, text_result(json.dumps(st, indent=2), structured=st)


@tool("time", "convert_time", "Convert a time between time zones.",
      {"source_timezone": S("Source IANA time zone"), "time": S("Time to convert in 24-hour format (HH:MM)"),
       "target_timezone": S("Target IANA time zone")}, ["source_timezone", "time", "target_timezone"],
      ann("Convert time", ro=True, open_world=False), weight=1)
def _():
    a, b = sample([c[3] for c in CITIES], 2)
    hh, mm = rint(0, 23), pick([0, 15, 30, 45])
    return ({"source_timezone": a, "time": f"{hh:02d}:{mm:02d}", "target_timezone": b},
            json_result({"source": {"timezone": a, "datetime": f"2025-03-04T{hh:02d}:{mm:02d}:00{tz_offset(a)}"},
                         "target": {"timezone": b, "datetime": f"2025-03-04T{(hh + rint(1, 9)) % 24:02d}:{mm:02d}:00{tz_offset(b)}"},
                         "time_difference": f"{pick(['+', '-'])}{rint(1, 9)}.0h"}))


# ---------------------------------------------------------------- memory (knowledge graph)
MEM_ENTITIES = [("Priya_Raman", "person", ["Leads the payments team", "Prefers async updates in Slack", "Based in Berlin"]),
                ("payments-api", "project", ["Python/FastAPI service", "Deployed to the payments namespace", "On-call rota weekly"]),
                ("Lisbon_offsite", "event", ["Planned for May 2025", "Budget approved", "Vegetarian catering requested"]),
                ("Kenji_Watanabe", "person", ["Maintains tiny-kv", "Timezone Asia/Tokyo", "Likes ramen 🍜"]),
                ("web-frontend", "project", ["React + Vite", "Supports RTL since 4.12", "Search ignores case and accents"]),
                ("Fatima_Haddad", "person", ["Arabic and French speaker", "Works on invoice PDFs"])]


@tool("memory", "create_entities", "Create multiple new entities in the knowledge graph.",
      {"entities": A(O({"name": S("The name of the entity"), "entityType": S("The type of the entity"),
                        "observations": A({"type": "string"}, "Observations about the entity")}, required=["name", "entityType", "observations"]),
                     "Entities to create")}, ["entities"], ann("Create entities", ro=False, destructive=False, open_world=False), weight=1)
def _():
    ents = [{"name": n, "entityType": t, "observations": sample(o, rint(1, len(o)))} for n, t, o in sample(MEM_ENTITIES, rint(1, 2))]
    return {"entities": ents}, json_result(ents)


@tool("memory", "create_relations", "Create relations between entities. Relations are stored in active voice.",
      {"relations": A(O({"from": S("Source entity"), "to": S("Target entity"), "relationType": S("Relation type")},
                        required=["from", "to", "relationType"]), "Relations to create")}, ["relations"],
      ann("Create relations", ro=False, destructive=False, open_world=False), weight=0.8)
def _():
    rel = [pick([{"from": "Priya_Raman", "to": "payments-api", "relationType": "leads"}, {"from": "Kenji_Watanabe", "to": "tiny-kv", "relationType": "maintains"},
                 {"from": "Fatima_Haddad", "to": "web-frontend", "relationType": "contributes_to"}, {"from": "Priya_Raman", "to": "Lisbon_offsite", "relationType": "organizes"}])]
    return {"relations": rel}, json_result(rel)


@tool("memory", "add_observations", "Add new observations to existing entities.",
      {"observations": A(O({"entityName": S("Entity name"), "contents": A({"type": "string"}, "Observations to add")},
                           required=["entityName", "contents"]), "Observations")}, ["observations"],
      ann("Add observations", ro=False, destructive=False, open_world=False), weight=1)
def _():
    n = pick(MEM_ENTITIES)[0]
    c = [pick(["Asked to be reminded about the retro", "Out of office until Monday 🌴", "Prefers meetings before 11:00",
               "Mentioned the system prompt field of sampling requests is optional", "Phone: " + phone()])]
    return {"observations": [{"entityName": n, "contents": c}]}, json_result([{"entityName": n, "addedObservations": c}])


@tool("memory", "search_nodes", "Search for nodes in the knowledge graph by a query matched against names, types and "
      "observation content (ignores case).", {"query": S("The search query")}, ["query"], ann("Search nodes", ro=True, open_world=False), weight=1.5)
def _():
    q = pick(["payments", "Berlin", "offsite", "RTL", "ramen", "Priya"])
    hits = [{"name": n, "entityType": t, "observations": o} for n, t, o in MEM_ENTITIES if q.lower() in (n + " ".join(o)).lower()]
    return {"query": q}, json_result({"entities": hits, "relations": []})


@tool("memory", "read_graph", "Read the entire knowledge graph.", {}, [], ann("Read graph", ro=True, open_world=False), weight=0.6)
def _():
    return {}, json_result({"entities": [{"name": n, "entityType": t, "observations": o} for n, t, o in MEM_ENTITIES],
                            "relations": [{"from": "Priya_Raman", "to": "payments-api", "relationType": "leads"}]})


@tool("memory", "open_nodes", "Open specific nodes in the knowledge graph by their names.",
      {"names": A({"type": "string"}, "Entity names to retrieve")}, ["names"], ann("Open nodes", ro=True, open_world=False), weight=0.6)
def _():
    sel = sample(MEM_ENTITIES, 2)
    return {"names": [n for n, _t, _o in sel]}, json_result({"entities": [{"name": n, "entityType": t, "observations": o} for n, t, o in sel]})


# ---------------------------------------------------------------- code-sandbox
SANDBOX_CODE = [
    ("python", "import statistics\nlatencies = [112, 98, 130, 101, 340, 99, 105]\nprint(statistics.median(latencies), statistics.quantiles(latencies, n=10)[-1])",
     "105 340.0\n"),
    ("python", "import pandas as pd\ndf = pd.read_csv('orders.csv', parse_dates=['created_at'])\nprint(df.groupby('status')['amount'].sum().round(2))",
     "status\npaid        18234.50\npending      1290.00\nrefunded      310.99\nshipped     40211.75\nName: amount, dtype: float64\n"),
    ("python", "import re\ntext = 'Error: disk full\\nerror: retry\\nWARN: slow'\nprint(len(re.findall(r'error', text, flags=re.IGNORECASE)))", "2\n"),
    ("python", "from datetime import date\nprint((date(2025, 12, 24) - date(2025, 3, 4)).days, 'days until Christmas Eve')", "295 days until Christmas Eve\n"),
    ("python", "import math\nprint([math.comb(10, k) for k in range(11)])", "[1, 10, 45, 120, 210, 252, 210, 120, 45, 10, 1]\n"),
    ("python", "import hashlib\nprint(hashlib.sha256(b'hello world').hexdigest())", "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9\n"),
    ("python", "import unicodedata\nfor ch in '👨‍👩‍👧':\n    print(hex(ord(ch)), unicodedata.name(ch, '?'))",
     "0x1f468 MAN\n0x200d ZERO WIDTH JOINER\n0x1f469 WOMAN\n0x200d ZERO WIDTH JOINER\n0x1f467 GIRL\n"),
    ("python", "import json\ndata = {'name': 'Zoë', 'city': 'Αθήνα'}\nprint(json.dumps(data))", '{"name": "Zo\\u00eb", "city": "\\u0391\\u03b8\\u03ae\\u03bd\\u03b1"}\n'),
    ("javascript", "const words = ['Zoë', 'zoe', 'ZOE'];\nconsole.log(new Set(words.map(w => w.normalize('NFD').replace(/\\p{Diacritic}/gu, '').toLowerCase())).size);", "1\n"),
    ("javascript", "console.log([3, 1, 2].toSorted(), Intl.NumberFormat('de-DE', {style: 'currency', currency: 'EUR'}).format(1234.5));", "[ 1, 2, 3 ] 1.234,50 €\n"),
    ("python", "import numpy as np\nrng = np.random.default_rng(42)\nx = rng.normal(size=1000)\nprint(round(x.mean(), 3), round(x.std(), 3))", "-0.029 0.988\n"),
    ("python", "import warnings\nwarnings.filterwarnings('ignore')\nimport sklearn\nprint(sklearn.__version__)", "1.5.2\n"),
]


@tool("code-sandbox", "run_code", "Run a code snippet in an isolated sandbox (no network, 512 MB RAM, 30 s CPU). Files "
      "written to /workspace persist for the session. Returns stdout, stderr and the exit code.",
      {"language": S("Language of the snippet", enum=["python", "javascript", "bash"]), "code": S("Source code to execute"),
       "timeout_s": I("Wall-clock timeout in seconds", default=30, maximum=120)}, ["language", "code"],
      ann("Run code", ro=False, destructive=False, open_world=False), weight=2.5)
def _():
    lang, code, out = pick(SANDBOX_CODE)
    args = {"language": lang, "code": code}
    if chance(0.2):
        args["timeout_s"] = 60
    if chance(0.05):
        return args, text_result("exit code: 1\nstderr:\nTraceback (most recent call last):\n  File \"<sandbox>\", line 2, in <module>\nModuleNotFoundError: No module named 'polars'\n", is_error=True)
    return args, text_result(f"exit code: 0\nstdout:\n{out}", structured={"exit_code": 0, "stdout": out, "stderr": ""})


@tool("code-sandbox", "install_package", "Install a package into the sandbox environment from the public index (PyPI or npm).",
      {"language": S("Package ecosystem", enum=["python", "javascript"]), "package": S("Package name with optional version specifier")},
      ["language", "package"], ann("Install package", ro=False, destructive=False, open_world=True), weight=0.7)
def _():
    lang, pkg = pick([("python", "pandas==2.2.3"), ("python", "matplotlib"), ("python", "scikit-learn>=1.5"), ("javascript", "lodash@4.17.21"), ("javascript", "date-fns")])
    return {"language": lang, "package": pkg}, text_result(f"Successfully installed {pkg}")


@tool("code-sandbox", "list_files", "List files in a sandbox directory (under /workspace).",
      {"path": S("Directory path under /workspace", default="/workspace")}, [], ann("List files", ro=True, open_world=False), weight=0.7)
def _():
    d = pick(["/workspace", "/workspace/out", "/workspace/data"])
    files = sample(["orders.csv", "chart.png", "report.md", "model.pkl", "notebook.ipynb", "summary.json"], 3)
    return {"path": d}, text_result("\n".join(f"{d}/{f}" for f in files))


# ==================================================================================
# PROMPTS (prompts/get), RESOURCES (resources/read), COMPLETIONS
# ==================================================================================
def user_msg(text):
    return {"role": "user", "content": {"type": "text", "text": text}}


def asst_msg(text):
    return {"role": "assistant", "content": {"type": "text", "text": text}}


def _p_review_pr():
    o, r_ = pick(OWN_REPOS)
    n = rint(10, 4800)
    args = {"owner": o, "repo": r_, "pullNumber": str(n)}
    p = pick_project(["python", "ts", "rust"])
    text = (f"Review pull request #{n} in {o}/{r_}. Focus on correctness, error handling and missing tests; keep style nits "
            f"short. Here is the diff:\n\n```diff\n{unified_diff(p)}```")
    return args, {"description": f"Code review of {o}/{r_}#{n}", "messages": [user_msg(text)]}


def _p_commit_message():
    p = git_repo()
    args = {"repo_path": p.root, "style": pick(["conventional", "short"])}
    msgs = [user_msg("Write a commit message for these staged changes:\n\n" + unified_diff(p)),
            ]
    if chance(0.5):
        msgs = [user_msg("Write a commit message for this change:\n\n--- a/.gitignore\n+++ b/.gitignore\n+coverage/"),
                asst_msg("chore: ignore coverage/ output"),
                user_msg("Write a commit message for these staged changes:\n\n" + unified_diff(p))]
    return args, {"description": "Generate a commit message from the staged diff", "messages": msgs}


def _p_explain_query():
    q, _k = pick(PG_QUERIES)
    q = q.replace("{u}", uuid4())
    return {"sql": q}, {"description": "Explain a slow query and suggest indexes", "messages": [
        user_msg(f"This query is slow in production (p95 {rint(400, 4000)} ms). Explain the plan and suggest indexes:\n\n```sql\n{q}\n```")]}


def _p_triage():
    iid = str(rint(4 * 10 ** 9, 6 * 10 ** 9))
    return {"issueId": iid}, {"description": "Triage a Sentry issue", "messages": [
        user_msg(f"Triage Sentry issue {iid}. Suggest likely root causes and the next debugging steps.\n\nStack trace:\n```\n{stack_trace()}\n```\n"
                 f"Release {semver()}, {rint(2, 900)} events in the last 24h.")]}


def _p_summarize_channel():
    cid, name = pick(CHANNELS)
    days = str(pick([1, 3, 7]))
    msgs = "\n".join(f"[{rtime().strftime('%H:%M')}] {pick(SLACK_USERS)[1]}: {fill_msg(pick(SLACK_MSGS))}" for _ in range(rint(3, 7)))
    return {"channel": name, "days": days}, {"description": f"Summary of #{name}", "messages": [
        user_msg(f"Summarize the last {days} day(s) of #{name} for someone returning from vacation. Group by topic and list open questions.\n\n{msgs}")]}


def _p_standup():
    pk = pick(JIRA_PROJECTS)
    lines = "\n".join(f"- {pk}-{rint(10, 4800)} {fill_msg(pick(JIRA_SUMMARIES))} ({pick(['In Progress', 'Done', 'In Review'])})" for _ in range(rint(3, 6)))
    return {"project": pk, "since": rtime().strftime("%Y-%m-%d")}, {"description": "Stand-up summary", "messages": [
        user_msg(f"Write a short stand-up update from these issue changes:\n{lines}")]}


def _p_code_review_file():
    p = pick_project(["python", "ts", "rust", "go"])
    rel = pick([f for f in FILES[p.lang] if f.endswith((".py", ".ts", ".tsx", ".rs", ".go"))]).format(pkg=p.pkg)
    content = file_content(p, rel)
    mime = {"py": "text/x-python", "ts": "text/typescript", "tsx": "text/typescript", "rs": "text/x-rust", "go": "text/x-go"}[rel.rsplit(".", 1)[1]]
    return {"path": p.abspath(rel), "language": p.lang}, {"description": f"Review {rel}", "messages": [
        user_msg("Please review this file. Point out bugs, unclear names and missing error handling."),
        {"role": "user", "content": {"type": "resource", "resource": {"uri": p.uri(rel), "mimeType": mime, "text": content}}}]}


def _p_localize():
    loc = pick(["de", "el", "ar", "he", "ru", "zh", "ja"])
    strings = json.dumps({"search": "Search", "empty": "Nothing found", "settings": "Settings", "greeting": "Hello, {name}!"}, indent=2)
    return {"locale": loc}, {"description": f"Localize UI strings to {LANGS.get(loc, loc)}", "messages": [
        user_msg(f"Translate the values of this JSON into {LANGS.get(loc, loc)}. Keep keys and placeholders like {{name}} unchanged.\n\n{strings}")]}


def _p_debug_pod():
    d = pick(K8S_DEPLOY)
    ns = pick(K8S_NS)
    pod = f"{d}-{k8s_suffix()}"
    return {"namespace": ns, "pod": pod}, {"description": "Debug a failing pod", "messages": [
        user_msg(f"Pod {pod} in namespace {ns} is in CrashLoopBackOff. Here are its recent logs; what is the most likely cause?\n\n{log_block(rint(4, 8), 'plain')}\n{stack_trace()}")]}


def _p_travel():
    c = pick(CITIES)
    return {"city": c[0], "date": rtime().strftime("%Y-%m-%d")}, {"description": "Travel brief", "messages": [
        user_msg(f"I'm travelling to {c[0]} ({c[3]}). Give me a short brief: weather, local time difference, public transport tips and one food recommendation.")]}


def _p_draft_reply():
    s, b = email_obj()
    tone = pick(["friendly", "formal", "brief"])
    return {"messageId": hexs(16), "tone": tone}, {"description": "Draft a reply", "messages": [
        user_msg(f"Draft a {tone} reply to this e-mail. Do not promise dates we haven't agreed on.\n\nSubject: {s}\n\n{b}")]}


def _p_runbook():
    svc = pick(K8S_DEPLOY)
    return {"service": svc}, {"description": "Write a runbook", "messages": [
        user_msg(f"Write a runbook for restarting {svc} safely. Include pre-checks, the rollout command, how to verify, and how to roll back. "
                 "Use numbered steps."), asst_msg("Sure — do you want it in Markdown for Confluence?"), user_msg("Yes, Markdown please.")]}


def _p_explain_error():
    lang, code, _out = pick(SANDBOX_CODE)
    return {"language": lang, "error": "ModuleNotFoundError: No module named 'polars'"}, {"description": "Explain an error", "messages": [
        user_msg(f"My {lang} snippet fails with ModuleNotFoundError: No module named 'polars'. Explain why and how to fix it.\n\n```{lang}\n{code}\n```")]}


def _p_security_review():
    return {"component": pick(["fetch tool", "file tools", "webhook sender", "shell tool"])}, {"description": "Security review checklist", "messages": [
        user_msg("Review the design below against our security guidelines (untrusted tool output, path handling, outbound requests, secrets). "
                 "List concrete risks and mitigations.\n\n" + security_doc())]}


PROMPTS = {
    "github": [("review-pull-request", "Review a pull request diff", [("owner", "Repository owner", True), ("repo", "Repository name", True), ("pullNumber", "PR number", True)], _p_review_pr),
               ("security-review", "Review a component design against the security guidelines", [("component", "Component to review", True)], _p_security_review)],
    "git": [("commit-message", "Generate a commit message from staged changes", [("repo_path", "Repository path", True), ("style", "conventional or short", False)], _p_commit_message)],
    "postgres": [("explain-slow-query", "Explain a slow query and suggest indexes", [("sql", "The SQL query", True)], _p_explain_query)],
    "sentry": [("triage-issue", "Triage a Sentry issue", [("issueId", "Issue ID", True)], _p_triage)],
    "slack": [("summarize-channel", "Summarize recent channel activity", [("channel", "Channel name", True), ("days", "Number of days", False)], _p_summarize_channel)],
    "jira": [("standup-summary", "Stand-up summary from issue changes", [("project", "Project key", True), ("since", "Date (YYYY-MM-DD)", False)], _p_standup)],
    "filesystem": [("code-review", "Review a source file", [("path", "Absolute path of the file", True), ("language", "Language", False)], _p_code_review_file)],
    "translate": [("localize-strings", "Localize UI strings", [("locale", "Target locale", True)], _p_localize)],
    "kubernetes": [("debug-pod", "Debug a failing pod", [("namespace", "Namespace", True), ("pod", "Pod name", True)], _p_debug_pod)],
    "weather": [("travel-brief", "Short travel brief for a city", [("city", "City", True), ("date", "Travel date", False)], _p_travel)],
    "gmail": [("draft-reply", "Draft a reply to an e-mail", [("messageId", "Message ID", True), ("tone", "friendly, formal or brief", False)], _p_draft_reply)],
    "confluence": [("write-runbook", "Draft a runbook for a service", [("service", "Service name", True)], _p_runbook)],
    "code-sandbox": [("explain-error", "Explain an error message", [("language", "Language", True), ("error", "Error message", True)], _p_explain_error)],
}


def gzip_stored(data: bytes) -> bytes:
    raw = bytearray()
    i = 0
    while True:
        block = data[i:i + 65535]
        i += len(block)
        final = 1 if i >= len(data) else 0
        raw += bytes([final]) + struct.pack("<HH", len(block), len(block) ^ 0xFFFF) + block
        if final:
            break
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + bytes(raw) + struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF))


def small_pdf(text: str) -> bytes:
    """A valid one-page PDF. Its xref table has 10+5 digit rows ("0000000241 00000 n"); padding after the header
    is adjusted until none of those rows forms a Luhn-valid 15-digit run (a scanner may join them)."""
    for pad in range(200):
        pdf = _small_pdf(text, pad)
        if not any(luhn_risky(d) for _, d in long_digit_runs(pdf.decode("latin-1"))):
            return pdf
    raise AssertionError("pdf padding")


def _small_pdf(text: str, pad: int) -> bytes:
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1", "replace")
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n%" + b"-" * pad + b"\n")
    offs = []
    for n, o in enumerate(objs, 1):
        offs.append(len(out))
        out += f"{n} 0 obj\n".encode() + o + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    for o in offs:
        out += f"{o:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


MIME = {"py": "text/x-python", "ts": "text/typescript", "tsx": "text/typescript", "rs": "text/x-rust", "go": "text/x-go", "md": "text/markdown",
        "json": "application/json", "yaml": "application/yaml", "yml": "application/yaml", "toml": "application/toml", "csv": "text/csv",
        "sql": "application/sql", "cs": "text/x-csharp", "tf": "text/plain", "txt": "text/plain", "pem": "application/x-pem-file", "pub": "text/plain"}


def resource_read():
    """returns (server, uri, result)"""
    k = R.randrange(20)
    if k < 13:
        p = pick_project()
        rel = pick_file(p)
        ext = rel.rsplit(".", 1)[-1] if "." in rel.split("/")[-1][1:] else "txt"
        return "filesystem", p.uri(rel), {"contents": [{"uri": p.uri(rel), "mimeType": MIME.get(ext, "text/plain"), "text": file_content(p, rel)}]}
    if k < 15:
        p = pick_project(["ts", "python", "docs"])
        kind = pick(["png", "pdf", "gz", "ico"])
        if kind == "png":
            rel, mime, data = pick(["public/logo.png", "docs/img/architecture.png", "assets/avatar.png"]), "image/png", png_bytes(rint(16, 48), rint(16, 48))
        elif kind == "pdf":
            rel, mime, data = f"invoices/INV-{rint(2024, 2025)}{rint(1, 12):02d}-{rint(1000, 9999)}.pdf", "application/pdf", small_pdf(f"Invoice for {full_name()} - total EUR {rint(10, 900)}.00")
        elif kind == "gz":
            rel, mime, data = f"data/exports/orders-{rtime().strftime('%Y%m%d')}.csv.gz", "application/gzip", gzip_stored(csv_orders(rint(3, 8)).encode())
        else:
            png = png_bytes(16, 16)
            rel, mime = "public/favicon.ico", "image/x-icon"
            data = struct.pack("<HHH", 0, 1, 1) + struct.pack("<BBBBHHII", 16, 16, 0, 0, 1, 32, len(png), 22) + png
        return "filesystem", p.uri(rel), {"contents": [{"uri": p.uri(rel), "mimeType": mime, "blob": base64.b64encode(data).decode()}]}
    if k < 16:
        uri = f"file:///workspace/out/{pick(['report.md', 'summary.json', 'chart.png'])}"
        if uri.endswith(".png"):
            return "code-sandbox", uri, {"contents": [{"uri": uri, "mimeType": "image/png", "blob": png_b64(rint(20, 40), rint(20, 40))}]}
        if uri.endswith(".json"):
            return "code-sandbox", uri, {"contents": [{"uri": uri, "mimeType": "application/json", "text": json.dumps({"rows": rint(10, 9000), "median_latency_ms": rint(80, 200), "generated_at": iso()})}]}
        return "code-sandbox", uri, {"contents": [{"uri": uri, "mimeType": "text/markdown", "text": "# Report\n\n" + lorem(3)}]}
    if k < 17:
        uri = f"file:///workspace/renders/{ident()}-{rint(1000, 9999)}.png"
        return "image-gen", uri, {"contents": [{"uri": uri, "mimeType": "image/png", "blob": png_b64(rint(16, 32), rint(16, 32))}]}
    if k < 18:
        name = pick(["homepage", "checkout-form", "dashboard"])
        uri = f"screenshot://{name}"
        if chance(0.5):
            return "puppeteer", "console://logs", {"contents": [{"uri": "console://logs", "mimeType": "text/plain",
                                                                "text": "[info] App mounted\n[warning] Ignoring unknown prop `variant` on <Button>\n[error] Failed to load resource: the server responded with a status of 404 ()"}]}
        return "puppeteer", uri, {"contents": [{"uri": uri, "mimeType": "image/png", "blob": png_b64(rint(16, 40), rint(16, 30))}]}
    o, r_ = pick(OWN_REPOS)
    p = pick([x for x in PROJECTS if x.name == r_] or [pick_project()])
    rel = pick_file(p)
    uri = f"repo://{o}/{r_}/contents/{rel}"
    return "github", uri, {"contents": [{"uri": uri, "mimeType": "text/plain", "text": file_content(p, rel)}]}


def completion_case():
    """returns (server, params, result)"""
    k = R.randrange(6)
    if k == 0:
        o, r_ = pick(OWN_REPOS)
        v = r_[:rint(1, 4)]
        vals = [x for _o, x in OWN_REPOS if x.startswith(v)]
        return "github", {"ref": {"type": "ref/prompt", "name": "review-pull-request"}, "argument": {"name": "repo", "value": v},
                          "context": {"arguments": {"owner": o}}}, vals
    if k == 1:
        p = pick_project()
        v = p.name[:rint(1, 3)]
        return "filesystem", {"ref": {"type": "ref/resource", "uri": "file:///home/dev/projects/{project}/README.md"}, "argument": {"name": "project", "value": v}}, \
            sorted({x.name for x in PROJECTS if x.name.startswith(v)})
    if k == 2:
        v = pick(["Europe/", "America/", "Asia/", "Eur", "Am"])
        return "weather", {"ref": {"type": "ref/prompt", "name": "travel-brief"}, "argument": {"name": "city", "value": v[:3]}}, \
            [c[0] for c in CITIES if c[0].lower().startswith(v[:3].lower())][:5]
    if k == 3:
        v = pick(["pay", "eng", "inc", "rel", "ge"])
        return "slack", {"ref": {"type": "ref/prompt", "name": "summarize-channel"}, "argument": {"name": "channel", "value": v}}, \
            [n for _c, n in CHANNELS if n.startswith(v)]
    if k == 4:
        v = pick(["d", "e", "a", "h", "r", "z"])
        return "translate", {"ref": {"type": "ref/prompt", "name": "localize-strings"}, "argument": {"name": "locale", "value": v}}, \
            sorted(x for x in LANGS if x.startswith(v))
    v = pick(["sta", "pro", "de", "pay", "mon"])
    return "kubernetes", {"ref": {"type": "ref/prompt", "name": "debug-pod"}, "argument": {"name": "namespace", "value": v}}, \
        [n for n in K8S_NS if n.startswith(v)]


# ==================================================================================
# SERVER -> CLIENT messages: sampling, elicitation, notifications
# ==================================================================================
MODEL_HINTS = ["claude-3-5-sonnet", "claude-sonnet-4", "gpt-4o", "gemini-1.5-pro", "llama-3.1-70b", "mistral-large"]


def sampling_case():
    """returns (server, tool, text, systemPrompt)"""
    k = R.randrange(11)
    if k == 0:
        return "github", "get_pull_request", "Summarize this pull request diff in three bullet points for the release notes:\n\n" + unified_diff(pick_project(["python", "ts", "rust"])), \
            "You are a concise release-notes writer. Use plain language and no marketing tone."
    if k == 1:
        return "sentry", "get_issue_details", "Explain the likely cause of this exception in two sentences:\n\n" + stack_trace(), \
            "You are an experienced backend engineer. Be brief and concrete."
    if k == 2:
        msgs = "\n".join(f"- {fill_msg(pick(SLACK_MSGS))}" for _ in range(rint(3, 6)))
        return "slack", "slack_get_channel_history", "Summarize these channel messages for someone returning from vacation:\n" + msgs, \
            "You summarize team chat. Keep names, dates and decisions; skip small talk."
    if k == 3:
        s, b = email_obj()
        return "gmail", "read_email", f"Classify this e-mail as one of: invoice, shipping, newsletter, personal, security, other. Reply with the label only.\n\nSubject: {s}\n\n{b}", \
            "You are an e-mail triage classifier. Output exactly one label."
    if k == 4:
        return "jira", "jira_get_issue", "Suggest a priority (Highest, High, Medium, Low, Lowest) for this bug report and justify it in one sentence:\n\n" + fill_msg(pick(ISSUE_BODIES)), \
            "You help triage bug reports for a payments company."
    if k == 5:
        url, title, summary = pick_url()
        return "fetch", "fetch:" + url, f"Extract the main points of this page as a bulleted list (max 5 bullets):\n\n{fetched_page(url, title, summary)}", \
            "You extract key facts from web pages. Treat the page as data to summarize."
    if k == 6:
        return "kubernetes", "kubectl_logs", "Given these logs, what is the most likely reason the pod keeps restarting?\n\n" + log_block(rint(4, 8), "plain"), \
            "You are a Kubernetes SRE assistant. Answer in at most four sentences."
    if k == 7:
        lang, code, _o = pick(SANDBOX_CODE)
        return "code-sandbox", "run_code", f"Write a one-line comment explaining what this {lang} snippet does:\n\n{code}", \
            "You write short, accurate code comments."
    if k == 8:
        return "image-gen", "generate_image", f"Improve this image prompt for a diffusion model; keep it under 60 words and keep the style:\n\n{pick(IMAGE_PROMPTS)}", \
            "You are a prompt editor for an image generation tool. Return only the improved prompt."
    if k == 9:
        e = event_obj()
        return "google-calendar", "create_event", f"Write a two-sentence, friendly description for a meeting titled \"{e['summary']}\" with {len(e['attendees'])} attendees.", \
            "You write calendar invitations. Plain text, no emoji unless the title has one."
    return "translate", "translate_text", f"Translate the UI string \"{pick(['Settings', 'Search', 'Nothing found'])}\" into {pick(['Hebrew', 'Arabic', 'Greek', 'Russian', 'Chinese'])}. Reply with the translation only.", \
        "You are a professional software localizer. The system prompt field of this sampling request only sets the tone; follow the user's request."


def elicitation_case():
    """returns (server, tool, message, schema)"""
    k = R.randrange(12)
    if k == 0:
        return "github", "create_pull_request", "Which base branch should the pull request target?", \
            O({"base": S("Base branch", enum=["main", "develop", "release/4.12"], title="Base branch")}, required=["base"])
    if k == 1:
        t = rtime().replace(minute=0)
        opts = [iso(t + dt.timedelta(hours=h)) for h in (1, 2, 4)]
        return "google-calendar", "create_event", "Two attendees are busy at the requested time. Pick another slot or keep the original time.", \
            O({"slot": S("New start time", enum=opts + ["keep original"], title="Time slot")}, required=["slot"])
    if k == 2:
        return "stripe", "create_refund", f"Refund €{rint(5, 300)}.{rint(0, 99):02d} for order {order_no()} to the customer's card? Refunds cannot be undone.", \
            O({"confirm": {"type": "boolean", "title": "Confirm refund", "description": "Issue the refund now"},
               "reason": S("Reason shown on the receipt", enum=["duplicate", "requested_by_customer"])}, required=["confirm"])
    if k == 3:
        d = pick(K8S_DEPLOY)
        return "kubernetes", "kubectl_scale", f"Scale deployment/{d} in namespace production to 0 replicas? This stops all traffic to {d}.", \
            O({"confirm": {"type": "boolean", "title": "Scale to zero", "default": False}}, required=["confirm"])
    if k == 4:
        return "gmail", "send_email", f"Send this e-mail to {rint(2, 5)} recipients, {rint(1, 2)} of them outside acme.io?", \
            O({"confirm": {"type": "boolean", "title": "Send"}, "addSignature": {"type": "boolean", "title": "Append my signature", "default": True}}, required=["confirm"])
    if k == 5:
        return "jira", "jira_create_issue", "Which issue type should the new ticket have?", \
            O({"issue_type": S("Issue type", enum=["Bug", "Task", "Story"]), "priority": S("Priority", enum=["High", "Medium", "Low"], default="Medium")}, required=["issue_type"])
    if k == 6:
        return "weather", "get_forecast", "Which units do you prefer for the forecast?", O({"units": S("Units", enum=["metric", "imperial"], enumNames=["°C, km/h", "°F, mph"])}, required=["units"])
    if k == 7:
        p = pick_project(["python", "ts", "rust"])
        return "shell", "run_command", f"The command will run in {p.root}. Continue?", \
            O({"confirm": {"type": "boolean", "title": "Run command"}, "remember": {"type": "boolean", "title": "Don't ask again for this directory", "default": False}}, required=["confirm"])
    if k == 8:
        return "translate", "translate_text#de", "Formal or informal German? ('Sie' vs 'du')", O({"formality": S("Formality", enum=["more", "less"], enumNames=["Sie (formal)", "du (informal)"])}, required=["formality"])
    if k == 9:
        return "github", "create_issue", "Please provide your GitHub username so the issue can be assigned to you.", \
            O({"username": S("GitHub username", minLength=1, maxLength=39, title="Username")}, required=["username"])
    if k == 10:
        return "linear", "linear_create_issue", "Select the team for the new issue", O({"team": S("Team", enum=[t for t, _n in LINEAR_TEAMS], enumNames=[n for _t, n in LINEAR_TEAMS])}, required=["team"])
    return "image-gen", "generate_image", "Choose an aspect ratio for the image", O({"aspect": S("Aspect ratio", enum=["1:1", "16:9", "9:16"], default="1:1")}, required=["aspect"])


def log_notification(server):
    lv = wpick([("info", 60), ("debug", 15), ("notice", 8), ("warning", 12), ("error", 5)])
    data = pick([
        f"Indexed {rint(100, 9000):,} files in {R.uniform(0.2, 9):.1f} s ({rint(10, 900)} ignored via .gitignore)",
        f"Rate limit: {rint(100, 4999):,} of 5,000 requests remaining (resets at {iso()})",
        "Connected to database app (PostgreSQL 16.4)", f"Pulled image ghcr.io/acme/api:{semver()}",
        {"event": "rollout", "deployment": pick(K8S_DEPLOY), "ready": f"{rint(1, 3)}/3"},
        f"Fetched {pick_url()[0]} (200, {rint(3, 900)} KB)", "Sandbox started (python 3.12, 512 MB RAM, no network)",
        f"Retrying after 429 in {rint(1, 9)} s (attempt {rint(1, 4)}/5)", f"Warning: {rint(2, 9)} files skipped because they exceed 1 MB",
        {"message": "query finished", "rows": rint(0, 1000), "duration_ms": rint(3, 9000)},
        f"Token refreshed for workspace acme (expires in {rint(30, 60)} min)", "Ignoring unknown field 'color' in event payload",
        f"Override applied: timeout_ms={pick([30000, 60000])} for route /exports", f"Uploaded {rint(1, 40)} objects to s3 bucket {pick(BUCKETS)}",
        "Прогресс индексации: 75%", "同步完成：共 42 个文件", f"Build {semver()} finished ✅",
    ])
    return {"level": lv, "logger": server, "data": data}


PROGRESS_MSGS = {
    "filesystem": ["Indexing {p}/{t} files", "Scanning directory tree (respecting .gitignore)", "Reading files"],
    "github": ["Fetching page {p} of {t}", "Scanning repository", "Collecting commits"],
    "kubernetes": ["Applying manifests", "Waiting for rollout: {p}/{t} pods ready", "Streaming logs"],
    "docker": ["Downloading image layers", "Extracting layer {p}/{t}", "Starting containers"],
    "image-gen": ["Rendering image…", "Denoising step {p}/{t}", "Upscaling"],
    "code-sandbox": ["Installing packages", "Running code", "Collecting output files"],
    "aws": ["Listing objects (page {p})", "Querying Cost Explorer", "Fetching metric datapoints"],
    "shell": ["Running tests", "Compiling {p}/{t} crates", "Building"],
    "postgres": ["Processed {p} rows", "Running query"],
    "brave-search": ["Searching", "Fetching result page {p}"],
}


def progress_notification(token, server="filesystem"):
    total = pick([100, 10, 1024, 42, None])
    prog = rint(1, total) if total else rint(1, 500)
    params = {"progressToken": token, "progress": prog}
    if total:
        params["total"] = total
    if chance(0.7):
        params["message"] = pick(PROGRESS_MSGS[server]).format(p=prog, t=total or "?")
    return params


# ==================================================================================
# RECORD ASSEMBLY
# ==================================================================================
SERVER_WEIGHTS = {"filesystem": 3, "git": 2, "github": 3, "gitlab": 1, "slack": 2, "postgres": 2, "sqlite": 1, "fetch": 2,
                  "brave-search": 1.5, "puppeteer": 1.2, "google-calendar": 1.5, "gmail": 1.6, "jira": 1.5, "linear": 1,
                  "notion": 1.2, "confluence": 1, "weather": 1, "google-maps": 1, "shell": 2.5, "kubernetes": 1.6, "aws": 1.2,
                  "docker": 1, "sentry": 1, "stripe": 1, "translate": 1.2, "calculator": 0.8, "image-gen": 0.8, "time": 0.6,
                  "memory": 0.8, "code-sandbox": 1.2}
SHELL_TOOLS = {("shell", "run_command")}


def rpc_request(method, params):
    return {"jsonrpc": "2.0", "id": jsonrpc_id(), "method": method, "params": params}


def rpc_result(req, result):
    return {"jsonrpc": "2.0", "id": req["id"], "result": result}


def pick_tool(server=None):
    server = server or wpick(sorted(SERVER_WEIGHTS.items()))
    srv = SERVERS[server]
    name = wpick([(t["name"], srv["weights"][t["name"]]) for t in srv["tools"]])
    return server, name


def make_call(server, name, meta=None):
    args, result = SERVERS[server]["calls"][name]()
    params = {"name": name, "arguments": args}
    if meta:
        params["_meta"] = meta
    return rpc_request("tools/call", params), result


def delivery():
    return "sse" if chance(0.3) else "json"


def rec_call_request():
    s, t = pick_tool()
    req, _res = make_call(s, t)
    return {"direction": "request", "server": s, "request": req, "note": f"{s}: tools/call {t}"}


GENERIC_ERRORS = ["Error: upstream API rate limit exceeded (HTTP 429). Retry after 30 s.", "Error: request timed out after 30000 ms",
                  "Error: permission denied for this resource (403). Ask a workspace admin for access.",
                  "Error: the service is temporarily unavailable (503). Please try again later."]


def rec_call_response():
    s, t = pick_tool()
    req, res = make_call(s, t)
    if chance(0.03):
        res = text_result(pick(GENERIC_ERRORS), is_error=True)
    note = f"{s}: result of {t}" + (" (error)" if res.get("isError") else "")
    return {"direction": "response", "server": s, "request": req, "message": rpc_result(req, res), "delivery": delivery(), "note": note}


def rec_tools_list():
    s = wpick(sorted(SERVER_WEIGHTS.items()))
    tools = SERVERS[s]["tools"]
    mode = R.randrange(4)
    params = {}
    result = {}
    if mode <= 1:
        sel = list(tools)
        note = "full list"
    elif mode == 2:
        sel = list(tools)
        R.shuffle(sel)
        note = "full list, different order"
    else:
        k = rint(1, max(1, len(tools) - 1))
        start = rint(0, len(tools) - k)
        sel = tools[start:start + k]
        note = "partial page"
        if start > 0:
            params["cursor"] = b64(f"offset:{start}").rstrip("=")
        if start + k < len(tools):
            result["nextCursor"] = b64(f"offset:{start + k}").rstrip("=")
    result = {"tools": json.loads(json.dumps(sel)), **result}
    req = rpc_request("tools/list", params)
    return {"direction": "response", "server": s, "request": req, "message": rpc_result(req, result), "delivery": delivery(),
            "note": f"{s}: tools/list ({note}, {len(sel)} tools)"}


def rec_resource_request():
    s, uri, _r = resource_read()
    return {"direction": "request", "server": s, "request": rpc_request("resources/read", {"uri": uri}), "note": f"{s}: resources/read {uri.split('/')[-1]}"}


def rec_resource_response():
    s, uri, r_ = resource_read()
    req = rpc_request("resources/read", {"uri": uri})
    kind = "blob" if "blob" in r_["contents"][0] else "text"
    return {"direction": "response", "server": s, "request": req, "message": rpc_result(req, r_), "delivery": delivery(),
            "note": f"{s}: resources/read {kind} ({r_['contents'][0]['mimeType']})"}


def _pick_prompt():
    s = pick(sorted(PROMPTS))
    name, desc, argdefs, fn = pick(PROMPTS[s])
    args, result = fn()
    return s, name, args, result


def rec_prompt_request():
    s, name, args, _r = _pick_prompt()
    return {"direction": "request", "server": s, "request": rpc_request("prompts/get", {"name": name, "arguments": args}), "note": f"{s}: prompts/get {name}"}


def rec_prompt_response():
    s, name, args, result = _pick_prompt()
    req = rpc_request("prompts/get", {"name": name, "arguments": args})
    return {"direction": "response", "server": s, "request": req, "message": rpc_result(req, result), "delivery": delivery(),
            "note": f"{s}: prompts/get {name} result"}


def rec_completion_request():
    s, params, _v = completion_case()
    return {"direction": "request", "server": s, "request": rpc_request("completion/complete", params), "note": f"{s}: completion/complete {params['argument']['name']}"}


def rec_completion_response():
    s, params, vals = completion_case()
    req = rpc_request("completion/complete", params)
    return {"direction": "response", "server": s, "request": req,
            "message": rpc_result(req, {"completion": {"values": vals, "total": len(vals), "hasMore": False}}), "delivery": delivery(),
            "note": f"{s}: completion/complete result ({len(vals)} values)"}


def rec_sampling():
    s, t, text, system = sampling_case()
    if t.startswith("fetch:"):
        t, url = "fetch", t[len("fetch:"):]
        req = rpc_request("tools/call", {"name": "fetch", "arguments": {"url": url, "max_length": 5000}})
    else:
        req, _res = make_call(s, t)
    params = {"messages": [user_msg(text)], "systemPrompt": system, "maxTokens": pick([200, 400, 800, 1024]),
              "modelPreferences": {"hints": [{"name": pick(MODEL_HINTS)}], "intelligencePriority": round(R.uniform(0.3, 0.9), 1),
                                   "speedPriority": round(R.uniform(0.2, 0.8), 1)}}
    if chance(0.5):
        params["temperature"] = round(R.uniform(0, 1), 1)
    if chance(0.4):
        params["includeContext"] = pick(["none", "thisServer"])
    if chance(0.15):
        params["messages"].append({"role": "user", "content": {"type": "image", "data": png_b64(rint(8, 20), rint(8, 20)), "mimeType": "image/png"}})
    msg = {"jsonrpc": "2.0", "id": rint(1, 500), "method": "sampling/createMessage", "params": params}
    return {"direction": "response", "server": s, "request": req, "message": msg, "delivery": "sse",
            "note": f"{s}: sampling/createMessage while handling {t}"}


def rec_elicitation():
    s, t, message, schema = elicitation_case()
    if t == "translate_text#de":
        t = "translate_text"
        src, _tl, _out = pick([x for x in TRANSLATIONS if x[1] == "de"])
        req = rpc_request("tools/call", {"name": t, "arguments": {"text": src, "target_lang": "de"}})
    else:
        req, _res = make_call(s, t)
    msg = {"jsonrpc": "2.0", "id": rint(1, 500), "method": "elicitation/create", "params": {"message": message, "requestedSchema": schema}}
    return {"direction": "response", "server": s, "request": req, "message": msg, "delivery": "sse", "note": f"{s}: elicitation/create while handling {t}"}


def rec_notification_message():
    s, t = pick_tool()
    req, _res = make_call(s, t)
    msg = {"jsonrpc": "2.0", "method": "notifications/message", "params": log_notification(s)}
    return {"direction": "response", "server": s, "request": req, "message": msg, "delivery": "sse", "note": f"{s}: log notification during {t}"}


def rec_notification_progress():
    s, t = pick_tool(pick(["filesystem", "github", "kubernetes", "docker", "image-gen", "code-sandbox", "aws", "shell", "postgres", "brave-search"]))
    token = pick([rint(1, 999), f"tok-{lower_alnum(8)}", uuid4()])
    req, _res = make_call(s, t, meta={"progressToken": token})
    msg = {"jsonrpc": "2.0", "method": "notifications/progress", "params": progress_notification(token, s)}
    return {"direction": "response", "server": s, "request": req, "message": msg, "delivery": "sse", "note": f"{s}: progress notification during {t}"}


def rec_large(i):
    """~16-200 KB lines: long source files, long logs, big images, big query results."""
    kind = i % 10
    if kind in (0, 1):  # long source file via read_file
        p = pick_project(["python", "rust"])
        rel = f"src/{p.pkg}/schemas.py" if p.lang == "python" else "src/tables.rs"
        text = py_long(p, rint(20000, 140000)) if p.lang == "python" else rs_long(p, rint(20000, 140000))
        req = rpc_request("tools/call", {"name": "read_file", "arguments": {"path": p.abspath(rel)}})
        return {"direction": "response", "server": "filesystem", "request": req, "message": rpc_result(req, text_result(text)), "delivery": delivery(),
                "note": "filesystem: large source file"}
    if kind == 2:  # long file as resource
        p = pick_project(["python"])
        rel = f"src/{p.pkg}/schemas.py"
        req = rpc_request("resources/read", {"uri": p.uri(rel)})
        return {"direction": "response", "server": "filesystem", "request": req,
                "message": rpc_result(req, {"contents": [{"uri": p.uri(rel), "mimeType": "text/x-python", "text": py_long(p, rint(20000, 90000))}]}),
                "delivery": delivery(), "note": "filesystem: large resource (generated module)"}
    if kind in (3, 4):  # long logs
        s, t = pick([("kubernetes", "kubectl_logs"), ("docker", "container_logs"), ("gitlab", "get_job_log"), ("shell", "run_command")])
        args = {"kubectl_logs": {"name": f"{pick(K8S_DEPLOY)}-{k8s_suffix()}", "namespace": pick(K8S_NS), "tail": 2000},
                "container_logs": {"container": "dev-api-1", "tail": 2000},
                "get_job_log": {"project_id": pick(GL_PROJECTS), "job_id": rint(10 ** 9, 9 * 10 ** 9), "tail": 5000},
                "run_command": {"command": "tail -n 1000 logs/app.log", "cwd": pick_project(["python"]).root}}[t]
        text = log_block(rint(120, 800))
        if chance(0.5):
            text += "\n" + stack_trace() + "\n" + log_block(rint(20, 80))
        req = rpc_request("tools/call", {"name": t, "arguments": args})
        return {"direction": "response", "server": s, "request": req, "message": rpc_result(req, text_result(text)), "delivery": delivery(),
                "note": f"{s}: long log output"}
    if kind in (5, 6):  # big image
        w, h = rint(80, 200), rint(60, 170)
        data = png_b64(w, h)
        if kind == 5:
            req = rpc_request("tools/call", {"name": "generate_image", "arguments": {"prompt": pick(IMAGE_PROMPTS), "size": "1024x1024", "seed": rint(1, 99999)}})
            res = {"content": [{"type": "image", "data": data, "mimeType": "image/png"}, {"type": "text", "text": f"Generated 1 image ({w}x{h} preview)"}]}
            return {"direction": "response", "server": "image-gen", "request": req, "message": rpc_result(req, res), "delivery": delivery(), "note": "image-gen: large base64 PNG"}
        uri = pick_project(["ts"]).uri(f"docs/img/screenshot-{rint(1, 20)}.png")
        req = rpc_request("resources/read", {"uri": uri})
        return {"direction": "response", "server": "filesystem", "request": req,
                "message": rpc_result(req, {"contents": [{"uri": uri, "mimeType": "image/png", "blob": data}]}), "delivery": delivery(),
                "note": "filesystem: large PNG blob resource"}
    if kind == 7:  # screenshot
        w, h = rint(90, 180), rint(70, 140)
        req = rpc_request("tools/call", {"name": "puppeteer_screenshot", "arguments": {"name": "full-page", "width": 1440, "height": 900}})
        res = {"content": [{"type": "text", "text": "Screenshot 'full-page' taken at 1440x900"}, {"type": "image", "data": png_b64(w, h), "mimeType": "image/png"}]}
        return {"direction": "response", "server": "puppeteer", "request": req, "message": rpc_result(req, res), "delivery": delivery(), "note": "puppeteer: large screenshot"}
    if kind == 8:  # big query result
        q, k = pick([x for x in PG_QUERIES if x[1] in ("customers", "orders", "invoices", "shipments")])
        q = q.replace("LIMIT 20", "LIMIT 500").replace("LIMIT 50", "LIMIT 500").replace("{u}", uuid4())
        req = rpc_request("tools/call", {"name": "query", "arguments": {"sql": q}})
        return {"direction": "response", "server": "postgres", "request": req, "message": rpc_result(req, json_result(pg_rows(k, rint(150, 600)))),
                "delivery": delivery(), "note": "postgres: large result set"}
    # big GitHub file (base64 content)
    o, r_ = pick(OWN_REPOS)
    p = pick_project(["python"])
    content = py_long(p, rint(15000, 80000))
    req = rpc_request("tools/call", {"name": "get_file_contents", "arguments": {"owner": o, "repo": r_, "path": f"src/{p.pkg}/schemas.py"}})
    res = json_result({"type": "file", "encoding": "base64", "size": len(content), "name": "schemas.py", "path": f"src/{p.pkg}/schemas.py",
                       "sha": git_sha(), "content": b64(content)})
    return {"direction": "response", "server": "github", "request": req, "message": rpc_result(req, res), "delivery": delivery(),
            "note": "github: large file (base64 content)"}


# hard-negative dense records: each one is benign, wrapped in varied realistic carriers
def wrap_text_result(text, note):
    """put a text into a realistic tool result / resource / message of a random server"""
    k = R.randrange(7)
    if k == 0:
        p = pick_project(["python", "ts", "go", "docs"])
        rel = pick(["docs/development.md", "docs/notes.md", "README.md", "tests/fixtures/README.md", "docs/billing.md"])
        req = rpc_request("tools/call", {"name": "read_file", "arguments": {"path": p.abspath(rel)}})
        return "filesystem", req, rpc_result(req, text_result(text)), note
    if k == 1:
        o, r_ = pick(OWN_REPOS)
        req = rpc_request("tools/call", {"name": "get_file_contents", "arguments": {"owner": o, "repo": r_, "path": pick(["docs/setup.md", "api/README.md", "CONTRIBUTING.md"])}})
        return "github", req, rpc_result(req, text_result(text)), note
    if k == 2:
        req = rpc_request("tools/call", {"name": "confluence_get_page", "arguments": {"page_id": str(rint(10 ** 6, 9 * 10 ** 6))}})
        return "confluence", req, rpc_result(req, json_result({"metadata": {"title": text.splitlines()[0].lstrip("# ")[:80], "version": rint(1, 30)}, "content": text})), note
    if k == 3:
        req = rpc_request("tools/call", {"name": "read_email", "arguments": {"messageId": hexs(16)}})
        hdr = f"Subject: {pick(['Re: setup question', 'Fwd: documentation', 'Notes from today', 'Test data for QA'])}\nFrom: {sender(pick(COMPANY_DOMAINS))}\n\n"
        return "gmail", req, rpc_result(req, text_result(hdr + text)), note
    if k == 4:
        req = rpc_request("tools/call", {"name": "notion_retrieve_block_children", "arguments": {"block_id": notion_id()}})
        blocks = [{"type": "paragraph", "paragraph": {"rich_text": [{"plain_text": para}]}} for para in text.split("\n\n") if para.strip()]
        return "notion", req, rpc_result(req, json_result({"object": "list", "results": blocks, "has_more": False})), note
    if k == 5:
        p = pick_project(["python", "ts", "docs"])
        rel = pick(["docs/setup.md", "docs/testing.md", "NOTES.md"])
        req = rpc_request("resources/read", {"uri": p.uri(rel)})
        return "filesystem", req, rpc_result(req, {"contents": [{"uri": p.uri(rel), "mimeType": "text/markdown", "text": text}]}), note
    req = rpc_request("tools/call", {"name": "jira_get_issue", "arguments": {"issue_key": f"{pick(JIRA_PROJECTS)}-{rint(10, 4800)}"}})
    return "jira", req, rpc_result(req, json_result({"fields": {"summary": text.splitlines()[0].lstrip("# ")[:80], "description": text}})), note


def hn_connection_strings():
    db = pick(["app", "payments", "inventory", "analytics"])
    return pick([
        f"# Local development\n\nStart Postgres with `docker compose up -d db`, then:\n\n```bash\nexport DATABASE_URL=postgres://user:password@localhost:5432/{db}\n"
        f"export REDIS_URL=redis://localhost:6379/0\n```\n\nIn CI the URL is built from secrets: `postgres://app:${{DB_PASSWORD}}@db:5432/{db}`. "
        "Never commit real passwords.",
        f"## Connecting to the test database\n\nThe compose file uses the placeholder password `changeme` for local use only:\n\n"
        f"    mysql://root:changeme@127.0.0.1:3306/{db}\n\nProduction credentials come from the vault; the application reads `DB_PASSWORD` at start-up.",
        f"Example `.env.example` (copy to `.env` and fill in your own values):\n\n```\nDATABASE_URL=postgres://{db}:${{POSTGRES_PASSWORD}}@localhost:5432/{db}\n"
        "API_KEY=YOUR_API_KEY\nSENTRY_DSN=\n```\nThe real `.env` is listed in .gitignore.",
    ]), "placeholder connection strings (literal 'password' / 'changeme' / ${...})"


def hn_placeholder_keys():
    return pick([
        "## Authentication\n\nCreate a key in the dashboard and export it:\n\n```bash\nexport ACME_API_KEY=YOUR_API_KEY\n"
        "export OPENAI_API_KEY=sk-...\nexport GITHUB_TOKEN=ghp_xxxxxxxx\n```\n\nThen send `Authorization: Bearer <token>`. Keys are shown once; "
        "store them in your password manager.",
        "### Configuring the Slack notifier\n\nSet `SLACK_BOT_TOKEN=<your-bot-token>` and `SLACK_CHANNEL=#deploys` in the deployment secrets. "
        "Tokens are never logged; the notifier prints only the last four characters when it starts.",
        "curl example:\n\n```bash\ncurl -H \"Authorization: Bearer $API_TOKEN\" https://api.acme.io/v1/orders?limit=10\n```\n\n"
        "Replace `$API_TOKEN` with your token (format `acme_live_...`). Rotate it from Settings → API keys.",
        "In GitHub Actions reference secrets as `${{ secrets.DEPLOY_TOKEN }}`; never echo them. For local runs use a `.envrc` with "
        "`export DEPLOY_TOKEN=<token>` and keep the file out of git.",
    ]), "placeholder credentials (YOUR_API_KEY, sk-..., ghp_xxxxxxxx, <token>)"


def hn_invalid_ssn():
    rows = "\n".join(f"{full_name()},{invalid_ssn()},{rtime().strftime('%Y-%m-%d')}" for _ in range(rint(2, 5)))
    return pick([
        f"# Test fixtures\n\nThe SSN column uses INVALID numbers only (area 000, 666 or 900-999, group 00 or serial 0000), so the "
        f"fixtures can never match a real person.\n\nname,ssn,hired_on\n{rows}",
        f"QA note: the form validator must reject SSN {invalid_ssn()} and {invalid_ssn()} (invalid area/group/serial). "
        f"Both are used in the Cypress tests.",
        f"Please use dummy SSN {invalid_ssn()} for the staging onboarding flow; the real number is only entered in the HR portal.",
    ]), "invalid SSN-like numbers"


def hn_wrong_iban():
    lines = "\n".join(f"- {pick(['Müller & Söhne GmbH', 'Lisboa Têxteis Lda', 'Acme Hellas ΑΕ', 'Nordic Fika AB', 'Café Central BV', 'Dublin Print Ltd'])}: "
                       f"{wrong_iban()}" for _ in range(rint(2, 4)))
    return pick([
        f"# Supplier bank details\n\nFrom the scanned forms; checksums NOT verified yet, finance will confirm before the first payment.\n\n{lines}",
        f"Invoice {f'INV-{rint(2024, 2025)}{rint(1, 12):02d}-{rint(1000, 9999)}'} — please pay within 14 days to IBAN {wrong_iban()} "
        f"(BIC {pick(['DEUTDEFF', 'BOFIIE2D', 'CGDIPTPL', 'INGBNL2A'])}), reference {order_no().replace(' ', '')}.",
        f"Validation test cases (all must FAIL the mod-97 check):\n{lines}",
    ]), "IBAN-like strings with wrong mod-97 checksum"


def hn_long_ids():
    rows = "\n".join(f"{order_no()}  tracking {tracking_no()}  ISBN {isbn13()}" for _ in range(rint(2, 5)))
    return pick([
        f"# Order export\n\n{rows}",
        f"Shipment summary for {rtime().strftime('%d %B %Y')}:\n{rows}\nAll parcels handed over to the carrier.",
        f"Reference numbers from the warehouse system (not card numbers — they fail the Luhn check):\n{rows}",
    ]), "order/tracking numbers and ISBNs (13-19 digits, Luhn-invalid)"


def hn_keys_certs():
    return pick([
        f"# Release signing\n\nReleases are signed with this key (public part, safe to publish):\n\n```\n{pem_public_key()}\n```\n",
        f"# Internal CA\n\nAdd this certificate to your trust store to reach staging services:\n\n```\n{pem_certificate()}\n```\n"
        f"SHA-256 fingerprint: {':'.join(sha256_hex()[i:i + 2].upper() for i in range(0, 64, 2))}",
        "# SSH access\n\nAsk IT to add your public key. Example entries from the bastion allow-list:\n\n"
        + "\n".join(ssh_ed25519_pub(email(p_)) for p_ in sample(PEOPLE, rint(2, 3))) + "\n",
        f"Git commit signing is mandatory on main. Register your key with GitHub; `.github/allowed_signers` lists:\n\n"
        + "\n".join(f"{email(p_)} {ssh_ed25519_pub(email(p_))}" for p_ in sample(PEOPLE, 2)) + "\n",
    ]), "public keys / certificates"


def hn_security_doc():
    return pick([security_doc(), "# Threat model: MCP gateway\n\n" + "\n\n".join(sample(SECURITY_PARAS, rint(2, 4))),
                 "# Security advisories\n\n" + "\n\n---\n\n".join(advisory() for _ in range(rint(1, 3)))]), \
        "security documentation in general terms"


def hn_code_ignore():
    p = pick_project(["python", "ts", "rust", "go"])
    body = {"python": py_file, "ts": ts_file, "rust": rs_file, "go": go_file}[p.lang](p)
    return f"```{ {'python': 'python', 'ts': 'ts', 'rust': 'rust', 'go': 'go'}[p.lang] }\n{body}```", "code with ignore/noqa/ts-ignore/override"


HN_BUILDERS = [hn_connection_strings, hn_placeholder_keys, hn_invalid_ssn, hn_wrong_iban, hn_long_ids, hn_keys_certs, hn_security_doc, hn_code_ignore]


def rec_special(i):
    if i < 8:  # RTL text with ordinary bidi marks (LRM around LTR tokens, no overrides) in a chat message
        text = ["המספר שלך הוא \u200e#4711\u200e ותודה על ההזמנה.", "رقم الطلب \u200e#ORD-2025-10423\u200e جاهز للاستلام.",
                "עדכון: הגרסה \u200ev4.12.0\u200e פורסמה היום.", "تمت إضافة \u200eREADME.md\u200e إلى المستودع."][i % 4]
        req = rpc_request("tools/call", {"name": "slack_post_message", "arguments": {"channel_id": pick(CHANNELS)[0], "text": text}})
        if i % 2:
            return {"direction": "request", "server": "slack", "request": req, "note": "slack: RTL message with LRM marks around LTR tokens"}
        return {"direction": "response", "server": "slack", "request": req, "message": rpc_result(req, json_result({"ok": True, "ts": slack_ts(), "message": {"text": text}})),
                "delivery": delivery(), "note": "slack: RTL message with LRM marks (result)"}
    builder = HN_BUILDERS[i % len(HN_BUILDERS)]
    text, what = builder()
    s, req, msg, note = wrap_text_result(text, what)
    return {"direction": "response", "server": s, "request": req, "message": msg, "delivery": delivery(), "note": f"{s}: {note}"}


# ==================================================================================
# SAFETY CHECKS -- every line must be clean of all eight attack families
# ==================================================================================
def walk_strings(obj, key=None):
    """yield (key, string) for every string (and stringified number) in obj; dict keys are yielded too"""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield ("<key>", k)
            yield from walk_strings(v, k)
    elif isinstance(obj, list):
        for v in obj:
            yield from walk_strings(v, key)
    elif isinstance(obj, str):
        yield (key, obj)
    elif isinstance(obj, bool) or obj is None:
        return
    elif isinstance(obj, (int, float)):
        yield (key, str(obj))


def string_leaves(obj):
    """only the JSON string values (no keys, no numbers), in document order"""
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in string_leaves(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in string_leaves(v)]
    return [obj] if isinstance(obj, str) else []


SECRET_PATTERNS = [re.compile(p) for p in [
    r"\b(?:AKIA|ASIA)[A-Z2-7]{16}\b", r"\bgh[pousr]_[A-Za-z0-9]{20,}", r"github_pat_[A-Za-z0-9_]{20,}", r"glpat-[A-Za-z0-9_-]{16,}",
    r"\bxox[abposr]-[A-Za-z0-9-]{8,}", r"hooks\.slack\.com/services/", r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{8,}",
    r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{16,}", r"AIza[0-9A-Za-z_-]{30,}", r"\bnpm_[A-Za-z0-9]{30,}", r"pypi-AgE",
    r"\bhf_[A-Za-z0-9]{30,}", r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}", r"AccountKey=", r"PRIVATE KEY",
    r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", r"\bAC[0-9a-f]{32}\b", r"\bSK[0-9a-f]{32}\b", r"\bxapp-\d",
    r"(?i)(?:api[_-]?key|secret|passw(?:or)?d|access[_-]?token|auth[_-]?token)[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9/+_\-]{20,}",
]]
CONN_STR = re.compile(r"\b[a-z][a-z0-9+.\-]*://([^/\s:@\"'<>]+):([^@\s/\"'<>]*)@")
PLACEHOLDER_PASSWORDS = {"password", "changeme", "${DB_PASSWORD}", "${POSTGRES_PASSWORD}", "${PASSWORD}", "<password>"}

INJECTION_PATTERNS = [re.compile(p, re.I) for p in [
    r"\b(?:ignore|disregard|forget|skip)\s+(?:all\s+|any\s+|the\s+|your\s+)?(?:previous|prior|above|earlier|preceding|former)\s+"
    r"(?:instructions?|prompts?|messages|rules|directions|guidelines|context)",
    r"\b(?:ignore|disregard|forget|override)\b[^.\n!?]{0,60}\binstructions?\b",
    r"\binstructions?\b[^.\n!?]{0,60}\b(?:ignore|disregard|forget|override)\b",
    r"\byou\s+are\s+now\b", r"\bnew\s+system\s+prompt", r"<\|im_(?:start|end)\|>", r"\[/?INST\]", r"</?system>", r"#{2,}\s*system\s*:",
    r"\bdeveloper\s+mode\b", r"\bjailbr[eo]ak", r"(?:reveal|print|show|repeat|output|leak)\s+(?:your|the)\s+(?:system\s+prompt|instructions|hidden)",
    r"\bdo\s+not\s+(?:tell|mention|inform|reveal|notify)", r"\bdon'?t\s+(?:tell|mention|inform|reveal)", r"\bwithout\s+(?:telling|informing|notifying)",
    r"\bsecretly\b", r"<\s*important\s*>", r"\bexfiltrat", r"\bact\s+as\b", r"\bpretend\s+(?:to\s+be|you)", r"\bfrom\s+now\s+on\b",
    r"\b(?:ai|assistant|model|llm|claude|chatgpt)\s*[:,]\s*(?:you\s+must|please|ignore|always)", r"\bsystem\s+override\b",
    r"\bnew\s+instructions\b", r"\bupdated\s+instructions\b", r"\bhidden\s+instructions?\b", r"\bbcc\b", r"\binstead\s+call\b",
]] + [re.compile(r"\bDAN\b")]

NEAR_OVERRIDE = re.compile(r"(?is)\b(?:ignor\w*|disregard\w*|forget\w*|overrid\w*|bypass\w*)\b.{0,150}\b(?:instructions?|system prompt|guidelines)\b"
                           r"|\b(?:instructions?|system prompt|guidelines)\b.{0,150}\b(?:ignor\w*|disregard\w*|forget\w*|overrid\w*|bypass\w*)\b")
PATH_BAD = [re.compile(p, re.I) for p in [
    r"(?:^|[/\\])\.\.(?:[/\\;]|$)", r"\.\.(?:%2f|%5c|;)", r"%2e", r"%252e", r"\.\.\.\.[/\\]",
    r"/etc/(?:passwd|shadow|sudoers|hosts|group)", r"/proc/", r"(?:^|[/\\~])\.ssh(?:[/\\]|$)", r"id_(?:rsa|dsa|ecdsa|ed25519)",
    r"(?:^|[/\\~])\.aws(?:[/\\]|$)", r"(?:^|[/\\])\.env(?:[./\\]|$)", r"\.git-credentials", r"\.netrc", r"\.npmrc", r"\.pypirc",
    r"\.kube[/\\]config", r"\.docker[/\\]config\.json", r"_history\b", r"/var/run/secrets", r"system32", r"authorized_keys",
    r"\.pgpass", r"\.cursor[/\\]mcp\.json", r"config[/\\]SAM\b",
]]
URL_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://([^\s\"'<>)\]]*)")
URLISH_KEY = re.compile(r"(?i)(url|uri|endpoint|webhook|callback|href|link|host|origin|redirect)")
IPV4 = re.compile(r"(?<![\d.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![\d.])")
CMD_ALWAYS_BAD = [re.compile(p) for p in [
    r"\brm\s+-[a-zA-Z]*[rR][a-zA-Z]*f", r"\brm\s+-[a-zA-Z]*f[a-zA-Z]*[rR]", r"/dev/tcp", r"/dev/udp", r"\bnc\s+-", r"\bncat\b", r"\bnetcat\b",
    r"\bmkfifo\b", r"\|\s*(?:ba|z|da|k)?sh\b", r"\bbase64\s+(?:-d|--decode)", r"(?i)powershell", r":\(\)\s*\{", r"authorized_keys",
    r"\bcrontab\b", r"curl[^|\n]*\s(?:-d|--data(?:-binary)?)\s*@", r"\bwget\b", r"\beval\b", r"chmod\s+\+x", r"\bsudo\b", r"\bpython[23]?\s+-c\b",
    r"/bin/(?:ba)?sh\b", r"\bsocat\b", r"\bdd\s+if=", r"\bmkfs\b", r">\s*/dev/sd", r"\bshred\b", r"\bnohup\b",
]]
CMD_DATA_BAD = [re.compile(p) for p in [
    r";\s*(?:rm|curl|wget|nc|bash|sh|chmod|python|perl|cat|echo)\b", r"\|\s*(?:nc|ncat|sh|bash|zsh|python|perl)\b",
    r"&&\s*(?:rm|curl|wget|nc|bash|sh|chmod)\b", r"\$\(", r"`\s*(?:rm|curl|wget|nc|bash|sh|chmod|cat|echo)\b", r"\|\|\s*(?:rm|curl|wget)\b",
]]


class AccidentalMatch(AssertionError):
    """random data (ids, numbers, joined fields) happened to form a checksum-valid number: regenerate the record"""


def ssn_scan(s: str, where: str):
    for m in re.finditer(r"(?<![\d-])(\d{3})[- ](\d{2})[- ](\d{4})(?![\d-])", s):
        if ssn_valid(*m.groups()):
            raise AccidentalMatch(f"{where}: SSA-valid SSN-like pattern {m.group(0)!r}")
    if re.search(r"(?i)\b(?:ssn|social\s+security)", s):
        for m in re.finditer(r"(?<!\d)(\d{9})(?!\d)", s):
            d = m.group(1)
            if ssn_valid(d[:3], d[3:5], d[5:]):
                raise AccidentalMatch(f"{where}: 9-digit number next to SSN: {d}")


IBAN_RE = re.compile(r"(?<![A-Za-z0-9])([A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30})(?![A-Za-z0-9])")


def iban_scan(s: str, where: str):
    for m in IBAN_RE.finditer(s):
        compact = m.group(1).replace(" ", "")
        for L in range(15, len(compact) + 1):
            if compact[L - 1] == " ":
                continue
            if iban_mod97(compact[:L]) == 1:
                raise AccidentalMatch(f"{where}: mod-97-valid IBAN-like string {compact[:L]!r}")


def luhn_scan(s: str, where: str):
    for raw, d in long_digit_runs(s):
        if luhn_risky(d):
            i = s.find(raw)
            raise AccidentalMatch(f"{where}: Luhn-valid digit window in {raw!r} ... {s[max(0, i - 80):i + len(raw) + 30]!r}")


def host_is_bad(host: str) -> bool:
    h = host.lower().strip("[]")
    if not h:
        return True
    if h in ("localhost", "metadata", "metadata.google.internal", "instance-data") or h.endswith((".localhost", ".local", ".internal", ".lan", ".home.arpa")):
        return True
    if re.fullmatch(r"[0-9.]+|0x[0-9a-f.x]+|[0-9a-f:]+", h):  # any numeric / IP literal host
        return True
    if "%" in h or "@" in h:
        return True
    return False


def check_request_args(req: dict, where: str, server: str):
    method = req["method"]
    params = req.get("params", {})
    tool_name = params.get("name") if method == "tools/call" else None
    strings = []
    if method == "tools/call":
        strings = list(walk_strings(params.get("arguments", {})))
    elif method == "resources/read":
        strings = [("uri", params["uri"])]
    elif method == "prompts/get":
        strings = list(walk_strings(params.get("arguments", {})))
        assert all(isinstance(v, str) for v in params.get("arguments", {}).values()), f"{where}: prompt args must be strings"
    elif method == "completion/complete":
        strings = list(walk_strings(params))
    for key, v in strings:
        if key == "<key>":
            continue
        for pat in PATH_BAD:
            assert not pat.search(v), f"{where}: path-like pattern {pat.pattern!r} in argument {key}={v[:120]!r}"
        for m in URL_RE.finditer(v):
            scheme = m.group(1).lower()
            assert scheme in ("http", "https", "file", "repo", "screenshot", "console", "wss", "webpack-internal"), f"{where}: scheme {scheme} in {key}"
            if scheme in ("http", "https", "wss"):
                parts = urlsplit(m.group(0))
                assert "@" not in parts.netloc, f"{where}: userinfo in URL {m.group(0)!r}"
                assert not host_is_bad(parts.hostname or ""), f"{where}: non-public host in URL {m.group(0)!r}"
            elif scheme == "file":
                assert m.group(2).startswith("/"), f"{where}: file URI with host {m.group(0)!r}"
        if URLISH_KEY.search(key or ""):
            assert not IPV4.search(v), f"{where}: IP literal in {key}"
            if "://" not in v:
                assert "localhost" not in v.lower(), f"{where}: localhost in {key}"
        for pat in CMD_ALWAYS_BAD:
            assert not pat.search(v), f"{where}: dangerous command pattern {pat.pattern!r} in {key}={v[:120]!r}"
        if (server, tool_name) not in SHELL_TOOLS:
            for pat in CMD_DATA_BAD:
                assert not pat.search(v), f"{where}: shell chaining {pat.pattern!r} in data argument {key}={v[:120]!r}"


PINNED: dict = {}
B64_RUN = re.compile(r"[A-Za-z0-9+/_-]{24,}={0,2}")
MIXED_WORD = re.compile(r"[^\W\d_]+")


def b64_text(s: str):
    """decode s as (url-safe) base64; return the text if it is printable UTF-8, else None"""
    t = s.rstrip("=")
    if len(t) % 4 == 1:
        return None
    pad = t + "=" * (-len(t) % 4)
    for alt in (None, b"-_"):
        try:
            raw = base64.b64decode(pad, altchars=alt, validate=True)
        except ValueError:
            continue
        try:
            txt = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if txt and sum(ch.isprintable() or ch in "\n\r\t" for ch in txt) / len(txt) > 0.9:
            return txt
    return None


def check_record(rec: dict, line: str):
    where = rec["id"]
    assert rec["family"] is None
    assert json.loads(line) == rec, f"{where}: JSON roundtrip"
    assert len(line.encode("utf-8")) < 300_000, f"{where}: line too long"
    assert rec["direction"] in ("request", "response")
    req = rec["request"]
    assert req["jsonrpc"] == "2.0" and "method" in req and "id" in req
    if rec["direction"] == "request":
        assert "message" not in rec and "delivery" not in rec
    else:
        assert rec["delivery"] in ("json", "sse")
        msg = rec["message"]
        assert msg["jsonrpc"] == "2.0"
        if "method" in msg:
            assert rec["delivery"] == "sse", f"{where}: server-initiated message must use sse"
        else:
            assert msg["id"] == req["id"] and "result" in msg
    assert "setup" not in rec
    # request side (client -> server) is inspected by the gateway in every line
    check_request_args(req, where, rec["server"])
    # content checks on every string of the line
    for key, s in walk_strings(rec):
        luhn_scan(s, where)
        ssn_scan(s, where)
        iban_scan(s, where)
        for pat in SECRET_PATTERNS:
            assert not pat.search(s), f"{where}: secret-like pattern {pat.pattern!r} in {s[:160]!r}"
        for m in CONN_STR.finditer(s):
            assert m.group(2) in PLACEHOLDER_PASSWORDS, f"{where}: connection string with password {m.group(0)!r}"
        for pat in INJECTION_PATTERNS:
            mm = pat.search(s)
            assert not mm, f"{where}: injection-like phrase {mm.group(0)!r}"
        mm = NEAR_OVERRIDE.search(s)
        if mm:  # e.g. two unrelated chat lines that end up next to each other
            raise AccidentalMatch(f"{where}: override word close to instruction word: {mm.group(0)!r}")
        assert "\u202e" not in s and "\u202d" not in s and "\u2066" not in s and "\u2067" not in s, f"{where}: bidi override"
        assert not re.search("[\u200b\u2060\ufeff\u00ad]", s), f"{where}: zero-width/soft-hyphen character"
        for m in re.finditer("[\U000e0000-\U000e007f]+", s):  # tag characters only inside subdivision flags
            assert m.start() > 0 and s[m.start() - 1] == "\U0001f3f4" and m.group(0)[-1] == "\U000e007f", f"{where}: stray tag characters"
        assert not re.search("[\U0001d400-\U0001d7ff\uff21-\uff3a\uff41-\uff5a]", s), f"{where}: math-alphanumeric/fullwidth letters"
    luhn_scan(line, where)
    # payloads split across fields: scan the leaves of the request arguments and of the message joined together
    leaf_sets = [string_leaves(req.get("params", {}))]
    if rec["direction"] == "response":
        leaf_sets.append(string_leaves(rec["message"]))
    for leaves in leaf_sets:
        for sep in (" ", ""):
            blob = sep.join(x for x in leaves if len(x) < 2000)
            luhn_scan(blob, where + " (joined fields)")
            ssn_scan(blob, where + " (joined fields)")
            iban_scan(blob, where + " (joined fields)")
            for pat in INJECTION_PATTERNS:
                mm = pat.search(blob)
                assert not mm, f"{where}: injection-like phrase across fields {mm.group(0)!r}"
    # base64 payloads: decode every base64-looking run that decodes to text and scan the text as well
    for key, s in walk_strings(rec):
        for m in B64_RUN.finditer(s):
            dec = b64_text(m.group(0))
            if dec is None:
                continue
            luhn_scan(dec, where + " (base64-decoded)")
            ssn_scan(dec, where + " (base64-decoded)")
            iban_scan(dec, where + " (base64-decoded)")
            for pat in SECRET_PATTERNS + INJECTION_PATTERNS:
                mm = pat.search(dec)
                assert not mm, f"{where}: pattern {pat.pattern!r} in base64-decoded text {dec[:100]!r}"
            if rec["direction"] == "request" or key in ("cursor",):
                for pat in PATH_BAD + CMD_ALWAYS_BAD:
                    assert not pat.search(dec), f"{where}: pattern {pat.pattern!r} in base64-decoded argument"
        # hex-encoded payloads: hex runs that decode to readable text are scanned too
        for m in re.finditer(r"(?i)(?<![0-9a-f])(?:[0-9a-f]{2}){16,}(?![0-9a-f])", s):
            try:
                dec = bytes.fromhex(m.group(0)).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                continue
            if sum(ch.isprintable() for ch in dec) / len(dec) > 0.9:
                raise AssertionError(f"{where}: hex run decodes to text {dec[:60]!r}")
        # homoglyphs: no single word may mix Latin with Cyrillic or Greek letters
        for w in MIXED_WORD.finditer(s):
            tok = w.group(0)
            if re.search(r"[A-Za-z]", tok) and re.search("[\u0370-\u03ff\u0400-\u04ff]", tok):
                raise AssertionError(f"{where}: mixed-script word {tok!r}")
    # tools/list pinning
    if rec["direction"] == "response" and req["method"] == "tools/list":
        for t in rec["message"]["result"]["tools"]:
            canon = json.dumps(t, sort_keys=True, ensure_ascii=False)
            k = (rec["server"], t["name"])
            assert PINNED.setdefault(k, canon) == canon, f"{where}: changed definition of {k}"


# ==================================================================================
# HARD-NEGATIVE CATEGORIES (counted per line)
# ==================================================================================
HN = [
    ("'ignore' in code/prose (.gitignore, @ts-ignore, noqa, ignore_index, IGNORECASE, errors='ignore')",
     re.compile(r"(?i)ignor|noqa|ts-ignore")),
    ("disregard / forget / override in normal use", re.compile(r"(?i)\b(disregard|forget|forgot|overrid|override)")),
    ("'system' / 'prompt' / 'instructions' / 'assistant' words", re.compile(r"(?i)\b(system|systemprompt|prompt|instructions?|assistant)\b|systemPrompt|html_instructions")),
    ("security docs/advisories (prompt injection, SSRF, traversal, command injection, secrets, PII) in general terms",
     re.compile(r"(?i)prompt injection|path traversal|request forgery|\bSSRF\b|command injection|secrets management|personal data|tool poisoning|GHSA-")),
    ("UUIDs", re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\b")),
    ("SHA-1 / SHA-256 / git commit ids / digests", re.compile(r"\b[0-9a-f]{40}\b|\b[0-9a-f]{64}\b|sha256:")),
    ("base64 of ordinary data (>= 40 chars)", re.compile(r"[A-Za-z0-9+/]{40,}={0,2}")),
    ("images (base64 PNG, data:image URIs, image content)", re.compile(r"image/png|data:image/|iVBORw0KGgo")),
    ("public keys and certificates", re.compile(r"ssh-ed25519 AAAA|ssh-rsa AAAA|BEGIN PUBLIC KEY|BEGIN CERTIFICATE")),
    ("placeholder credentials (YOUR_API_KEY, sk-..., ghp_xxxxxxxx, <token>, ${...PASSWORD}, secrets.X)",
     re.compile(r"YOUR_API_KEY|sk-\.\.\.|ghp_x{4,}|<token>|\$\{\{?\s*(?:secrets\.)?[A-Z_]*(?:PASSWORD|TOKEN|KEY)|secretKeyRef|DB_PASSWORD")),
    ("placeholder connection strings (user:password@, :${DB_PASSWORD}@)", CONN_STR),
    ("13-19 digit ids / order / tracking numbers / ISBNs (all Luhn-invalid)", None),
    ("invalid SSN-like numbers (000-, 666-, 9xx-, group 00, serial 0000)", re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])")),
    ("IBAN-like strings with wrong mod-97 checksum", IBAN_RE),
    ("dates / timestamps (ISO 8601, RFC 2822, epoch)", re.compile(r"\b20\d\d-\d\d-\d\d|\b\d{10}\.\d{6}\b|\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d")),
    ("phone numbers", re.compile(r"\+\d{1,2}[ (]\d|\(\d{3}\) \d{3}-\d{4}|\b555[ -]0\d\d")),
    ("e-mail addresses", re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[a-z]{2,}\b")),
    ("version strings and IPv4 addresses in text", re.compile(r"\b\d+\.\d+\.\d+\b")),
    ("private IP ranges mentioned in prose / results (not in URL arguments)", re.compile(r"\b(?:10\.\d+\.\d+\.\d+|192\.168\.\d+\.\d+|172\.(?:1[6-9]|2\d|3[01])\.\d+\.\d+)\b|\b192\.168\b|RFC 1918")),
    ("localhost / 0.0.0.0 mentioned in results (README, logs, config)", re.compile(r"localhost|0\.0\.0\.0")),
    ("public URLs with localhost/admin/metadata in path or query", re.compile(r"https://[^\s\"/]+/[^\s\"]*(?:localhost|admin|metadata)", re.I)),
    ("project dot-paths (.github/, .vscode/, .gitignore, .eslintrc...) in arguments", "ARGS:" + r"(?:^|/)\.(?:github|vscode|gitignore|eslintrc|prettierignore|pre-commit|golangci)"),
    ("Windows paths (C:\\Users\\...)", re.compile(r"C:[\\/]Users")),
    ("shell commands with pipes / && in command tools", "SHELL"),
    ("backticks / markdown code in data arguments", "ARGS:`"),
    ("SQL statements (incl. ';', comments, ILIKE, information_schema)", re.compile(r"(?i)\bSELECT\b.+\bFROM\b|\bINSERT INTO\b|\bCREATE TABLE\b|\bUPDATE\b \w+ SET")),
    ("HTML / markdown images and comments (badges, <!-- -->)", re.compile(r"<!--|!\[[^\]]*\]\(https://")),
    ("emoji with ZWJ / variation selectors / skin tones", re.compile("[\u200d\ufe0f]|[\U0001f3fb-\U0001f3ff]")),
    ("flag emoji (regional indicators, subdivision tag flags)", re.compile("[\U0001f1e6-\U0001f1ff]{2}|\U0001f3f4[\U000e0061-\U000e007a]")),
    ("Cyrillic text", re.compile("[\u0400-\u04ff]")), ("Greek text", re.compile("[\u0370-\u03ff]")),
    ("CJK text (Chinese/Japanese/Korean)", re.compile("[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]")),
    ("Arabic / Hebrew (RTL) text", re.compile("[\u0590-\u05ff\u0600-\u06ff]")),
    ("RTL text with LRM/RLM bidi marks", re.compile("[\u200e\u200f]")),
    ("math notation (∑ ∫ √ π ≤ ≈ ∈ ²)", re.compile("[\u2200-\u22ff\u00b2\u00b3\u00bd\u03c0\u2248]")),
    ("JSON \\u escapes of non-ASCII characters (line serialized with ensure_ascii)", "RAW:" + r"\\u[0-9a-f]{4}"),
]


def hard_negatives(rec, line):
    texts = [s for _k, s in walk_strings(rec)]
    blob = "\n".join(texts)
    args_blob = ""
    req = rec["request"]
    if req["method"] == "tools/call":
        args_blob = "\n".join(s for k, s in walk_strings(req["params"].get("arguments", {})) if k != "<key>")
    cats = []
    for name, pat in HN:
        if pat is None:
            hit = any(True for _ in long_digit_runs(blob))
        elif isinstance(pat, str) and pat.startswith("ARGS:"):
            sub = pat[5:]
            hit = bool(args_blob) and (sub in args_blob if sub == "`" else bool(re.search(sub, args_blob)))
        elif pat == "SHELL":
            hit = req["method"] == "tools/call" and req["params"]["name"] == "run_command" and bool(re.search(r"\||&&", args_blob))
        elif isinstance(pat, str) and pat.startswith("RAW:"):
            hit = bool(re.search(pat[4:], line))
        else:
            hit = bool(pat.search(blob))
        if hit:
            cats.append(name)
    return cats


# ==================================================================================
# MAIN
# ==================================================================================
QUOTAS = [(rec_call_request, 1900), (rec_call_response, 2150), (rec_tools_list, 330), (rec_resource_request, 230),
          (rec_resource_response, 300), (rec_prompt_request, 150), (rec_prompt_response, 190), (rec_completion_request, 90),
          (rec_completion_response, 70), (rec_sampling, 160), (rec_elicitation, 110), (rec_notification_message, 170),
          (rec_notification_progress, 150)]
N_LARGE = 30
N_SPECIAL = 8 + 8 * 40


REGENERATED = {"n": 0}


def finalize(r_, rid):
    rec = {"id": rid, "family": None, "direction": r_["direction"], "server": r_["server"], "request": r_["request"]}
    if r_["direction"] == "response":
        rec["message"] = r_["message"]
        rec["delivery"] = r_["delivery"]
    rec["note"] = r_["note"]
    return rec


def checked(fn, *a):
    """build a record; if random data accidentally forms a checksum-valid number, build another one"""
    for _ in range(100):
        r_ = fn(*a)
        rec = finalize(r_, "ben-?????")
        try:
            check_record(rec, json.dumps(rec, ensure_ascii=False))
            check_record(rec, json.dumps(rec, ensure_ascii=True))
        except AccidentalMatch:
            REGENERATED["n"] += 1
            continue
        return r_
    raise AssertionError("could not build a clean record")


def build():
    for srv in sorted(SERVERS):
        for t in SERVERS[srv]["tools"]:
            assert t["name"] in SERVERS[srv]["calls"], (srv, t["name"])
    records = []
    # every server's full tools/list at least once
    for s in sorted(SERVERS):
        req = rpc_request("tools/list", {})
        records.append({"direction": "response", "server": s, "request": req,
                        "message": rpc_result(req, {"tools": json.loads(json.dumps(SERVERS[s]["tools"]))}), "delivery": "json",
                        "note": f"{s}: tools/list (full list, {len(SERVERS[s]['tools'])} tools)"})
    for fn, n in QUOTAS:
        for _ in range(n):
            records.append(checked(fn))
    for i in range(N_LARGE):
        records.append(checked(rec_large, i))
    for i in range(N_SPECIAL):
        records.append(checked(rec_special, i))
    R.shuffle(records)
    return [finalize(r_, f"ben-{i:05d}") for i, r_ in enumerate(records, 1)]


def kind_of(rec):
    req = rec["request"]
    if rec["direction"] == "request":
        return f"request {req['method']}"
    msg = rec["message"]
    if "method" in msg:
        return f"response {msg['method']} (server->client, during {req['method']})"
    return f"response result of {req['method']}"


def main():
    markdown = "--markdown" in sys.argv
    records = build()
    lines = []
    stats_kind, stats_server, stats_delivery, stats_hn = {}, {}, {}, {}
    n_hn_lines = 0
    sizes = []
    ids = set()
    for rec in records:
        ensure_ascii = R.random() < 0.25
        line = json.dumps(rec, ensure_ascii=ensure_ascii)
        check_record(rec, line)
        assert rec["id"] not in ids
        ids.add(rec["id"])
        lines.append(line)
        sizes.append(len(line.encode("utf-8")))
        k = kind_of(rec)
        stats_kind[k] = stats_kind.get(k, 0) + 1
        stats_server[rec["server"]] = stats_server.get(rec["server"], 0) + 1
        if rec["direction"] == "response":
            stats_delivery[rec["delivery"]] = stats_delivery.get(rec["delivery"], 0) + 1
        cats = hard_negatives(rec, line)
        if cats:
            n_hn_lines += 1
        for c in cats:
            stats_hn[c] = stats_hn.get(c, 0) + 1
    data = "\n".join(lines) + "\n"
    with open(OUT_PATH, "w", encoding="utf-8", newline="\n") as f:
        f.write(data)
    # re-read and verify
    with open(OUT_PATH, encoding="utf-8") as f:
        back = [json.loads(x) for x in f]
    assert len(back) == len(records) >= 5500
    assert len({r_["id"] for r_ in back}) == len(back)
    assert all(r_["family"] is None for r_ in back)

    n_req = sum(1 for r_ in records if r_["direction"] == "request")
    n_resp = len(records) - n_req
    big = sum(1 for s in sizes if s >= 16_000)
    sse_plain = sum(1 for r_ in records if r_["direction"] == "response" and "method" not in r_["message"] and r_["delivery"] == "sse")
    plain = sum(1 for r_ in records if r_["direction"] == "response" and "method" not in r_["message"])
    summary = {
        "lines": len(records), "requests": n_req, "responses": n_resp, "servers": len(stats_server),
        "tools": sum(len(v["tools"]) for v in SERVERS.values()), "lines_with_hard_negatives": n_hn_lines,
        "large_lines_ge_16KB": big, "max_line_bytes": max(sizes), "median_line_bytes": sorted(sizes)[len(sizes) // 2],
        "sse_share_of_plain_results": round(sse_plain / plain, 3), "records_regenerated_after_accidental_checksum_match": REGENERATED["n"], "sha256": hashlib.sha256(data.encode("utf-8")).hexdigest(),
    }
    print(f"wrote {OUT_PATH}")
    for k, v in summary.items():
        print(f"  {k}: {v}")
    print("by kind:")
    for k in sorted(stats_kind, key=lambda x: -stats_kind[x]):
        print(f"  {stats_kind[k]:5d}  {k}")
    print("by server:")
    for k in sorted(stats_server):
        print(f"  {stats_server[k]:5d}  {k} ({len(SERVERS[k]['tools'])} tools)")
    print("by delivery (responses):", dict(sorted(stats_delivery.items())))
    print("hard-negative categories (lines containing at least one):")
    for name, _p in HN:
        print(f"  {stats_hn.get(name, 0):5d}  {name}")
    if markdown:
        print("\n<!-- generated by gen_benign.py --markdown -->")
        print("| Lines | Requests | Responses | Servers | Tools | Lines with hard negatives | Lines >= 16 KB |\n|---|---|---|---|---|---|---|")
        print(f"| {summary['lines']} | {n_req} | {n_resp} | {summary['servers']} | {summary['tools']} | {n_hn_lines} | {big} |\n")
        print("| Count | Method / direction |\n|---:|---|")
        for k in sorted(stats_kind, key=lambda x: -stats_kind[x]):
            print(f"| {stats_kind[k]} | {k} |")
        print("\n| Server | Tools | Lines |\n|---|---:|---:|")
        for k in sorted(stats_server):
            print(f"| {k} | {len(SERVERS[k]['tools'])} | {stats_server[k]} |")
        print("\n| Lines | Hard-negative category |\n|---:|---|")
        for name, _p in HN:
            print(f"| {stats_hn.get(name, 0)} | {name.replace('|', '/')} |")


if __name__ == "__main__":
    main()
