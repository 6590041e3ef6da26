"""textual-serve with a door: a secret token, Host and Origin checked (``crvs-migrate serve``).

textual-serve starts an app process for every WebSocket that connects, and any web page
a browser visits can open a WebSocket to a server on loopback. So, before any app
process starts:
- every request must name this server as its ``Host`` (a DNS-rebinding page names its
  own host);
- the page and the socket need the random token printed at start (``/?token=…`` for
  the page, ``/ws/<token>`` for the socket: textual-serve's script appends its own
  query string to the socket URL);
- the socket's ``Origin`` must be the served URL's (another site's page says its own).
Tracebacks in the server's log carry no local variables.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web
from rich.logging import RichHandler
from textual_serve.server import Server

log = logging.getLogger("crvs-migrate.serve")


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


class GuardedServer(Server):
    def __init__(self, command: str, *, token: str, **kwargs: Any) -> None:
        super().__init__(command, **kwargs)
        self.token = token
        self.expected_host = urlsplit(self.public_url).netloc.lower()
        self.expected_origin = _origin(self.public_url)

    @property
    def page_url(self) -> str:
        return f"{self.public_url.rstrip('/')}/?token={self.token}"

    @property
    def socket_url(self) -> str:
        scheme = "wss" if self.public_url.startswith("https") else "ws"
        rest = self.public_url.split(":", 1)[1].rstrip("/")
        return f"{scheme}:{rest}/ws/{self.token}"

    def initialize_logging(self) -> None:
        logging.basicConfig(
            level="DEBUG" if self.debug else "INFO",
            format="%(message)s",
            datefmt="[%X]",
            handlers=[
                RichHandler(
                    show_path=False,
                    show_time=False,
                    rich_tracebacks=True,
                    tracebacks_show_locals=False,
                    console=self.console,
                )
            ],
        )

    async def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        app.add_routes(
            [
                web.get("/", self.handle_guarded_index, name="index"),
                web.get("/ws/{token}", self.handle_websocket, name="websocket"),
                web.get("/download/{key}", self.handle_download, name="download"),
                web.static("/static", self.statics_path, name="static"),
            ]
        )
        app.on_startup.append(self.on_startup)
        app.on_shutdown.append(self.on_shutdown)
        return app

    def _token_ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.host.lower() != self.expected_host:
            log.warning("refused a request for host %r", request.host[:100])
            raise web.HTTPForbidden(text=f"This server answers only as {self.public_url}.\n")
        path = request.path
        if path == "/":
            if not self._token_ok(request.query.get("token")):
                raise web.HTTPForbidden(
                    text="Open the address crvs-migrate serve printed (it holds a token).\n"
                )
        elif path.startswith("/ws/"):
            if not self._token_ok(request.match_info.get("token")):
                raise web.HTTPForbidden(text="Bad token.\n")
            origin = request.headers.get("Origin", "")
            if origin.lower() != self.expected_origin:
                log.warning("refused a WebSocket from origin %r", origin[:100])
                raise web.HTTPForbidden(text="This page may not drive crvs-migrate.\n")
        response = await handler(request)
        if path == "/":
            # The token is in the page's address: never send it on as a referrer, and
            # never let another site frame the page.
            response.headers["Referrer-Policy"] = "no-referrer"
            response.headers["X-Frame-Options"] = "DENY"
            response.headers["Cache-Control"] = "no-store"
        return response

    @aiohttp_jinja2.template("app_index.html")
    async def handle_guarded_index(self, request: web.Request) -> dict[str, Any]:
        font_size = request.query.get("fontsize", "16")
        return {
            "font_size": int(font_size) if font_size.isdigit() else 16,
            "app_websocket_url": self.socket_url,
            "config": {"static": {"url": f"{self.public_url.rstrip('/')}/static/"}},
            "application": {"name": self.title},
        }

    async def on_startup(self, app: web.Application) -> None:
        self.console.print(f"Open {self.page_url}", highlight=False, markup=False, soft_wrap=True)
        self.console.print(
            "(the token in it is needed; anyone with this address drives the demo)",
            highlight=False,
            markup=False,
        )
        self.console.print("Press Ctrl+C to stop.", highlight=False, markup=False)
