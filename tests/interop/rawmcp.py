"""Raw Streamable-HTTP helpers on top of plain httpx (no MCP SDK).

Used where the tests need to see HTTP statuses and headers the SDK hides:
the GET stream, DELETE, notifications, malformed bodies, forged session ids.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from mcp.types import LATEST_PROTOCOL_VERSION

POST_ACCEPT = "application/json, text/event-stream"


def post_headers(session_id: str | None = None, **extra: str) -> dict[str, str]:
    h = {"Accept": POST_ACCEPT, "Content-Type": "application/json"}
    if session_id is not None:
        h["Mcp-Session-Id"] = session_id
        h["MCP-Protocol-Version"] = LATEST_PROTOCOL_VERSION
    h.update(extra)
    return h


def session_headers(session_id: str) -> dict[str, str]:
    return {"Mcp-Session-Id": session_id, "MCP-Protocol-Version": LATEST_PROTOCOL_VERSION}


def initialize_request(req_id: int = 1) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": req_id,
        "method": "initialize",
        "params": {
            "protocolVersion": LATEST_PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "mcpguard-interop-raw", "version": "0"},
        },
    }


def jsonrpc_messages(resp: httpx.Response) -> list[dict[str, Any]]:
    """The JSON-RPC messages in a response body, whether plain JSON or SSE."""
    ctype = resp.headers.get("content-type", "")
    text = resp.text
    if ctype.startswith("text/event-stream"):
        out = []
        for block in text.replace("\r\n", "\n").split("\n\n"):
            data = "\n".join(line[5:].lstrip(" ") for line in block.split("\n") if line.startswith("data:"))
            if data.strip():
                out.append(json.loads(data))
        return out
    if not text.strip():
        return []
    body = json.loads(text)
    return body if isinstance(body, list) else [body]


def response_for(resp: httpx.Response, req_id: int) -> dict[str, Any]:
    for msg in jsonrpc_messages(resp):
        if msg.get("id") == req_id and ("result" in msg or "error" in msg):
            return msg
    raise AssertionError(f"no JSON-RPC response with id {req_id} in {resp.status_code} body: {resp.text[:2000]!r}")


def open_session(client: httpx.Client, url: str) -> tuple[str, dict[str, Any]]:
    """initialize + notifications/initialized; returns (session id, initialize result)."""
    resp = client.post(url, json=initialize_request(1), headers=post_headers())
    assert resp.status_code == 200, f"initialize: {resp.status_code} {resp.text[:2000]!r}"
    sid = resp.headers.get("mcp-session-id")
    assert sid, f"initialize response has no Mcp-Session-Id header: {dict(resp.headers)}"
    result = response_for(resp, 1)["result"]
    note = client.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=post_headers(sid))
    assert note.status_code == 202, f"notifications/initialized: {note.status_code} {note.text[:2000]!r}"
    return sid, result


def ping(client: httpx.Client, url: str, session_id: str, req_id: int = 99) -> httpx.Response:
    return client.post(url, json={"jsonrpc": "2.0", "id": req_id, "method": "ping"}, headers=post_headers(session_id))


def get_stream_head(client: httpx.Client, url: str, session_id: str) -> tuple[int, str]:
    """Open the GET stream, return (status, content-type) and close it without reading the body."""
    headers = {"Accept": "text/event-stream", **session_headers(session_id)}
    with client.stream("GET", url, headers=headers) as resp:
        return resp.status_code, resp.headers.get("content-type", "")


def delete_session(client: httpx.Client, url: str, session_id: str) -> httpx.Response:
    return client.delete(url, headers=session_headers(session_id))


def is_visible_ascii(s: str) -> bool:
    return len(s) > 0 and all(0x21 <= ord(c) <= 0x7E for c in s)
