"""Access control: the token on every `/api` and `/ws` call, the browser handover, origins."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from support.live_server import LiveServer, next_frame


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic dGVzdDp0ZXN0"}],
    ids=["missing", "wrong", "not-bearer"],
)
def test_api_without_the_token_is_401_json(live_server: LiveServer, headers: dict) -> None:
    for method, path in [("GET", "/api/chats"), ("POST", "/api/chats"), ("GET", "/api/x")]:
        response = httpx.request(method, f"{live_server.url}{path}", headers=headers)
        assert response.status_code == 401
        assert response.json() == {"detail": "missing or wrong access token"}


async def test_websocket_without_the_token_closes_with_4401(live_server: LiveServer) -> None:
    chat = live_server.new_chat()
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        async with live_server.ws(chat["id"], headers=headers) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await next_frame(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_websocket_from_a_foreign_origin_is_refused(live_server: LiveServer) -> None:
    chat = live_server.new_chat()
    url = f"{live_server.ws_url}/ws/chats/{chat['id']}"
    other_port = int(live_server.url.rsplit(":", 1)[1]) + 1
    for origin in ("http://evil.example", "null", f"http://127.0.0.1:{other_port}"):
        with pytest.raises(InvalidStatus) as refused:
            async with websockets.connect(
                url, additional_headers={**live_server.headers(), "Origin": origin}
            ):
                pass
        assert refused.value.response.status_code == 403

    async with websockets.connect(
        url, additional_headers={**live_server.headers(), "Origin": live_server.url}
    ) as ws:
        assert (await next_frame(ws))["type"] == "snapshot"


def test_api_calls_from_a_foreign_origin_are_refused(live_server: LiveServer) -> None:
    with live_server.client() as http:
        response = http.post("/api/chats", headers={"Origin": "http://evil.example"})
    assert response.status_code == 403


def test_browser_handover_swaps_the_url_token_for_a_cookie(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as browser:
        handover = browser.get(f"/?token={live_server.token}")
        assert handover.status_code == 303
        assert handover.headers["location"] == "/"
        cookie = handover.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        page = browser.get("/")
        assert page.status_code == 200 and "<title>BooCode</title>" in page.text
        assert browser.get("/api/chats").status_code == 200
        assert browser.get(f"/?token={live_server.token}x").status_code == 401


def test_the_web_page_and_its_modules_are_served_without_the_token(
    live_server: LiveServer,
) -> None:
    for path in ("/", "/app.js", "/vendor/preact.module.js", "/style.css"):
        assert httpx.get(f"{live_server.url}{path}").status_code == 200, path


def test_a_generated_token_is_kept_private_and_reused(tmp_path: Path) -> None:
    server = LiveServer.start(tmp_path, token=None)
    try:
        token_file = server.data_dir / "token"
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        token = token_file.read_text().strip()
        assert len(token) >= 32
        assert f"{server.url}/?token={token}" in server.log
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{server.url}/api/chats", headers=headers).status_code == 200
    finally:
        server.stop()
    again = LiveServer.start(tmp_path, token=None)
    try:
        assert (again.data_dir / "token").read_text().strip() == token
    finally:
        again.stop()
