"""SSH to the operator's servers with asyncssh, the way the operator's own ``ssh`` would.

Reusable by every feature that talks to a server::

    from tasks.servers.ssh import SshOptions, SshTarget, open_node, run

    async with open_node(SshTarget("203.0.113.10", user="root"), SshOptions()) as conn:
        result = await run(conn, ["ls", "-la", "/data/backups"], timeout=20)
        result.stdout  # decoded with replacement; NOT yet stripped of control sequences

* ``~/.ssh/config`` is honoured (Host aliases, HostName, User, Port, IdentityFile,
  ProxyJump) and so is the ssh-agent (``SSH_AUTH_SOCK``).
* ProxyJump hops are opened here, one by one, with the same options (known_hosts, keys),
  and handed to asyncssh as ``tunnel=``: a string tunnel would open the hop with
  asyncssh's defaults.
* Host keys are always checked against known_hosts. An unknown key raises ``SshFailure``
  of kind ``UNKNOWN_HOST_KEY`` carrying the key (``HostKeyInfo``) so the operator can
  compare the fingerprint and call ``trust_host_key``; a changed key is ``CHANGED_HOST_KEY``
  with the ``ssh-keygen -R`` advice; a key marked ``@revoked`` is ``REVOKED_HOST_KEY`` and a
  failed ``@cert-authority`` check ``CERT_AUTHORITY``, both refused and never offered for
  trust. A key met on a ProxyJump hop says so (``HostKeyInfo.jump_for``). Nothing is ever
  accepted silently. known_hosts is read here, line by line: a line that is not UTF-8 or
  not an entry is named by its number, never quoted.
* Values are data: host, user, port and key file are validated (``tasks.names``) before
  asyncssh sees them (it expands the host into ``ProxyCommand ... %h``), and so are the
  ProxyJump hops; a bad one is ``INVALID`` and nothing connects.
* Every failure is an ``SshFailure`` (a ``CrvsError``) with a distinct ``kind`` and a
  readable message: authentication, refused, DNS, timeout, lost connection, ...

asyncssh is imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import socket
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import field, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.errors import CrvsError
from tasks.lean import dataclass

if TYPE_CHECKING:
    import asyncssh

# Output kept per command: a hostile or broken node cannot exhaust our memory.
MAX_OUTPUT = 256 * 1024
MAX_JUMPS = 5
# Commands run_batch does not wrap in timeout(1) (the batch's own deadline still holds).
NEVER_BLOCK = frozenset({"cat", "nproc", "printf", "echo", "true", "hostname"})


class FailureKind(StrEnum):
    UNKNOWN_HOST_KEY = "unknown_host_key"
    CHANGED_HOST_KEY = "changed_host_key"
    AUTH = "auth"
    REFUSED = "refused"
    DNS = "dns"
    TIMEOUT = "timeout"
    LOST = "lost"
    UNREACHABLE = "unreachable"
    CONFIG = "config"
    PROTOCOL = "protocol"
    REVOKED_HOST_KEY = "revoked_host_key"
    CERT_AUTHORITY = "cert_authority"
    INVALID = "invalid"


@dataclass(frozen=True)
class HostKeyInfo:
    """A server's host key as presented, for the operator to compare and trust."""

    host: str
    port: int
    algorithm: str
    fingerprint: str  # SHA256:..., as `ssh-keygen -lf` prints it
    public_key: str  # "ssh-ed25519 AAAA...", the known_hosts key part
    # Set when this is the key of a ProxyJump hop on the way to that host, not its own.
    jump_for: str = ""

    @property
    def known_hosts_name(self) -> str:
        return known_hosts_name(self.host, self.port)

    def to_state(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "algorithm": self.algorithm,
            "fingerprint": self.fingerprint,
            "public_key": self.public_key,
        }
        if self.jump_for:
            data["jump_for"] = self.jump_for
        return data

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> HostKeyInfo:
        return cls(
            str(data["host"]),
            int(data["port"]),
            str(data["algorithm"]),
            str(data["fingerprint"]),
            str(data["public_key"]),
            str(data.get("jump_for") or ""),
        )


