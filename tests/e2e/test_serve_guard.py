"""`crvs-migrate serve`: only the printed address (with its token) opens the demo, the
Host and the WebSocket's Origin must be the served address, and no refused request
starts an app process. Real HTTP and WebSocket clients against a real server."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest

from tests.e2e.test_serve import start_server, stop_server


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("serve")
    server, url, _log = start_server(tmp)
    yield server, url, tmp
    stop_server(server)


def _parts(url: str) -> tuple[str, str, str]:
    u = urlsplit(url)
    return f"{u.scheme}://{u.netloc}", u.netloc, u.query.removeprefix("token=")


async def _get(url: str, **headers: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as r:
        return r.status, await r.text()


async def _ws(url: str, origin: str | None) -> int | bytes:
    """The handshake's refusal status, or the app's first output once connected."""
    headers = {"Origin": origin} if origin else {}
    async with aiohttp.ClientSession() as http:
        try:
            async with http.ws_connect(url, headers=headers) as ws:
                async with asyncio.timeout(60):
                    while True:
                        msg = await ws.receive()
                        if msg.type == aiohttp.WSMsgType.BINARY and msg.data:
                            return bytes(msg.data)
                        assert msg.type not in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status


def test_the_page_needs_the_token(served) -> None:
    _server, url, _tmp = served
    base, _netloc, token = _parts(url)
    assert asyncio.run(_get(base + "/"))[0] == 403
    assert asyncio.run(_get(base + "/?token=" + "x" * len(token)))[0] == 403
    status, page = asyncio.run(_get(url))
    assert status == 200
    assert f"/ws/{token}" in page


def test_another_host_name_is_refused(served) -> None:
    """A DNS-rebinding page reaches 127.0.0.1 under its own name: refused."""
    _server, url, _tmp = served
    status, _ = asyncio.run(_get(url, Host="evil.example"))
    assert status == 403


def test_a_socket_from_another_site_starts_nothing(served) -> None:
    server, url, tmp = served
    base, netloc, token = _parts(url)
    socket_url = f"ws://{netloc}/ws/{token}?width=80&height=24"
    session_file = tmp / "demo" / "state" / "session.toml"
    before = session_file.read_bytes() if session_file.exists() else None
    tries = {
        "evil origin": (socket_url, "http://evil.example"),
        "no origin": (socket_url, None),
        "look-alike origin": (socket_url, base + ".evil.example"),
        "wrong token": (f"ws://{netloc}/ws/{'y' * len(token)}?width=80", base),
        "no token": (f"ws://{netloc}/ws?width=80", base),
    }
    for what, (target, origin) in tries.items():
        result = asyncio.run(_ws(target, origin))
        assert result in (403, 404), f"{what}: {result!r}"
        assert _children(server.pid) == [], f"{what} started an app process"
    after = session_file.read_bytes() if session_file.exists() else None
    assert after == before


def test_the_served_page_drives_the_demo(served) -> None:
    server, url, _tmp = served
    base, netloc, token = _parts(url)
    first = asyncio.run(_ws(f"ws://{netloc}/ws/{token}?width=80&height=24", base))
    assert isinstance(first, bytes) and first  # the app process answered
    # Its app process ends with the socket (bounded wait).
    deadline = time.monotonic() + 20
    while _children(server.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _children(server.pid) == []
