"""MCP-SDK scenarios. Each returns a normalised, JSON-able transcript entry.

The same scenario runs against the upstream directly and through the gateway;
the tests assert the entries are identical. Anything that legitimately differs
between connections (session ids, timestamps) is left out of the entries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Awaitable, Callable

import anyio
import httpx
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

# Bounds: a stuck request fails the test well before pytest-timeout fires.
REQUEST_TIMEOUT = timedelta(seconds=20)
SCENARIO_TIMEOUT_S = 45

# Tool names of the pinned server-everything version (see node/package.json).
ECHO_TOOL = "echo"
ADD_TOOL = "get-sum"
LONG_TOOL = "trigger-long-running-operation"
LONG_STEPS = 3
LONG_DURATION_S = 3  # server-side parameter: progress steps are duration/steps seconds apart


@dataclass(frozen=True)
class Endpoint:
    mode: str  # "direct" | "gateway-http" | "gateway-tls"
    url: str
    http_client_factory: Callable[[], httpx.AsyncClient]
    sync_client_factory: Callable[[], httpx.Client]

    @property
    def via_gateway(self) -> bool:
        return self.mode != "direct"


def dump(obj: Any) -> Any:
    """Pydantic model -> plain JSON data (aliases, no None fields)."""
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(obj, list):
        return [dump(x) for x in obj]
    return obj


Scenario = Callable[[ClientSession, dict[str, Any]], Awaitable[dict[str, Any]]]


async def _with_session(endpoint: Endpoint, body: Scenario) -> dict[str, Any]:
    ctx: dict[str, Any] = {}
    with anyio.fail_after(SCENARIO_TIMEOUT_S):
        async with endpoint.http_client_factory() as http:
            async with streamable_http_client(endpoint.url, http_client=http) as (read, write, get_sid):
                async with ClientSession(read, write, read_timeout_seconds=REQUEST_TIMEOUT) as session:
                    init = await session.initialize()
                    ctx["init"] = init
                    ctx["session_id"] = get_sid()
                    return await body(session, ctx)


def run(endpoint: Endpoint, body: Scenario) -> dict[str, Any]:
    """Run one scenario in a fresh MCP session from a plain sync test."""
    return anyio.run(_with_session, endpoint, body)


# --------------------------------------------------------------- scenarios


async def initialize(session: ClientSession, ctx: dict[str, Any]) -> dict[str, Any]:
    init = ctx["init"]
    return {
        "serverInfo": dump(init.serverInfo),
        "protocolVersion": init.protocolVersion,
        "capabilities": dump(init.capabilities),
        "instructions": init.instructions,
    }


async def tools_list(session: ClientSession, ctx: dict[str, Any]) -> dict[str, Any]:
    res = await session.list_tools()
    return {
        "names": sorted(t.name for t in res.tools),
        "tools": sorted((dump(t) for t in res.tools), key=lambda t: t["name"]),
    }


async def tools_call(session: ClientSession, ctx: dict[str, Any]) -> dict[str, Any]:
    echo = await session.call_tool(ECHO_TOOL, {"message": "hello through mcpguard \u2713 <&>\""})
    add = await session.call_tool(ADD_TOOL, {"a": 40, "b": 2})
    return {"echo": dump(echo), "add": dump(add)}


async def long_running_progress(session: ClientSession, ctx: dict[str, Any]) -> dict[str, Any]:
    """A tool call with progress. Records the order in which things reach the client.

    As soon as the first progress notification arrives, a ping is sent on the
    same session. The ping's answer can only arrive before the tool's result if
    the progress was streamed to the client while the tool was still running
    (the tool has steps left); a hop that buffered the response would deliver
    progress and result together, and the ping's answer after them.
    """
    events: list[tuple[str, Any]] = []
    first_progress = anyio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        events.append(("progress", {"progress": progress, "total": total, "message": message}))
        first_progress.set()

    async def ping_after_first_progress() -> None:
        await first_progress.wait()
        await session.send_ping()
        events.append(("ping", None))

    # call_tool() validates a result against the tool's output schema and fetches
    # tools/list first if it has not seen it: do that now, so that call_tool()
    # returns as soon as the result arrives and "result" is recorded in order.
    await session.list_tools()
    async with anyio.create_task_group() as tg:
        tg.start_soon(ping_after_first_progress)
        result = await session.call_tool(
            LONG_TOOL,
            {"duration": LONG_DURATION_S, "steps": LONG_STEPS},
            progress_callback=on_progress,
        )
        events.append(("result", dump(result)))
        if not first_progress.is_set():
            tg.cancel_scope.cancel()

    kinds = [kind for kind, _ in events]
    return {
        "order": [k for k in kinds if k != "ping"],
        "ping_answered_before_result": "ping" in kinds and kinds.index("ping") < kinds.index("result"),
        "progress": [data for kind, data in events if kind == "progress"],
        "result": dump(result),
    }


async def resources(session: ClientSession, ctx: dict[str, Any]) -> dict[str, Any]:
    listed = await session.list_resources()
    templates = await session.list_resource_templates()
    text_resources = [r for r in listed.resources if (r.mimeType or "").startswith("text/")]
    assert text_resources, f"no text resource in {dump(listed)}"
    first = text_resources[0]
    read = await session.read_resource(first.uri)
    return {
        "resources": [dump(r) for r in listed.resources],
        "templates": [dump(t) for t in templates.resourceTemplates],
        "read_uri": str(first.uri),
        "read": dump(read),
    }


async def prompts(session: ClientSession, ctx: dict[str, Any]) -> dict[str, Any]:
    listed = await session.list_prompts()
    names = sorted(p.name for p in listed.prompts)
    got: dict[str, Any] = {}
    if "simple-prompt" in names:
        got["simple-prompt"] = dump(await session.get_prompt("simple-prompt"))
    if "args-prompt" in names:
        got["args-prompt"] = dump(await session.get_prompt("args-prompt", {"city": "Zürich", "state": "ZH"}))
    if not got:  # another server-everything version: get the first prompt without arguments
        plain = [p for p in listed.prompts if not p.arguments]
        assert plain, f"no prompt to get in {names}"
        got[plain[0].name] = dump(await session.get_prompt(plain[0].name))
    return {"names": names, "prompts": sorted((dump(p) for p in listed.prompts), key=lambda p: p["name"]),
            "get": got}


async def ping(session: ClientSession, ctx: dict[str, Any]) -> dict[str, Any]:
    return {"ping": dump(await session.send_ping())}


async def full_transcript(session: ClientSession, ctx: dict[str, Any]) -> dict[str, Any]:
    """Every SDK scenario in order, in one MCP session."""
    out: dict[str, Any] = {}
    for name, fn in SDK_SCENARIOS.items():
        out[name] = await fn(session, ctx)
    return out


SDK_SCENARIOS: dict[str, Scenario] = {
    "initialize": initialize,
    "tools_list": tools_list,
    "tools_call": tools_call,
    "long_running_progress": long_running_progress,
    "resources": resources,
    "prompts": prompts,
    "ping": ping,
}

ALL_SCENARIOS: dict[str, Scenario] = {**SDK_SCENARIOS, "full_transcript": full_transcript}


def canonical(entry: Any) -> str:
    """Stable text form, so a mismatch shows as a readable diff."""
    return json.dumps(entry, indent=1, sort_keys=True, ensure_ascii=False)