class SshFailure(CrvsError):
    """A node could not be reached or used; ``kind`` says why, ``message`` says it plainly."""

    def __init__(
        self,
        kind: FailureKind,
        message: str,
        *,
        host: str = "",
        host_key: HostKeyInfo | None = None,
    ) -> None:
        self.kind = kind
        self.host = host
        self.host_key = host_key
        super().__init__(message, _TITLES[kind])


_TITLES = {
    FailureKind.UNKNOWN_HOST_KEY: "Unknown host key",
    FailureKind.CHANGED_HOST_KEY: "Host key changed",
    FailureKind.AUTH: "Authentication failed",
    FailureKind.REFUSED: "Connection refused",
    FailureKind.DNS: "Host name not found",
    FailureKind.TIMEOUT: "Timed out",
    FailureKind.LOST: "Connection lost",
    FailureKind.UNREACHABLE: "Host unreachable",
    FailureKind.CONFIG: "SSH setup problem",
    FailureKind.PROTOCOL: "SSH error",
    FailureKind.REVOKED_HOST_KEY: "Host key revoked",
    FailureKind.CERT_AUTHORITY: "Host certificate refused",
    FailureKind.INVALID: "Invalid node",
}


@dataclass(frozen=True)
class SshTarget:
    """Where to connect: a host (or ~/.ssh/config alias) and optional overrides."""

    host: str
    port: int | None = None
    user: str | None = None
    key_file: str | None = None

    @classmethod
    def of(cls, node: Any) -> SshTarget:
        """From anything with host/port/user/key_file (e.g. ``tasks.servers.inventory.Node``)."""
        return cls(
            node.host,
            getattr(node, "port", None),
            getattr(node, "user", None),
            getattr(node, "key_file", None),
        )


def _default_known_hosts() -> Path:
    return Path("~/.ssh/known_hosts").expanduser()


@dataclass(frozen=True)
class SshOptions:
    """How to connect. Defaults follow the operator's OpenSSH setup."""

    known_hosts: Path = field(default_factory=_default_known_hosts)
    # None: ~/.ssh/config when it exists. () : no config file at all.
    config_files: tuple[Path, ...] | None = None
    # Keys tried in addition to IdentityFile / ~/.ssh/id_* (e.g. --identity).
    client_keys: tuple[Path, ...] = ()
    # None: $SSH_AUTH_SOCK. "" : no agent.
    agent_path: str | None = None
    connect_timeout: float = 10.0
    login_timeout: float = 15.0
    command_timeout: float = 20.0

    def resolved_config(self) -> list[str]:
        if self.config_files is None:
            default = Path("~/.ssh/config").expanduser()
            return [str(default)] if default.is_file() else []
        return [str(p) for p in self.config_files if Path(p).is_file()]


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    exit_status: int | None
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool = False
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_status == 0 and not self.timed_out

    @property
    def command(self) -> str:
        """The command as shown: secrets masked (``tasks.masking``)."""
        from tasks.masking import mask_argv

        return shlex.join(mask_argv(self.argv))


def known_hosts_name(host: str, port: int) -> str:
    """The host pattern OpenSSH writes: ``host`` on port 22, else ``[host]:port``."""
    return host if port == 22 else f"[{host}]:{port}"


