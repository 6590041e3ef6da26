"""A real OpenSSH sshd on loopback, for tests and benchmarks.

Reusable building blocks (the fixtures in ``tests/conftest.py`` wrap them):

    user = ensure_test_user()                    # "crvstest" when root, else yourself
    keys = make_keys(tmp_path)                   # host + client keypairs (ssh-keygen)
    with Sshd(tmp_path / "a", keys, user, "127.0.0.2") as server:
        server.port, server.known_hosts_line(), server.host_key_fingerprint
        server.authorize(user_home=...)          # already done: AuthorizedKeysFile is ours

Each sshd runs ``/usr/sbin/sshd -D -e -f CONFIG`` with its own config, host key,
authorized_keys and log file, on a free port picked at start (other developers run
tests concurrently on the same machine). Extra ``sshd_config`` lines (``ForceCommand``,
``ListenAddress`` for many addresses, ...) go in ``extra``; more accepted client keys in
``authorized``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
TEST_USER = "crvstest"


def sshd_available() -> str | None:
    """None when sshd can run here, else the reason to skip."""
    if not Path(SSHD).exists():
        return f"OpenSSH sshd not installed ({SSHD}); `apt-get install openssh-server`"
    if shutil.which("ssh-keygen") is None:
        return "ssh-keygen not installed (openssh-client)"
    return None


def ensure_test_user() -> str:
    """The account tests log in as: a plain unprivileged user (root's shell is slow).

    Created only when running as root and it does not exist yet; otherwise the
    current user (a non-root sshd can only log its own user in).
    """
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid()).pw_name
    # The suite's workers (pytest-xdist) start at once on a fresh machine: one creates the
    # account while the others wait, rather than useradd racing useradd.
    with open(Path(tempfile.gettempdir()) / "crvs-test-user.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            pwd.getpwnam(TEST_USER)
        except KeyError:
            subprocess.run(
                ["useradd", "--create-home", "--shell", "/bin/sh", TEST_USER],
                check=True,
                capture_output=True,
            )
        # UsePAM no refuses locked accounts: '*' = no password login, but not locked.
        subprocess.run(["usermod", "-p", "*", TEST_USER], check=True, capture_output=True)
    return TEST_USER


@dataclass(frozen=True)
class KeyPair:
    private: Path

    @property
    def public(self) -> Path:
        return self.private.with_name(self.private.name + ".pub")

    @property
    def public_line(self) -> str:
        """``ssh-ed25519 AAAA...`` without the comment."""
        return " ".join(self.public.read_text().split()[:2])

    def fingerprint(self) -> str:
        out = subprocess.run(
            ["ssh-keygen", "-l", "-E", "sha256", "-f", str(self.public)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return out.split()[1]


def make_key(path: Path, comment: str = "crvs-test") -> KeyPair:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
            check=True,
            capture_output=True,
        )
    return KeyPair(path)


def shared_tempdir(prefix: str = "crvs-sshd-") -> Path:
    """A temp dir the test user can read (pytest's tmp_path is 0700 under root)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


def free_port(address: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def wait_for_banner(address: str, port: int, timeout: float = 10.0) -> bool:
    """True once something on address:port speaks SSH (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((address, port), timeout=1) as s:
                s.settimeout(1)
                if s.recv(4).startswith(b"SSH-"):
                    return True
        except OSError:
            time.sleep(0.02)
    return False


class Sshd:
    """One sshd process; a context manager that stops it on exit."""

    def __init__(
        self,
        workdir: Path,
        user: str,
        client_key: KeyPair,
        address: str = "127.0.0.2",
        *,
        host_key: KeyPair | None = None,
        extra: list[str] | None = None,
        listen: list[str] | None = None,
        log_level: str = "DEBUG1",
        authorized: Sequence[KeyPair] = (),
    ) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.workdir.chmod(0o755)
        self.user = user
        self.client_key = client_key
        self.address = address
        self.host_key = host_key or make_key(self.workdir / "ssh_host_ed25519_key", "host")
        self.extra = extra or []
        self.listen = listen
        # DEBUG1 logs forwarded connections (the ProxyJump test reads them); benchmarks use ERROR.
        self.log_level = log_level
        # Keys accepted besides client_key (e.g. a node's own key, for node-to-node ssh).
        self.authorized = tuple(authorized)
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = self.workdir / "sshd.log"

    # -- what a client needs ---------------------------------------------------

    def known_hosts_line(self, address: str | None = None) -> str:
        return f"[{address or self.address}]:{self.port} {self.host_key.public_line}"

    @property
    def host_key_fingerprint(self) -> str:
        return self.host_key.fingerprint()

    # -- lifecycle -------------------------------------------------------------

    def _config(self, port: int) -> str:
        authorized = self.workdir / "authorized_keys"
        authorized.write_text(
            "".join(k.public.read_text() for k in (self.client_key, *self.authorized))
        )
        authorized.chmod(0o644)
        listen = self.listen or [self.address]
        lines = [
            *(f"ListenAddress {a}:{port}" for a in listen),
            f"HostKey {self.host_key.private}",
            f"AuthorizedKeysFile {authorized}",
            f"PidFile {self.workdir / 'sshd.pid'}",
            "StrictModes no",
            "UsePAM no",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PubkeyAuthentication yes",
            f"AllowUsers {self.user}",
            "MaxStartups 500:30:1000",
            "MaxSessions 100",
            "LoginGraceTime 30",
            "AllowTcpForwarding yes",
            "PrintMotd no",
            "PrintLastLog no",
            "UseDNS no",
            "Subsystem sftp internal-sftp",
            f"LogLevel {self.log_level}",
            *self.extra,
        ]
        path = self.workdir / "sshd_config"
        path.write_text("\n".join(lines) + "\n")
        return str(path)

    def start(self) -> Sshd:
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        last = ""
        for _attempt in range(5):
            port = free_port(self.address)
            config = self._config(port)
            check = subprocess.run([SSHD, "-t", "-f", config], capture_output=True, text=True)
            if check.returncode != 0:
                raise RuntimeError(f"sshd rejects its config: {check.stderr}")
            self.proc = subprocess.Popen(
                [SSHD, "-D", "-E", str(self.log), "-f", config],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            self.port = port
            if wait_for_banner(self.address, port, timeout=5):
                return self
            self.stop()
            last = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
        raise RuntimeError(f"sshd did not start on {self.address}: {last}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None

    def log_text(self) -> str:
        with contextlib.suppress(FileNotFoundError):
            return self.log.read_text(errors="replace")
        return ""

    def __enter__(self) -> Sshd:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
