"""`crvs-migrate serve --demo`: options, refusals, and the demo rendered in a real headless Chromium."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tui.cli import build_parser, main
from tui.cli import serve as cli_serve

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
TESSERACT = shutil.which("tesseract")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True), ("::1", True),
     ("0.0.0.0", False), ("192.0.2.10", False), ("demo.example.org", False)],
)  # fmt: skip
def test_loopback_classification(host: str, loopback: bool) -> None:
    assert cli_serve.is_loopback(host) is loopback


def test_defaults_bind_loopback() -> None:
    args = build_parser().parse_args(["serve", "--demo"])
    assert (args.host, args.port) == ("127.0.0.1", 8000)
    assert args.handler is cli_serve.serve


def test_app_command_quotes_the_sandbox_path() -> None:
    cmd = cli_serve.app_command(Path("/tmp/a dir/it's; rm -rf x"))
    assert shlex.split(cmd) == [
        sys.executable, "-m", "tui", "--demo", "--demo-dir", "/tmp/a dir/it's; rm -rf x",
        "--confine",
    ]  # fmt: skip


def test_refuses_to_serve_anything_but_the_demo(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve"]) == 2
    assert "only the demo can be served" in capsys.readouterr().err


def test_wildcard_host_needs_a_public_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--demo", "--host", "0.0.0.0"]) == 2
    assert "--public-url" in capsys.readouterr().err


def test_bad_port_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["serve", "--demo", "--port", "70000"])
    assert exc.value.code == 2
    assert "between 1 and 65535" in capsys.readouterr().err


def start_server(tmp_path: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    """A real ``crvs-migrate serve`` on 127.0.0.1; returns it, the address it printed
    (with its token) and its log. Stop it with ``stop_server``."""
    port = free_port()
    log = tmp_path / "serve.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "tui", "serve", "--demo", "--demo-dir", str(tmp_path / "demo"),
         "--port", str(port)],
        cwd=tmp_path, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "COLUMNS": "300"},
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while True:  # bounded: the sandbox is built (real git) before the server listens
        assert server.poll() is None, log.read_text()
        found = re.search(rf"Open (http://127\.0\.0\.1:{port}/\?token=[\w-]+)", log.read_text())
        if found:
            return server, found.group(1), log
        assert time.monotonic() < deadline, f"serve did not start:\n{log.read_text()}"
        time.sleep(0.1)


def stop_server(server: subprocess.Popen[bytes]) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)


def _serve(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", "serve", "--demo", "--demo-dir", str(tmp_path / "demo"),
         *extra],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _serve(tmp_path, "--port", str(port))
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "choose another --port" in result.stderr


def test_non_loopback_host_warns_about_no_authentication(tmp_path: Path) -> None:
    # A name that cannot resolve: the warning is printed, then the bind fails cleanly.
    result = _serve(tmp_path, "--host", "crvs-migrate-test.invalid", "--port", str(free_port()))
    assert "can drive this demo" in result.stderr and "token" in result.stderr
    assert "WARNING" in result.stderr
    assert result.returncode == 1


def _frame_read(text: str) -> bool:
    """The sidebar's title, first and last phases read back from the screenshot (the OCR
    may drop the dim phase numbers). Read as one block of lines (``--psm 6``), as a
    terminal is: the default page layout split the dim title from its column at times."""
    return (
        "Phases" in text
        and bool(re.search(r"(?:\b1\s+)?Prepare\b", text))
        and "Deploy to production" in text
    )


@pytest.mark.slow
@pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER and TESSERACT),
    reason="needs chromium, chromium-driver and tesseract-ocr (./dev.sh test installs them)",
)
def test_demo_renders_in_headless_chromium(tmp_path: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    server, url, log = start_server(tmp_path)
    driver = None
    try:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--window-size=1280,800",
        ):  # fmt: skip
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={tempfile.mkdtemp(dir=tmp_path)}")
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)

        t0 = time.monotonic()
        driver.get(url)
        first_byte = None
        text = ""
        shot = tmp_path / "serve-demo.png"
        deadline = time.monotonic() + 90  # generous: CI machines may be loaded
        # Bounded poll: the page marks its body once the app's first output arrives; then
        # read the screenshot back (the terminal is drawn on a canvas, not in the DOM).
        while time.monotonic() < deadline:
            if first_byte is None and driver.execute_script(
                "return document.body.classList.contains('-first-byte')"
            ):
                first_byte = time.monotonic() - t0
            if first_byte is not None:
                driver.save_screenshot(str(shot))
                ocr = subprocess.run(
                    [TESSERACT, str(shot), "-", "--psm", "6"],
                    capture_output=True,
                    text=True,
                    timeout=30,
                    # One thread: on two cores its threads spin against each other
                    # (7 s a screenshot here, against 1.1 s).
                    env={**os.environ, "OMP_THREAD_LIMIT": "1"},
                )
                text = ocr.stdout
                if _frame_read(text):
                    break
            time.sleep(0.2)
        rendered = time.monotonic() - t0
        assert first_byte is not None, "the app never sent output to the page"
        assert _frame_read(text), (
            f"sidebar not on the screenshot {shot}:\n{text}\nserver log:\n{log.read_text()[-3000:]}"
        )
        print(
            f"\nserve: first output {first_byte:.2f} s, sidebar readable {rendered:.2f} s "
            f"after page load; screenshot {shot}"
        )
        keep = os.environ.get("CRVS_KEEP_SCREENSHOT")
        if keep:
            shutil.copy(shot, keep)
    finally:
        if driver is not None:
            driver.quit()
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=5)
    # The app processes started for the browser session ended with the server.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(server.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.killpg(server.pid, signal.SIGKILL)
        pytest.fail("app processes outlived the server")