MAX_KNOWN_HOSTS_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class KnownHosts:
    """known_hosts as read by us: asyncssh's parsed form, and where each marker line is."""

    path: Path
    parsed: Any  # asyncssh.SSHKnownHosts
    # (marker, line number, the line): @revoked and @cert-authority entries
    markers: tuple[tuple[str, int, str], ...] = ()

    def marker_lines(self, marker: str, host: str, port: int, key: Any = None) -> list[int]:
        """Lines with ``@marker`` that apply to ``host``:``port`` (and to ``key``, if given)."""
        import asyncssh

        addr = host if _is_ip(host) else ""
        lines = []
        for m, n, text in self.markers:
            if m != marker:
                continue
            one = asyncssh.SSHKnownHosts(text)
            if marker == "revoked":
                # Both lookups: SSHKnownHosts.match() drops a "[host]:port" entry that has
                # only @revoked keys (it retries without the port), which hid revocations.
                lookup = getattr(one, "_match", None) or one.match
                keys = list(lookup(host, addr, port if port != 22 else None)[2])
                keys += list(lookup(host, addr, None)[2])
            else:
                keys = list(one.match(host, addr, port)[1])  # as the connection looks it up
            if keys and (key is None or any(k == key for k in keys)):
                lines.append(n)
        return lines

    def trusted_keys(self, host: str, port: int) -> list[Any]:
        addr = host if _is_ip(host) else ""
        return list(self.parsed.match(host, addr, port)[0])


def read_known_hosts(path: Path) -> KnownHosts:
    """Read ``path`` line by line; a line that cannot be used is named by number, not quoted."""
    import asyncssh

    path = Path(path).expanduser()
    known = asyncssh.SSHKnownHosts()
    markers: list[tuple[str, int, str]] = []
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_KNOWN_HOSTS_BYTES + 1)
    except FileNotFoundError:
        return KnownHosts(path, known)
    except OSError as exc:
        raise SshFailure(
            FailureKind.CONFIG,
            f"{path} cannot be read ({exc.strerror}): no host key can be checked",
        ) from None
    if len(raw) > MAX_KNOWN_HOSTS_BYTES:
        raise SshFailure(FailureKind.CONFIG, f"{path} is too large to be a known_hosts file")
    for n, line in enumerate(raw.split(b"\n"), 1):
        try:
            text = line.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise SshFailure(
                FailureKind.CONFIG,
                f"{path} is not UTF-8 text (line {n}): crvs-migrate checks host keys against "
                f"it and cannot read that line. Fix or delete line {n} (for example with "
                f"`sed -n {n}p {path} | od -c` to see it), then check again.",
            ) from None
        if not text or text.startswith("#"):
            continue
        try:
            known.load(text)
        except ValueError:
            raise SshFailure(
                FailureKind.CONFIG,
                f"{path}, line {n}, is not a known_hosts entry (host pattern, key type, key): "
                "fix or delete it, then check again.",
            ) from None
        if text.startswith(("@revoked", "@cert-authority")):
            markers.append((text[1:].split(None, 1)[0], n, text))
    return KnownHosts(path, known, tuple(markers))


def validate_target(target: SshTarget, what: str = "") -> SshTarget:
    """``target`` with every value checked, or ``SshFailure`` of kind ``INVALID``.

    asyncssh expands the host and user into ssh config values (``ProxyCommand ... %h %r``),
    so nothing reaches it unchecked.
    """
    from tasks.names import validate_host, validate_key_path, validate_port, validate_user

    try:
        return SshTarget(
            validate_host(target.host),
            validate_port(target.port) if target.port else None,
            validate_user(target.user) if target.user else None,
            validate_key_path(target.key_file) if target.key_file else None,
        )
    except CrvsError as exc:
        from tasks.names import quoted

        name = quoted(target.host)
        raise SshFailure(
            FailureKind.INVALID,
            f"{what or name}: {exc.message} Not connected.",
            host=target.host if _safe_name(target.host) else "",
        ) from None


def _safe_name(host: str) -> bool:
    from tasks.names import validate_host

    try:
        validate_host(host)
    except CrvsError:
        return False
    return True


