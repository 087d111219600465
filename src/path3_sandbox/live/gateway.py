"""Connecting to the operator's Gateway, and what is settled with it before the first step: the state dir is the one
it writes, the secrets its state and config hold are remembered by the redactor, and the scripted provider is served
where its config routes it."""

from __future__ import annotations

import ipaddress
import json
import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import urlparse

from websockets.exceptions import WebSocketException

from ..containers.rpc import GatewayRpc
from ..errors import EnvironmentProblem, RpcError, UsageError
from ..probes.host_sqlite import connect_ro
from ..state.layout import agent_db
from ..report import redaction
from ..scenario.provider import PROVIDER_ID, ScriptedProvider

def connect(url: str, token: str) -> GatewayRpc:
    try:
        rpc = GatewayRpc.connect(url, token, timeout_s=15)
    except (OSError, EOFError, TimeoutError, WebSocketException) as error:
        raise UsageError(f"no Gateway answers at {url}: {type(error).__name__}: {error}",
                         hint="is the Gateway running, and is --url its port?") from None
    except RpcError as error:
        raise UsageError(f"the Gateway at {url} refused the connection: {error}", hint="check the token") from None
    try:
        rpc.call("sessions.list", {"limit": 1})
    except RpcError as error:
        rpc.close()
        raise UsageError(f"the Gateway at {url} grants this client no operator scope: {error}",
                         hint="connect from the Gateway's own loopback (run live on its host, or in its network "
                              "namespace): it grants token-only clients operator scopes there only") from None
    return rpc


def check_state_dir(rpc: GatewayRpc, state_dir: Path, agent: str) -> None:
    """The state dir must be the one this Gateway writes, checked before any step (a mismatch is bad input, exit 2,
    never a red verdict): every key the Gateway lists for the agent is in that SQLite, with the same session id.
    SQLite is read before and after the listing, so a session created or reset meanwhile is not taken for a mismatch."""
    hint = ("--state-dir is the Gateway's OPENCLAW_STATE_DIR as seen from this host (for a Gateway in a container: "
            "the host folder of its state volume), and --url that Gateway's")
    held_before = _held_sessions(state_dir, agent)
    rows = rpc.list_sessions({"archived": "all", "limit": 10000})
    held = _held_sessions(state_dir, agent)
    listed = {row["key"]: row.get("sessionId") for row in rows
              if isinstance(row, dict) and str(row.get("key", "")).startswith(f"agent:{agent}:")}
    unknown = sorted(k for k in listed if k not in held and k not in held_before)  # deleted meanwhile: not unknown
    if unknown:
        raise UsageError(f"--state-dir {state_dir} is not the state of the Gateway answering: it lists "
                         f"{len(unknown)} session(s) that SQLite there does not hold ({', '.join(unknown[:3])})", hint=hint)
    other = sorted(k for k, sid in listed.items() if sid and held.get(k) and sid not in (held[k], held_before.get(k)))
    if other:
        shown = ", ".join(f"{k} (Gateway: {listed[k]}, SQLite: {held[k]})" for k in other[:3])
        raise UsageError(f"--state-dir {state_dir} is not the state of the Gateway answering: {len(other)} session(s) "
                         f"have another session id there: {shown}", hint=hint)


def _held_sessions(state_dir: Path, agent: str) -> dict[str, str | None]:
    """Session key -> current session id, as the agent's SQLite in the state dir holds them (read-only)."""
    database = state_dir / agent_db(agent)
    try:
        with closing(connect_ro(database)) as db:
            columns = [r[1] for r in db.execute('pragma table_info("session_nodes")')]
            if "session_key" not in columns:
                return {}
            sid = "current_session_id" if "current_session_id" in columns else "null"
            return {key: current for key, current in db.execute(f"select session_key, {sid} from session_nodes")}
    except sqlite3.Error as error:
        raise UsageError(f"--state-dir {state_dir}: {database} cannot be read as SQLite ({error})",
                         hint="--state-dir is the Gateway's OPENCLAW_STATE_DIR as seen from this host") from None


def read_config(rpc: GatewayRpc) -> dict:
    """The config the Gateway runs with (`config.get`); every secret it holds is remembered by the redactor, so a log
    line, an answer or a traceback that repeats one is redacted in the evidence as the config itself is."""
    config = (rpc.call("config.get", {}) or {}).get("config") or {}
    if not isinstance(config, dict):
        config = {}
    redaction.remember(*redaction.known_secrets({"openclaw.json": json.dumps(config, ensure_ascii=False).encode()}))
    return config


def start_provider(config: dict) -> ScriptedProvider:
    """Serve the scripted provider where the Gateway's config (read_config) says it is (a loopback address here)."""
    base = (((config.get("models") or {}).get("providers") or {}).get(PROVIDER_ID) or {}).get("baseUrl")
    if not base:
        raise UsageError(f"the Gateway's config has no models.providers.{PROVIDER_ID}: live mode's turns go to the "
                         "scripted model provider, never to a real model",
                         hint="merge provider.provider_config('http://127.0.0.1:<free port>/v1') into openclaw.json "
                              "(the Gateway reloads it), then run live again")
    parsed = urlparse(base)
    host = "127.0.0.1" if parsed.hostname == "localhost" else parsed.hostname or ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback or not parsed.port:
        raise UsageError(f"models.providers.{PROVIDER_ID}.baseUrl is {base}: live serves it on this host's loopback only",
                         hint="set it to http://127.0.0.1:<port>/v1")
    try:
        return ScriptedProvider(host=host, port=parsed.port).start()
    except OSError as error:
        raise EnvironmentProblem(f"cannot serve the scripted provider on {host}:{parsed.port}: {error}",
                                 hint="another live run may be using it; wait for it, or change the port") from None


def remember_state_secrets(state_dir: Path) -> None:
    """The secrets the operator's state holds in its config and credential files, remembered by the redactor (as
    `prove` remembers a seeded state's), so a log line or an answer that repeats one is redacted wherever it lands.
    Read-only; small files only; an unreadable one is skipped."""
    patterns = ("openclaw.json", "credentials/**/*.json", "agents/*/agent/auth-profiles.json", "agents/*/agent/auth.json",
                "agents/*/agent/models.json")
    files = {}
    for pattern in patterns:
        for path in state_dir.glob(pattern):
            try:
                if path.is_file() and path.stat().st_size <= 1024 * 1024:
                    files[path.relative_to(state_dir).as_posix()] = path.read_bytes()
            except OSError:
                continue
    redaction.remember(*redaction.known_secrets(files))
