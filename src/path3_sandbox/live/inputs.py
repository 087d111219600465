"""Every input of `live`, checked before the first connection (no connection, no file written): the Gateway's URL
(this host's loopback, or `wss://` with --allow-remote), the token file, the agent, the state dir. Bad input is exit 2
with what to do."""

from __future__ import annotations

import ipaddress
import os
import re
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from ..errors import UsageError
from ..probes.host_sqlite import connect_ro
from ..state.layout import agent_db
from ..report import redaction

LOOPBACK_NAMES = ("localhost",)  # names taken as loopback without a lookup; anything else must be an address
AGENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")  # an agent id is a folder name under agents/
TOKEN_FILE_MAX_BYTES = 64 * 1024


@dataclass(frozen=True)
class LiveOptions:
    url: str
    agent: str = "main"
    token_file: Path | None = None
    state_dir: Path = Path("~/.openclaw")
    allow_restart: bool = False
    keep_artifacts: bool = False
    doctor_cli: str | None = None  # the operator's OpenClaw CLI as a command line; None: `openclaw` when on PATH
    allow_remote: bool = False  # a wss:// URL to a host other than this one's loopback: the operator's explicit opt-in


@dataclass(frozen=True)
class Destination:
    """Where the token goes: the Gateway's URL as checked before any connection."""
    url: str
    scheme: str
    host: str
    port: int | None
    loopback: bool

    @property
    def tls(self) -> bool:
        return self.scheme == "wss"

    def to_json(self) -> dict:
        return {"url": self.url, "host": self.host, "port": self.port, "scheme": self.scheme, "tls": self.tls,
                "loopback": self.loopback, "remote_opt_in": None if self.loopback else "--allow-remote"}

    def line(self) -> str:
        where = f"`{self.host}`" + (f" port {self.port}" if self.port else "")
        if self.loopback:
            return f"sent only to {where}, this host's loopback ({self.scheme}://)"
        return f"sent to {where}, **another host**, over TLS (wss://), as --allow-remote asked"


def check_inputs(options: LiveOptions) -> tuple[Path, str, Destination]:
    """Bad input, before anything touches the Gateway (no connection, no file written): exit 2 with what to do."""
    destination = check_url(options.url, allow_remote=options.allow_remote)
    if not AGENT_RE.match(options.agent):
        raise UsageError(f"--agent {options.agent!r} is not an agent id",
                         hint="the name of a folder under the state dir's agents/ (e.g. --agent main)")
    token = read_token(options.token_file)
    redaction.remember(token)
    state_dir = options.state_dir.expanduser().resolve()
    database = state_dir / agent_db(options.agent)
    if not database.is_file():
        raise UsageError(f"--state-dir {state_dir} holds no SQLite database for agent {options.agent} ({database})",
                         hint="--state-dir is the Gateway's OPENCLAW_STATE_DIR as seen from this host, and --agent one of "
                              "its agents")
    try:
        with closing(connect_ro(database)) as db:
            db.execute("select count(*) from sqlite_master").fetchone()
    except sqlite3.Error as error:
        raise UsageError(f"--state-dir {state_dir}: {database} cannot be read as SQLite ({error})",
                         hint="--state-dir is the Gateway's OPENCLAW_STATE_DIR as seen from this host, readable by "
                              "this user") from None
    return state_dir, token, destination


def check_url(url: str, *, allow_remote: bool = False) -> Destination:
    """The Gateway's URL, parsed without a lookup or a connection. The token goes in clear (`ws://`) only to this host's
    loopback; another host needs TLS (`wss://`) and the operator's explicit --allow-remote."""
    example = "e.g. --url ws://127.0.0.1:18789 (an IPv6 address in brackets: ws://[::1]:18789)"
    try:
        parsed = urlparse(url.strip())
        host, port = parsed.hostname, parsed.port
    except ValueError as error:  # "Invalid IPv6 URL", "Port out of range 0-65535", a port that is not a number
        raise UsageError(f"--url {url!r} is not a valid URL: {error}", hint=example) from None
    if parsed.scheme not in ("ws", "wss") or not host:
        raise UsageError(f"--url {url} is not a Gateway WebSocket URL", hint=example)
    if port == 0:
        raise UsageError(f"--url {url}: port 0 is not a port a Gateway listens on", hint=example)
    destination = Destination(url, parsed.scheme, host, port, _is_loopback(host))
    if destination.loopback:
        return destination
    if parsed.scheme == "ws":
        raise UsageError(f"--url {url}: ws:// would send the Gateway token unencrypted to {host}, which is not this "
                         "host's loopback; nothing was sent",
                         hint=f"run live on the Gateway's host with --url ws://127.0.0.1:{port or 18789}; for a Gateway "
                              f"on another host behind TLS, --url wss://{parsed.netloc} --allow-remote")
    if not allow_remote:
        raise UsageError(f"--url {url}: the Gateway token would go to {host}, another host than this one's loopback; "
                         "nothing was sent",
                         hint="add --allow-remote if you mean to send it there (over TLS; the evidence records the "
                              f"host), or run live on the Gateway's host with --url ws://127.0.0.1:{port or 18789}")
    return destination


def _is_loopback(host: str) -> bool:
    if host.lower().rstrip(".") in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name: never looked up here, so never taken as loopback
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def read_token(token_file: Path | None) -> str:
    """The Gateway token from --token-file (one line of UTF-8 text) or $OPENCLAW_GATEWAY_TOKEN; never echoed."""
    fix = "--token-file FILE holding only the token of gateway.auth.token, as UTF-8 text on one line"
    if token_file is not None:
        path = token_file.expanduser()
        if not path.exists():
            raise UsageError(f"--token-file {path} does not exist", hint=fix)
        if not path.is_file():
            raise UsageError(f"--token-file {path} is not a file", hint=fix)
        try:
            with path.open("rb") as handle:
                data = handle.read(TOKEN_FILE_MAX_BYTES + 1)
        except OSError as error:
            raise UsageError(f"--token-file {path} cannot be read: {error.strerror or error}",
                             hint=f"{fix}, readable by this user") from None
        if len(data) > TOKEN_FILE_MAX_BYTES:
            raise UsageError(f"--token-file {path} is larger than {TOKEN_FILE_MAX_BYTES // 1024} KiB: not a token file",
                             hint=fix)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise UsageError(f"--token-file {path} is not UTF-8 text (an undecodable byte at offset {error.start})",
                             hint=fix) from None
        token, source = text.removeprefix("\ufeff").strip(), f"--token-file {path} is empty"
    else:
        token, source = os.environ.get("OPENCLAW_GATEWAY_TOKEN", "").strip(), "OPENCLAW_GATEWAY_TOKEN is unset or empty"
    if not token:
        raise UsageError(f"no Gateway token: {source}", hint=fix)
    if any(c.isspace() or not c.isprintable() for c in token):
        raise UsageError("the Gateway token holds whitespace or control characters (more than one line?)", hint=fix)
    return token