def _client_options(
    target: SshTarget, options: SshOptions, known: KnownHosts | None = None, **extra: Any
) -> Any:
    import asyncssh

    if known is None:
        known = read_known_hosts(options.known_hosts)
    config = _checked_config(options)
    kwargs: dict[str, Any] = dict(
        config=config,
        host=target.host,
        port=target.port if target.port else (),
        username=target.user if target.user else (),
        known_hosts=known.parsed,
        connect_timeout=options.connect_timeout,
        login_timeout=options.login_timeout,
        # Our own keepalive notices a node that vanishes mid-check.
        keepalive_interval=max(5.0, options.command_timeout / 2),
        keepalive_count_max=2,
        **extra,
    )
    keys = [str(Path(k).expanduser()) for k in options.client_keys]
    if target.key_file:
        keys.insert(0, str(Path(target.key_file).expanduser()))
    if keys:
        kwargs["client_keys"] = keys
    if options.agent_path is not None:
        kwargs["agent_path"] = options.agent_path or None
    try:
        return asyncssh.SSHClientConnectionOptions(**kwargs)
    except UnicodeDecodeError:
        # An Include'd config file (the ones given were checked): say so, quote nothing.
        raise SshFailure(
            FailureKind.CONFIG,
            "an ssh config file (or one it includes) is not UTF-8 text",
            host=target.host,
        ) from None
    except FileNotFoundError as exc:
        raise SshFailure(
            FailureKind.CONFIG,
            f"key or config file not found: {exc.filename}",
            host=target.host,
        ) from None
    except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError, ValueError) as exc:
        raise SshFailure(
            FailureKind.CONFIG,
            f"cannot use the SSH settings for {target.host}: {exc}",
            host=target.host,
        ) from None


def _checked_config(options: SshOptions) -> list[str]:
    """The ssh config files, each readable UTF-8 text (asyncssh would fail on bytes)."""
    files = options.resolved_config()
    for name in files:
        try:
            Path(name).read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raw = Path(name).read_bytes()
            line = raw[: exc.start].count(b"\n") + 1
            raise SshFailure(
                FailureKind.CONFIG,
                f"the ssh config {name} is not UTF-8 text (line {line}): fix that line",
            ) from None
        except OSError as exc:
            raise SshFailure(
                FailureKind.CONFIG, f"the ssh config {name} cannot be read ({exc.strerror})"
            ) from None
    return files


def _parse_jump(spec: str) -> SshTarget:
    user = None
    if "@" in spec:
        user, spec = spec.rsplit("@", 1)
    port = None
    if spec.startswith("[") and "]" in spec:
        host, _, rest = spec[1:].partition("]")
        if rest.startswith(":"):
            port = int(rest[1:])
    elif spec.count(":") == 1:
        host, p = spec.split(":")
        port = int(p)
    else:
        host = spec
    return SshTarget(host, port, user)


@contextlib.asynccontextmanager
async def open_node(
    target: SshTarget | Any, options: SshOptions | None = None
) -> AsyncIterator[asyncssh.SSHClientConnection]:
    """Connect to ``target`` (through its ProxyJump hops, if any); close everything after.

    Raises ``SshFailure`` for every way a connection can fail.
    """
    if not isinstance(target, SshTarget):
        target = SshTarget.of(target)
    target = validate_target(target)
    options = options or SshOptions()
    hops: list[Any] = []
    conn = None
    try:
        known = read_known_hosts(options.known_hosts)
        conn = await _connect(target, options, hops, depth=0, known=known)
        try:
            yield conn
        except (OSError, EOFError) as exc:
            raise _translate(exc, target.host, options) from None
        except Exception as exc:
            import asyncssh

            if isinstance(exc, asyncssh.Error):
                raise _translate(exc, target.host, options) from None
            raise
    finally:
        for c in ([conn] if conn is not None else []) + hops[::-1]:
            c.close()
        for c in ([conn] if conn is not None else []) + hops[::-1]:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(c.wait_closed(), 2)


