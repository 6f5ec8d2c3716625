"""Raw Streamable-HTTP behaviour (plain httpx): sessions, the GET stream,
DELETE, notifications, malformed bodies, forged session ids, Origin checks.
"""

from __future__ import annotations

import rawmcp
from conftest import Upstream
from scenarios import Endpoint

EVIL_ORIGIN = "http://evil.example"


# ----------------------------------------------------------- session ids


def test_session_id(endpoint: Endpoint, upstream: Upstream) -> None:
    before = upstream.session_ids()
    with endpoint.sync_client_factory() as client:
        sid, result = rawmcp.open_session(client, endpoint.url)
    assert result["serverInfo"]["name"] == "mcp-servers/everything"
    assert rawmcp.is_visible_ascii(sid), f"session id is not visible ASCII: {sid!r}"
    issued = upstream.session_ids() - before
    assert len(issued) == 1, f"expected exactly one new upstream session, got {issued}"
    if endpoint.via_gateway:
        # The gateway issues its own (sealed) ids; the upstream's never leaks.
        assert sid not in upstream.session_ids()
        assert sid != next(iter(issued))
    else:
        assert issued == {sid}


# -------------------------------------------------------------- GET stream


def _get_stream(ep: Endpoint) -> tuple[int, str]:
    with ep.sync_client_factory() as client:
        sid, _ = rawmcp.open_session(client, ep.url)
        status, ctype = rawmcp.get_stream_head(client, ep.url, sid)
        rawmcp.delete_session(client, ep.url, sid)
    return status, ctype.split(";")[0].strip().lower()


def test_get_stream(endpoint: Endpoint, direct_results) -> None:
    status, ctype = _get_stream(endpoint)
    assert status in (200, 405), status
    if status == 200:
        assert ctype == "text/event-stream"
    assert (status, ctype) == direct_results.get("raw:get_stream", _get_stream)


# ------------------------------------------------------------------ DELETE


def _delete(ep: Endpoint) -> dict:
    with ep.sync_client_factory() as client:
        sid, _ = rawmcp.open_session(client, ep.url)
        assert rawmcp.ping(client, ep.url, sid).status_code == 200
        deleted = rawmcp.delete_session(client, ep.url, sid)
        after = rawmcp.ping(client, ep.url, sid, req_id=100)
    return {"delete": deleted.status_code, "after": after.status_code}


def test_delete_terminates_session(endpoint: Endpoint, direct_results) -> None:
    got = _delete(endpoint)
    reference = direct_results.get("raw:delete", _delete)
    assert got["delete"] == reference["delete"]
    assert 400 <= reference["after"] < 500, f"upstream kept the session after DELETE: {reference}"
    if endpoint.via_gateway:
        # Spec: a request with a terminated session id gets 404. (The pinned
        # upstream itself answers 400 here; the gateway must say 404.)
        assert got["after"] == 404, f"a request with a terminated session id must get 404: {got}"


# ------------------------------------------------- notifications and errors


def test_notification_gets_202(endpoint: Endpoint) -> None:
    with endpoint.sync_client_factory() as client:
        sid, _ = rawmcp.open_session(client, endpoint.url)
        resp = client.post(
            endpoint.url,
            json={"jsonrpc": "2.0", "method": "notifications/roots/list_changed"},
            headers=rawmcp.post_headers(sid),
        )
        assert resp.status_code == 202, resp.text
        assert resp.content == b""
        rawmcp.delete_session(client, endpoint.url, sid)


def test_malformed_json_gets_400_parse_error(endpoint: Endpoint) -> None:
    with endpoint.sync_client_factory() as client:
        sid, _ = rawmcp.open_session(client, endpoint.url)
        resp = client.post(endpoint.url, content=b'{"jsonrpc": "2.0", "id": 7, "method": ', headers=rawmcp.post_headers(sid))
        assert resp.status_code == 400, resp.text
        body = resp.json()
        assert body["jsonrpc"] == "2.0"
        assert body["error"]["code"] == -32700, body
        # The session is still usable afterwards.
        assert rawmcp.ping(client, endpoint.url, sid).status_code == 200
        rawmcp.delete_session(client, endpoint.url, sid)


def _flip_middle_char(sid: str) -> str:
    i = len(sid) // 2
    return sid[:i] + ("A" if sid[i] != "A" else "B") + sid[i + 1:]


def test_forged_session_id_gets_404(gateway: Endpoint) -> None:
    with gateway.sync_client_factory() as client:
        sid, _ = rawmcp.open_session(client, gateway.url)
        forged = [
            "forged-session-id",
            _flip_middle_char(sid),  # one character off a real sealed id
        ]
        for bad in forged:
            resp = rawmcp.ping(client, gateway.url, bad)
            assert resp.status_code == 404, (bad, resp.status_code, resp.text)
        assert rawmcp.ping(client, gateway.url, sid).status_code == 200
        rawmcp.delete_session(client, gateway.url, sid)


def test_foreign_origin_gets_403(gateway: Endpoint) -> None:
    with gateway.sync_client_factory() as client:
        resp = client.post(gateway.url, json=rawmcp.initialize_request(), headers=rawmcp.post_headers(Origin=EVIL_ORIGIN))
        assert resp.status_code == 403, resp.text
        sid, _ = rawmcp.open_session(client, gateway.url)
        resp = client.post(
            gateway.url,
            json={"jsonrpc": "2.0", "id": 5, "method": "ping"},
            headers=rawmcp.post_headers(sid, Origin=EVIL_ORIGIN),
        )
        assert resp.status_code == 403, resp.text
        rawmcp.delete_session(client, gateway.url, sid)


def test_upstream_allows_foreign_origin(direct: Endpoint) -> None:
    """Control for test_foreign_origin_gets_403: the 403 comes from the gateway, not the upstream."""
    with direct.sync_client_factory() as client:
        resp = client.post(direct.url, json=rawmcp.initialize_request(), headers=rawmcp.post_headers(Origin=EVIL_ORIGIN))
        assert resp.status_code == 200, resp.text
        sid = resp.headers["mcp-session-id"]
        rawmcp.delete_session(client, direct.url, sid)
