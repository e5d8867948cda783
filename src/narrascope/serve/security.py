"""What keeps the workspace server safe to run: loopback by default, a token, size limits.

Pure ASGI middlewares, so they sit around everything (the API, the page, static files,
error responses) and a request that fails a check never reaches a route.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "narrascope_session"
TOKEN_COOKIE = SESSION_COOKIE  # the name the OpenAPI schema and older callers use
SESSION_TTL_S = 12 * 3600  # a page session ends after 12 hours without a request
MAX_SESSIONS = 1000  # live page sessions kept; the least recently used end first
TOKEN_HEADER = "x-narrascope-token"
TOKEN_QUERY = "token"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server reachable from this machine only.

    Host names other than ``localhost`` count as public: what they resolve to can change.
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Sessions:
    """The page's login sessions: random ids, known only to this server process.

    Why not a fixed value derived from the token: cookies are not kept apart by port, so
    another service on the same host name may receive the cookie; a random id expires
    (:data:`SESSION_TTL_S` after its last use), is one of at most :data:`MAX_SESSIONS`,
    and every id ends when the server restarts, while a digest of the token would open the
    server for as long as the token stays the same.
    """

    def __init__(
        self,
        ttl: float = SESSION_TTL_S,
        limit: int = MAX_SESSIONS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.limit = limit
        self.clock = clock
        # keyed by a digest, so a lookup's timing says nothing about a live id
        self._expires: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(session_id: str) -> bytes:
        return hashlib.sha256(session_id.encode("utf-8", "surrogateescape")).digest()

    def new(self) -> str:
        """A fresh session id (what the cookie holds)."""
        session_id = secrets.token_urlsafe(32)
        with self._lock:
            now = self.clock()
            while self._expires and (
                len(self._expires) >= self.limit or next(iter(self._expires.values())) <= now
            ):
                self._expires.popitem(last=False)  # least recently used (or expired) first
            self._expires[self._key(session_id)] = now + self.ttl
        return session_id

    def check(self, session_id: str) -> bool:
        """Whether ``session_id`` is a live session; using it extends it."""
        key = self._key(session_id)
        with self._lock:
            now = self.clock()
            expires = self._expires.get(key)
            if expires is None:
                return False
            if expires <= now:
                del self._expires[key]
                return False
            self._expires[key] = now + self.ttl
            self._expires.move_to_end(key)
            return True

    def __len__(self) -> int:
        return len(self._expires)


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}


async def send_json(
    send: Send, status: int, body: dict[str, Any], headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class SecurityHeaders:
    """Adds the CSP and friends to every response, HTML or not (JSON is never harmed)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


class TokenAuth:
    """With a token set, every request must present it; ``?token=`` on a page sets a cookie.

    API clients send ``Authorization: Bearer <token>`` or ``X-Narrascope-Token``; the page
    is opened once as ``/?token=...``, redirected to itself without the token (so it does
    not stay in the address bar or history) with a new session id (:class:`Sessions`) in
    an HttpOnly, SameSite=Strict cookie (Secure over https) that authenticates its own
    fetches.
    """

    def __init__(self, app: ASGIApp, token: str, sessions: Sessions | None = None) -> None:
        self.app = app
        self.token = token
        self.sessions = Sessions() if sessions is None else sessions

    def _presented(self, scope: Scope) -> bool:
        headers = _headers(scope)
        auth = headers.get("authorization", "")
        scheme, _, credentials = auth.partition(" ")
        if scheme.lower() == "bearer" and _same(credentials.strip(), self.token):
            return True
        if _same(headers.get(TOKEN_HEADER), self.token):
            return True
        jar = SimpleCookie()
        try:
            jar.load(headers.get("cookie", ""))
        except Exception:  # a malformed cookie header is simply no cookie
            return False
        morsel = jar.get(SESSION_COOKIE)
        return morsel is not None and self.sessions.check(morsel.value)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._presented(scope):
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), True)
        given = next((v for k, v in query if k == TOKEN_QUERY), None)
        if not path.startswith("/api") and _same(given, self.token):
            cookie = f"{SESSION_COOKIE}={self.sessions.new()}; Path=/; HttpOnly; SameSite=Strict"
            if scope.get("scheme") == "https":
                cookie += "; Secure"
            rest = urlencode([(k, v) for k, v in query if k != TOKEN_QUERY])
            location = (path or "/") + (f"?{rest}" if rest else "")
            await send(
                {
                    "type": "http.response.start",
                    "status": 303,
                    "headers": [
                        (b"location", location.encode()),
                        (b"set-cookie", cookie.encode()),
                        (b"content-length", b"0"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        await send_json(
            send,
            401,
            {
                "detail": "this server needs its token: send 'Authorization: Bearer <token>' "
                "(or the X-Narrascope-Token header), or open the page as /?token=<token>"
            },
            [(b"www-authenticate", b"Bearer")],
        )


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _host_name(netloc: str) -> str:
    """``[::1]:8000`` → ``::1``, ``localhost:8000`` → ``localhost``."""
    netloc = netloc.strip().lower()
    if netloc.startswith("["):
        return netloc[1 : netloc.find("]")] if "]" in netloc else netloc
    return netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc


class SameOrigin:
    """Stops other web sites from using the server through the user's browser.

    A page elsewhere can make the browser send a form POST to 127.0.0.1 (cross-site
    request forgery), and a host name it controls can be re-pointed at 127.0.0.1 (DNS
    rebinding). So requests that change data must come from the server's own origin, and,
    when ``allowed_hosts`` is given (a loopback server without a token), the Host header
    must name this machine.
    """

    def __init__(self, app: ASGIApp, allowed_hosts: Iterable[str] | None = None) -> None:
        self.app = app
        self.allowed = None if allowed_hosts is None else {h.lower() for h in allowed_hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        host = headers.get("host", "")
        if self.allowed is not None and _host_name(host) not in self.allowed:
            await send_json(
                send, 403, {"detail": "unexpected Host header; open the page as 127.0.0.1"}
            )
            return
        if scope.get("method") in _UNSAFE_METHODS:
            site = headers.get("sec-fetch-site")
            origin = headers.get("origin")
            foreign = site in ("cross-site", "same-site") or (
                origin is not None
                and origin != "null"
                and origin.split("://", 1)[-1].lower() != host.lower()
            )
            if foreign or origin == "null":
                await send_json(
                    send, 403, {"detail": "requests from other web sites are not accepted"}
                )
                return
        await self.app(scope, receive, send)


def too_large_detail(limit: int) -> str:
    return (
        f"request body is larger than the server's limit of {limit / 1e6:g} MB; "
        "send fewer or smaller documents per request, or start the server with a larger "
        "--max-body-mb"
    )


class BodyLimit:
    """Refuses bodies over ``limit`` bytes: at once from Content-Length, else while reading.

    A chunked body (no Content-Length) is counted as it arrives; passing the limit raises
    an HTTPException inside the route that reads it, which FastAPI turns into the 413.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _headers(scope).get("content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await send_json(send, 400, {"detail": "invalid Content-Length header"})
                return
            if size > self.limit:
                await send_json(send, 413, {"detail": too_large_detail(self.limit)})
                return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise HTTPException(413, too_large_detail(self.limit))
            return message

        await self.app(scope, counted, send)