async def _connect(
    target: SshTarget,
    options: SshOptions,
    hops: list[Any],
    depth: int,
    known: KnownHosts | None = None,
) -> Any:
    if known is None:
        known = read_known_hosts(options.known_hosts)
    opts = _client_options(target, options, known)
    tunnel = None
    if isinstance(opts.tunnel, str) and opts.tunnel and opts.tunnel.lower() != "none":
        if depth >= MAX_JUMPS:
            raise SshFailure(
                FailureKind.CONFIG, f"too many ProxyJump hops to {target.host}", host=target.host
            )
        for i, spec in enumerate(opts.tunnel.split(",")):
            try:
                hop = validate_target(_parse_jump(spec.strip()), "a ProxyJump hop")
            except (ValueError, SshFailure):
                raise SshFailure(
                    FailureKind.CONFIG,
                    f"a ProxyJump hop for {target.host} in the ssh config is not a usable "
                    "[user@]host[:port]",
                    host=target.host,
                ) from None
            try:
                if i == 0:
                    tunnel = await _connect(hop, options, hops, depth + 1, known)
                else:
                    tunnel = await _connect_one(hop, options, tunnel, known=known)
                    hops.append(tunnel)
                    continue
            except SshFailure as exc:
                key = exc.host_key
                if key is not None and not key.jump_for:
                    key = replace(key, jump_for=target.host)
                raise SshFailure(
                    exc.kind,
                    f"via jump host {hop.host}: {exc.message}",
                    host=exc.host,
                    host_key=key,
                ) from None
            hops.append(tunnel)
    elif opts.tunnel and not isinstance(opts.tunnel, str):
        tunnel = opts.tunnel
    return await _connect_one(target, options, tunnel, opts, known)


async def _connect_one(
    target: SshTarget,
    options: SshOptions,
    tunnel: Any,
    opts: Any = None,
    known: KnownHosts | None = None,
) -> Any:
    import asyncssh

    if known is None:
        known = read_known_hosts(options.known_hosts)
    if opts is None:
        opts = _client_options(target, options, known)
    try:
        # The overall wait_for is a backstop: connect_timeout covers TCP and the
        # handshake, login_timeout the authentication.
        return await asyncio.wait_for(
            # port and config again: connect() would otherwise reset them to defaults.
            asyncssh.connect(
                target.host,
                target.port or (),
                config=_checked_config(options),
                options=opts,
                tunnel=tunnel,
            ),
            options.connect_timeout + options.login_timeout + 1,
        )
    except (asyncssh.HostKeyNotVerifiable, asyncssh.KeyExchangeFailed) as exc:
        raise await _host_key_failure(opts, tunnel, options, exc, known) from None
    except (asyncssh.DisconnectError, ConnectionResetError, BrokenPipeError, EOFError) as exc:
        # Trusting only a CA, asyncssh offers certificate key types alone: a server with
        # plain keys hangs up during key exchange. Name that, not "connection lost".
        host = opts.host_key_alias or opts.host
        if known.marker_lines("cert-authority", host, int(opts.port or 22)):
            raise await _host_key_failure(opts, tunnel, options, exc, known) from None
        raise _translate(exc, target.host, options) from None
    except (TimeoutError, OSError, asyncssh.Error) as exc:
        raise _translate(exc, target.host, options) from None


