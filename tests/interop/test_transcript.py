"""MCP SDK scenarios in three modes: direct, gateway-http, gateway-tls.

Each test checks the scenario's own facts, then that its normalised transcript
entry is identical to the one taken directly against the upstream (computed
once per session). In direct mode that comparison checks that the upstream is
deterministic, which the gateway comparison relies on.
"""

from __future__ import annotations

from typing import Any

import scenarios
from mcp.types import LATEST_PROTOCOL_VERSION
from scenarios import Endpoint


def same_as_direct(name: str, entry: Any, direct_results) -> None:
    scenario = scenarios.ALL_SCENARIOS[name]
    reference = direct_results.get(f"sdk:{name}", lambda ep: scenarios.run(ep, scenario))
    assert scenarios.canonical(entry) == scenarios.canonical(reference)


def test_initialize(endpoint: Endpoint, direct_results) -> None:
    entry = scenarios.run(endpoint, scenarios.initialize)
    assert entry["serverInfo"]["name"] == "mcp-servers/everything"
    assert entry["protocolVersion"] == LATEST_PROTOCOL_VERSION
    same_as_direct("initialize", entry, direct_results)


def test_tools_list(endpoint: Endpoint, direct_results) -> None:
    entry = scenarios.run(endpoint, scenarios.tools_list)
    assert {scenarios.ECHO_TOOL, scenarios.ADD_TOOL, scenarios.LONG_TOOL} <= set(entry["names"])
    same_as_direct("tools_list", entry, direct_results)


def test_tools_call_echo_and_add(endpoint: Endpoint, direct_results) -> None:
    entry = scenarios.run(endpoint, scenarios.tools_call)
    assert entry["echo"]["content"] == [{"type": "text", "text": "Echo: hello through mcpguard \u2713 <&>\""}]
    assert not entry["echo"].get("isError")
    assert "42" in entry["add"]["content"][0]["text"]
    same_as_direct("tools_call", entry, direct_results)


def test_long_running_progress(endpoint: Endpoint, direct_results) -> None:
    entry = scenarios.run(endpoint, scenarios.long_running_progress)
    order = entry["order"]
    assert order.count("progress") >= 2, order
    assert order[0] == "progress", f"first progress must arrive before the result: {order}"
    assert order[-1] == "result"
    assert entry["ping_answered_before_result"], "progress was not streamed while the tool was running"
    assert [p["progress"] for p in entry["progress"]] == list(range(1, scenarios.LONG_STEPS + 1))
    same_as_direct("long_running_progress", entry, direct_results)


def test_resources_list_and_read(endpoint: Endpoint, direct_results) -> None:
    entry = scenarios.run(endpoint, scenarios.resources)
    assert entry["resources"], "resources/list returned nothing"
    contents = entry["read"]["contents"]
    assert contents and contents[0]["uri"] == entry["read_uri"] and contents[0]["text"]
    same_as_direct("resources", entry, direct_results)


def test_prompts_list_and_get(endpoint: Endpoint, direct_results) -> None:
    entry = scenarios.run(endpoint, scenarios.prompts)
    assert entry["names"]
    for got in entry["get"].values():
        assert got["messages"], got
    same_as_direct("prompts", entry, direct_results)


def test_ping(endpoint: Endpoint, direct_results) -> None:
    entry = scenarios.run(endpoint, scenarios.ping)
    assert entry == {"ping": {}}
    same_as_direct("ping", entry, direct_results)


def test_full_transcript_in_one_session(endpoint: Endpoint, direct_results) -> None:
    """All scenarios back to back in one MCP session: the whole transcript must match."""
    entry = scenarios.run(endpoint, scenarios.full_transcript)
    assert set(entry) == set(scenarios.SDK_SCENARIOS)
    same_as_direct("full_transcript", entry, direct_results)
