"""Shared fixtures: the upstream (server-everything), the gateway (mcpguard) in
plain-HTTP and TLS modes, and the ``endpoint`` fixture that parametrises every
scenario over direct / gateway-http / gateway-tls.

Every process started here is stopped by PID at the end of the session, also
when a test or a fixture fails.
"""

from __future__ import annotations

import os
import re
import ssl
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest
import trustme

import procs
import scenarios
from scenarios import Endpoint

INTEROP_DIR = Path(__file__).resolve().parent
REPO_ROOT = INTEROP_DIR.parents[1]
NODE_DIR = INTEROP_DIR / "node"
EVERYTHING_PKG = NODE_DIR / "node_modules" / "@modelcontextprotocol" / "server-everything"
MODES = ("direct", "gateway-http", "gateway-tls")
GATEWAY_MODES = ("gateway-http", "gateway-tls")

# Every HTTP wait is bounded well below the 60 s per-test timeout (pytest.ini).
HTTP_TIMEOUT = httpx.Timeout(20.0)


# ------------------------------------------------------------------ helpers


def gateway_binary() -> Path:
    raw = os.environ.get("MCPGUARD_BIN") or str(REPO_ROOT / "target" / "debug" / "mcpguard")
    path = Path(raw)
    if not path.is_absolute():
        path = (Path.cwd() / path).resolve()
    return path


class Upstream:
    def __init__(self, proc: procs.ManagedProcess, port: int) -> None:
        self.proc = proc
        self.port = port
        self.url = f"http://127.0.0.1:{port}/mcp"

    def session_ids(self) -> set[str]:
        """Session ids the upstream has issued so far (it logs each one)."""
        text = self.proc.log_path.read_text("utf-8", "replace")
        return set(re.findall(r"Session initialized with ID: (\S+)", text))


def _plain_clients() -> tuple[Callable[[], httpx.AsyncClient], Callable[[], httpx.Client]]:
    return (lambda: httpx.AsyncClient(timeout=HTTP_TIMEOUT),
            lambda: httpx.Client(timeout=HTTP_TIMEOUT))


# ----------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def logs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="session")
def upstream(logs_dir: Path) -> Iterator[Upstream]:
    entry = EVERYTHING_PKG / "dist" / "index.js"
    if not entry.is_file():
        pytest.fail(f"{entry} is missing: run `bash tests/run.sh` (it installs the pinned server-everything)")
    port = procs.free_port()
    proc = procs.ManagedProcess(
        "server-everything",
        ["node", "--require", str(NODE_DIR / "loopback.cjs"), str(entry), "streamableHttp"],
        logs_dir / "server-everything.log",
        env={"PORT": str(port)},
        cwd=NODE_DIR,
    )
    try:
        proc.wait_for_port(port)
        yield Upstream(proc, port)
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def tls_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def tls_files(tls_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("tls")
    cert = tls_ca.issue_cert("127.0.0.1", "localhost")
    cert_path, key_path = d / "cert.pem", d / "key.pem"
    cert_path.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    cert.private_key_pem.write_to_path(str(key_path))
    return cert_path, key_path


@pytest.fixture(scope="session")
def client_ssl_context(tls_ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    tls_ca.configure_trust(ctx)
    return ctx


def _start_gateway(name: str, upstream: Upstream, logs_dir: Path, extra: list[str]) -> tuple[procs.ManagedProcess, int]:
    binary = gateway_binary()
    if not binary.is_file():
        # Fail, never skip: CI builds the binary before running this suite.
        pytest.fail(f"mcpguard binary not found at {binary} (set MCPGUARD_BIN or run `cargo build --bins`)")
    port = procs.free_port()
    env = {"RUST_LOG": os.environ.get("RUST_LOG", "info"), "RUST_BACKTRACE": "1", "NO_COLOR": "1"}
    store = logs_dir / f"mcpguard-{name}.db"
    argv = [str(binary), "run", "--listen", f"127.0.0.1:{port}", "--upstream", upstream.url,
            "--store", str(store), *extra]
    proc = procs.ManagedProcess(name, argv, logs_dir / f"mcpguard-{name}.log", env=env, cwd=REPO_ROOT)
    try:
        proc.wait_for_port(port)
    except Exception:
        proc.stop()
        raise
    return proc, port


@pytest.fixture(scope="session")
def gateway_http(upstream: Upstream, logs_dir: Path) -> Iterator[Endpoint]:
    proc, port = _start_gateway("gateway-http", upstream, logs_dir, [])
    try:
        async_f, sync_f = _plain_clients()
        yield Endpoint("gateway-http", f"http://127.0.0.1:{port}/mcp", async_f, sync_f)
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def gateway_tls(upstream: Upstream, logs_dir: Path, tls_files: tuple[Path, Path],
                client_ssl_context: ssl.SSLContext) -> Iterator[Endpoint]:
    cert, key = tls_files
    proc, port = _start_gateway("gateway-tls", upstream, logs_dir, ["--tls-cert", str(cert), "--tls-key", str(key)])
    try:
        ctx = client_ssl_context
        yield Endpoint(
            "gateway-tls",
            f"https://127.0.0.1:{port}/mcp",
            lambda: httpx.AsyncClient(timeout=HTTP_TIMEOUT, verify=ctx),
            lambda: httpx.Client(timeout=HTTP_TIMEOUT, verify=ctx),
        )
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def direct(upstream: Upstream) -> Endpoint:
    async_f, sync_f = _plain_clients()
    return Endpoint("direct", upstream.url, async_f, sync_f)


def _endpoint_for(request: pytest.FixtureRequest, mode: str) -> Endpoint:
    fixture = {"direct": "direct", "gateway-http": "gateway_http", "gateway-tls": "gateway_tls"}[mode]
    return request.getfixturevalue(fixture)


@pytest.fixture(params=MODES)
def endpoint(request: pytest.FixtureRequest) -> Endpoint:
    """The MCP endpoint under test, in each of the three modes."""
    return _endpoint_for(request, request.param)


@pytest.fixture(params=GATEWAY_MODES)
def gateway(request: pytest.FixtureRequest) -> Endpoint:
    """The gateway endpoint, plain HTTP and TLS."""
    return _endpoint_for(request, request.param)


class DirectResults:
    """Reference results against the upstream, each computed once per session."""

    def __init__(self, direct_endpoint: Endpoint) -> None:
        self.endpoint = direct_endpoint
        self._cache: dict[str, Any] = {}

    def get(self, key: str, compute: Callable[[Endpoint], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = compute(self.endpoint)
        return self._cache[key]


@pytest.fixture(scope="session")
def direct_results(direct: Endpoint) -> DirectResults:
    return DirectResults(direct)


# -------------------------------------------------- logs on test failure


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]):
    """On failure, show the logs of the processes the test talked to."""
    report = yield
    if report.failed:
        params = getattr(getattr(item, "callspec", None), "params", {})
        mode = params.get("endpoint") or params.get("gateway")
        for p in procs.RUNNING:
            if p.name == "server-everything":
                report.sections.append((f"log tail of {p.describe()}", p.log_text(1_500)))
            elif mode is None or p.name == mode:
                report.sections.append((f"log of {p.describe()}", p.log_text()))
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Belt and braces: fixtures stop their processes; this catches anything left.
    procs.stop_all()