async def _host_key_failure(
    opts: Any, tunnel: Any, options: SshOptions, exc: Exception, known: KnownHosts
) -> SshFailure:
    """Name why the key was refused: revoked, certificate authority, changed or unknown."""
    import asyncssh

    host = opts.host_key_alias or opts.host
    port = int(opts.port or 22)
    try:
        key = await asyncio.wait_for(_server_key(opts, tunnel), options.connect_timeout + 1)
    except (TimeoutError, OSError, asyncssh.Error) as err:
        return _translate(err, host, options)
    if key is None:
        return SshFailure(
            FailureKind.PROTOCOL, f"{host} did not present a host key ({exc})", host=host
        )
    info = HostKeyInfo(
        host=host,
        port=port,
        algorithm=key.get_algorithm(),
        fingerprint=key.get_fingerprint("sha256"),
        public_key=key.export_public_key("openssh").decode("ascii").strip(),
    )
    name = info.known_hosts_name
    reason = str(exc).lower()
    where = known.path
    revoked = known.marker_lines("revoked", host, port, key)
    if revoked or "revoked" in reason:
        what = "its certificate authority's key" if "ca key is revoked" in reason else "it"
        lines = f" (line {', '.join(map(str, revoked))})" if revoked else ""
        return SshFailure(
            FailureKind.REVOKED_HOST_KEY,
            f"the host key of {name} ({info.fingerprint}) is refused: {what} is marked "
            f"@revoked in {where}{lines}. A revoked key is never trusted; if the server was "
            "given a new key, compare its fingerprint on the server's console.",
            host=host,
        )
    authorities = known.marker_lines("cert-authority", host, port)
    if authorities:
        lines = ", ".join(map(str, authorities))
        if "ca key is not trusted" in reason:
            why = "its host certificate is signed by a certificate authority not trusted for it"
        elif "principal" in reason:
            why = f"its host certificate is not issued for the name {host}"
        elif "expired" in reason or "not yet valid" in reason:
            why = "its host certificate has expired or is not valid yet"
        elif "not trusted" in reason or isinstance(
            exc, asyncssh.DisconnectError | ConnectionResetError | BrokenPipeError | EOFError
        ):
            why = (
                f"it presented a plain host key ({info.fingerprint}), not a certificate signed "
                "by that authority"
            )
        else:
            why = f"its host certificate was not accepted ({exc})"
        return SshFailure(
            FailureKind.CERT_AUTHORITY,
            f"{where} trusts a certificate authority for {name} (@cert-authority, line "
            f"{lines}), and {why}. Refused; ask whoever runs that CA to (re)sign the "
            "server's host key.",
            host=host,
        )
    if known.trusted_keys(host, port):
        return SshFailure(
            FailureKind.CHANGED_HOST_KEY,
            f"the host key of {name} CHANGED (now {info.fingerprint}). "
            "This can mean someone is intercepting the connection, or the server was "
            "reinstalled. Refused. If you know why it changed, remove the old key with "
            f"`ssh-keygen -R '{name}' -f {where}` and check again.",
            host=host,
            host_key=info,
        )
    return SshFailure(
        FailureKind.UNKNOWN_HOST_KEY,
        f"{name} is not in {where}. Its {info.algorithm} key "
        f"fingerprint is {info.fingerprint}: compare it with the server's own "
        "(`ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub` on its console) before trusting it.",
        host=host,
        host_key=info,
    )


async def _server_key(opts: Any, tunnel: Any) -> Any:
    import asyncssh

    return await asyncssh.get_server_host_key(
        opts.host,
        int(opts.port or 22),
        tunnel=tunnel if tunnel is not None else (),
        config=None,
    )


def _is_ip(host: str) -> bool:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
            return True
        except OSError:
            continue
    return False


