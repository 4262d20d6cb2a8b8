"""Access control: one token per server, checked on every `/api` and `/ws` call.

The token comes from `BOOCODE_TOKEN` or is generated once into `<data_dir>/token` (mode 0600).
Clients send it as `Authorization: Bearer …`; a browser gets it once in the URL printed at
start-up (`/?token=…`), which swaps it for a cookie and redirects to `/` without it.
"""

from __future__ import annotations

import hmac
import json
import math
import os
import secrets
from collections import Counter
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boocode.config import Settings

TOKEN_FILE = "token"
STRONG_TOKEN_CHARS = 32
STRONG_TOKEN_BITS = 96
WS_UNAUTHORIZED = 4401
_PROTECTED_PREFIXES = ("/api/", "/ws/")


def load_token(settings: Settings) -> str:
    """The access token: `BOOCODE_TOKEN`, else the one kept in the data dir (made on first use)."""
    if settings.token:
        return settings.token
    path = settings.data_dir / TOKEN_FILE
    if path.is_file():
        token = path.read_text().strip()
        if token:
            return token
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    _write_private(path, token + "\n")
    return token


def token_weakness(token: str | None) -> str | None:
    """Why `token` is too weak to guard a server others can reach, or None when it is strong.

    Strong: at least 32 characters and, estimated from how its characters are spread, at least
    96 bits of entropy; `secrets.token_urlsafe(32)` scores about 200, `"a" * 40` scores 0.
    """
    if not token:
        return "BOOCODE_TOKEN is not set"
    if len(token) < STRONG_TOKEN_CHARS:
        count = "1 character" if len(token) == 1 else f"{len(token)} characters"
        return f"BOOCODE_TOKEN has {count}, fewer than {STRONG_TOKEN_CHARS}"
    if _entropy_bits(token) < STRONG_TOKEN_BITS:
        return "BOOCODE_TOKEN is too predictable (too few different characters)"
    return None


def _entropy_bits(text: str) -> float:
    """Shannon entropy of the text's character frequencies, times its length."""
    counts = Counter(text).values()
    return -sum(n * math.log2(n / len(text)) for n in counts)


def _write_private(path: Path, text: str) -> None:
    # Created with 0600 from the start: the token is never readable by others, even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(path, 0o600)


def cookie_name(scope: Scope) -> str:
    """One cookie per port: cookies ignore ports, and two servers on one host must not clash."""
    server = scope.get("server") or ("", 0)
    return f"boocode_token_{server[1]}"


class AccessControl:
    """ASGI middleware guarding `/api` and `/ws`, and turning `/?token=` into a cookie."""

    def __init__(self, app: ASGIApp, token: str, wrong_token_page: bytes = b"") -> None:
        self.app = app
        self.token = token
        # The web page, which tells a person with a wrong token where the right one is.
        self.wrong_token_page = wrong_token_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        path: str = scope["path"]
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send, headers)
        elif path == "/" and "token" in _query(scope):
            await self._handover(scope, send)
        elif path.startswith(_PROTECTED_PREFIXES) or path == "/api":
            if not _same_origin(headers):
                await _json(send, 403, "cross-origin requests are refused")
            elif not self._authorised(scope, headers):
                await _json(send, 401, "missing or wrong access token")
            else:
                await self.app(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def _authorised(self, scope: Scope, headers: dict[str, str]) -> bool:
        auth = headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            return self._matches(auth[7:].strip())
        cookies = SimpleCookie()
        cookies.load(headers.get("cookie", ""))
        morsel = cookies.get(cookie_name(scope))
        return morsel is not None and self._matches(morsel.value)

    def _matches(self, candidate: str) -> bool:
        return hmac.compare_digest(candidate.encode(), self.token.encode())

    async def _websocket(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str]
    ) -> None:
        if not _same_origin(headers):
            # Refused before the handshake completes: the browser sees a failed upgrade (403).
            await receive()
            await send({"type": "websocket.close", "code": 1008, "reason": "foreign origin"})
            return
        if not self._authorised(scope, headers):
            await receive()
            await send({"type": "websocket.accept"})
            await send(
                {
                    "type": "websocket.close",
                    "code": WS_UNAUTHORIZED,
                    "reason": "missing or wrong access token",
                }
            )
            return
        await self.app(scope, receive, send)

    async def _handover(self, scope: Scope, send: Send) -> None:
        token = _query(scope)["token"][0]
        if not self._matches(token):
            if self.wrong_token_page:
                await _html(send, 401, self.wrong_token_page)
            else:
                await _json(send, 401, "wrong access token: use the URL printed by `boocode serve`")
            return
        cookie = (
            f"{cookie_name(scope)}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=31536000"
        )
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [
                    (b"location", b"/"),
                    (b"set-cookie", cookie.encode()),
                    (b"cache-control", b"no-store"),
                    (b"content-length", b"0"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _query(scope: Scope) -> dict[str, list[str]]:
    return parse_qs(scope.get("query_string", b"").decode("latin-1"))


def _same_origin(headers: dict[str, str]) -> bool:
    """No Origin (a non-browser client) or an Origin whose host:port is the Host we answer on."""
    origin = headers.get("origin")
    if origin is None:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    return parts.netloc.lower() == headers.get("host", "").lower()


async def _json(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body})


async def _html(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