def _translate(exc: BaseException, host: str, options: SshOptions) -> SshFailure:
    """Map an exception to a distinct, readable reason."""
    import asyncssh

    if isinstance(exc, SshFailure):
        return exc
    if isinstance(exc, asyncssh.PermissionDenied):
        return SshFailure(
            FailureKind.AUTH,
            f"{host} refused our keys (authentication failed): check the user name and that "
            "your key is in the server's authorized_keys or loaded in ssh-agent",
            host=host,
        )
    if isinstance(exc, ConnectionRefusedError):
        return SshFailure(
            FailureKind.REFUSED,
            f"{host} refused the connection: nothing listens on that port (is sshd running, is the port right?)",
            host=host,
        )
    if isinstance(exc, socket.gaierror):
        return SshFailure(
            FailureKind.DNS, f"the name {host} cannot be resolved (DNS): {exc.strerror}", host=host
        )
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return SshFailure(
            FailureKind.TIMEOUT,
            f"{host} did not answer in time (connect {options.connect_timeout:g}s, login "
            f"{options.login_timeout:g}s): a firewall, a wrong address, or an overloaded server",
            host=host,
        )
    if isinstance(exc, asyncssh.ConnectionLost | ConnectionResetError | BrokenPipeError | EOFError):
        return SshFailure(FailureKind.LOST, f"the connection to {host} was lost: {exc}", host=host)
    if isinstance(exc, asyncssh.DisconnectError):
        return SshFailure(
            FailureKind.LOST, f"{host} closed the connection: {exc.reason}", host=host
        )
    if isinstance(exc, OSError) and exc.errno is not None:
        return SshFailure(
            FailureKind.UNREACHABLE, f"{host} cannot be reached: {exc.strerror or exc}", host=host
        )
    return SshFailure(FailureKind.PROTOCOL, f"SSH to {host} failed: {exc}", host=host)


async def run(
    conn: Any,
    argv: Sequence[str],
    timeout: float = 20.0,
    *,
    max_output: int = MAX_OUTPUT,
) -> CommandResult:
    """Run ``argv`` on the node (quoted with ``shlex.join`` for the remote shell).

    Never raises for the command's own failure: a non-zero exit, a timeout
    (``timed_out``) and output beyond ``max_output`` (``truncated``) are in the result.
    A lost connection raises ``SshFailure`` (kind ``LOST``).
    """
    import asyncssh

    argv = tuple(argv)
    started = time.monotonic()
    out: list[str] = []
    err: list[str] = []
    sizes = [0]
    truncated = False

    async def drain(stream: Any, sink: list[str]) -> None:
        nonlocal truncated
        while True:
            data = await stream.read(65536)
            if not data:
                return
            if sizes[0] >= max_output:
                truncated = True
                raise _Enough
            room = max_output - sizes[0]
            sink.append(data[:room])
            sizes[0] += min(len(data), room)
            if len(data) > room:
                truncated = True
                raise _Enough

    process = None
    timed_out = False
    try:
        process = await asyncio.wait_for(
            conn.create_process(shlex.join(argv), encoding="utf-8", errors="replace"), timeout
        )
        process.stdin.write_eof()
        async with asyncio.timeout(timeout - (time.monotonic() - started)):
            try:
                await asyncio.gather(drain(process.stdout, out), drain(process.stderr, err))
            except _Enough:
                pass
            if not truncated:
                await process.wait_closed()
    except TimeoutError:
        timed_out = True
    except (
        asyncssh.ConnectionLost,
        asyncssh.DisconnectError,
        ConnectionResetError,
        BrokenPipeError,
    ) as exc:
        raise _translate(
            exc, str(conn.get_extra_info("peername", ("node",))[0]), SshOptions()
        ) from None
    except asyncssh.ChannelOpenError as exc:
        if getattr(conn, "is_closed", lambda: False)():
            # Not a refusal: the connection went away (a dropped link, a killed sshd).
            raise SshFailure(FailureKind.LOST, f"the connection was lost: {exc.reason}") from None
        raise SshFailure(
            FailureKind.PROTOCOL, f"the node refused a session channel: {exc.reason}"
        ) from None
    finally:
        if process is not None and (timed_out or truncated):
            process.close()
    exit_status = None if (timed_out or truncated or process is None) else process.exit_status
    return CommandResult(
        argv=argv,
        exit_status=exit_status,
        stdout="".join(out),
        stderr="".join(err),
        duration_s=time.monotonic() - started,
        timed_out=timed_out,
        truncated=truncated,
    )


async def run_batch(
    conn: Any,
    commands: Sequence[Sequence[str]],
    timeout: float = 20.0,
    *,
    max_output: int = MAX_OUTPUT,
) -> list[CommandResult]:
    """Run several commands one after the other on ONE channel; a result per command.

    One remote shell instead of one per command: on a cluster of many nodes this halves
    the work of every sshd. Each command runs under the remote ``timeout`` (coreutils)
    so one hung command does not hide the others; its own stdout, stderr and exit status
    are recovered from markers carrying a random nonce (output cannot forge them ahead
    of time). Commands that did not finish (whole batch timed out or output cut) come
    back ``timed_out`` or ``truncated``.
    """
    import re
    import secrets

    nonce = f"crvs-{secrets.token_hex(8)}"
    seconds = max(1, int(timeout))
    parts = []
    for i, argv in enumerate(commands):
        # timeout(1) costs a process per command: only for commands that can hang
        # (docker with a stuck daemon, df on a dead mount); reading /proc never blocks.
        guard = "" if argv and argv[0] in NEVER_BLOCK else f"timeout -k 2 {seconds} "
        parts.append(f"{guard}{shlex.join(argv)}")
        parts.append(f"printf '\\n%s %s\\n' {nonce}:{i} $?")
        parts.append(f"printf '\\n%s\\n' {nonce}:{i} >&2")
    script = " ; ".join(parts)
    whole = await run(
        conn, ["sh", "-c", script], timeout=seconds * len(commands) + 5, max_output=max_output
    )
    # run() quoted the script for the remote shell; the remote `sh -c` runs it.
    out_parts = re.split(rf"\n{nonce}:(\d+) (\d+)\n", whole.stdout)
    err_parts = re.split(rf"\n{nonce}:(\d+)\n", whole.stderr)
    outputs: dict[int, tuple[str, int]] = {}
    for j in range(0, len(out_parts) - 2, 3):
        outputs[int(out_parts[j + 1])] = (out_parts[j], int(out_parts[j + 2]))
    errors: dict[int, str] = {}
    for j in range(0, len(err_parts) - 1, 2):
        errors[int(err_parts[j + 1])] = err_parts[j]
    results = []
    per = whole.duration_s / max(1, len(commands))
    for i, argv in enumerate(commands):
        if i in outputs:
            out, status = outputs[i]
            timed_out = status == 124  # timeout(1) killed it
            results.append(
                CommandResult(
                    tuple(argv),
                    None if timed_out else status,
                    out,
                    errors.get(i, ""),
                    per,
                    timed_out,
                )
            )
        else:
            # Never finished: the rest of the output is this command's, as far as it got.
            tail = out_parts[-1] if len(outputs) == i else ""
            results.append(
                CommandResult(
                    tuple(argv),
                    None,
                    tail,
                    errors.get(i, ""),
                    per,
                    timed_out=not whole.truncated,
                    truncated=whole.truncated,
                )
            )
    return results


class _Enough(Exception):
    """Output limit reached."""


def trust_host_key(known_hosts: Path, key: HostKeyInfo) -> None:
    """Append ``key`` to ``known_hosts`` (the operator compared the fingerprint and said yes).

    A key marked ``@revoked`` there is refused (``SshFailure``), whoever asks.
    """
    import asyncssh

    known_hosts = Path(known_hosts).expanduser()
    known = read_known_hosts(known_hosts)
    public = asyncssh.import_public_key(key.public_key)
    if known.marker_lines("revoked", key.host, key.port, public):
        raise SshFailure(
            FailureKind.REVOKED_HOST_KEY,
            f"the host key of {key.known_hosts_name} is marked @revoked in {known_hosts}: "
            "it is not added.",
            host=key.host,
        )
    known_hosts.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    line = f"{key.known_hosts_name} {key.public_key}\n".encode("ascii")
    fd = os.open(known_hosts, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        size = os.fstat(fd).st_size
        if size:
            os.lseek(fd, size - 1, os.SEEK_SET)
            if os.read(fd, 1) != b"\n":
                line = b"\n" + line
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
