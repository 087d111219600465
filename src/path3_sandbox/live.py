"""`path3-sandbox live`: the Path 3 scenario against a Gateway an operator already runs, under live mode's rules.

    path3-sandbox live --url ws://127.0.0.1:18789 --agent main --token-file F --state-dir ~/.openclaw

The rules (design.md, "Live mode"):
- it never starts, stops or imports: no container or process control, no `doctor --fix`. `doctor --session-sqlite
  validate` is informational: run with the operator's own CLI (`--doctor-cli`, or `openclaw` on PATH) after the last
  step, its output kept as evidence, never the verdict; the final hash still holds it to touching no session;
- it touches only its own proof session `agent:<agent>:path3-live-e2e:<run id>`, created pinned to the scripted model
  (so no real model is ever called), and deletes it over RPC at the end (`sessions.delete`) unless --keep-artifacts;
- it reads SQLite on the host, read-only (probes/host_sqlite.py); every other session's rows are hashed before the first step,
  after each step and at the end, and must be unchanged: the verdict names the session that changed;
- a restart is only ever asked of the Gateway over RPC (`gateway.restart.request`), and only with --allow-restart.

The Gateway's config must route the `path3-scripted` provider to this host's loopback (provider.provider_config with
`http://127.0.0.1:<port>/v1`): live serves it for the run. RPC must come from the Gateway's loopback (openclaw.md §11).
Evidence: .artifacts/path3-live-e2e/<run id>/ (summary.json, summary.md, junit.xml, events.jsonl, scenario.json,
gateway-config.json (the config `config.get` answered, redacted), …).

The token goes only where it is safe to send it: `ws://` to this host's loopback (127.0.0.0/8, ::1, localhost). Any
other host needs both `wss://` (TLS: the token is never sent in clear over a network) and `--allow-remote` (the operator
says so explicitly); summary.json and summary.md then say which host got the token, over TLS. Every input (URL, port,
token file, agent, state dir) is checked before the first connection; a state dir that is not the Gateway's is exit 2
before the first step, never a red verdict.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import time
import traceback
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlparse

from websockets.exceptions import WebSocketException

from .report import redaction
from .proof import reports
from .containers.resources import new_run_id
from .containers.rpc import GatewayRpc
from .errors import EXIT_PROOF_FAILED, EXIT_PROOF_PASSED, EnvironmentProblem, RpcError, UsageError
from .report.evidence import HARNESS, Assertion, Evidence, skipped
from .state.fixtures import Fixture
from .report.junit import write_junit
from .probes.host_sqlite import AGENT_DB, HostProbe, changed_sessions, connect_ro, read_state
from .paths import artifacts_root
from .probes import logs as logs_probe
from .probes.sqlite import SESSION_TABLES
from .progress import say
from .proof.proof import FixtureVerdict
from .scenario.provider import MODEL_ID, PROVIDER_ID, ScriptedProvider
from .proof.run import failures_markdown, verdict_markdown
from .scenario.runner import READ_METHODS, Context, Step, StepOutcome, table_checks
from .scenario.steps import (step_chat_turn, step_cleanup, step_compaction, step_metadata, step_patch,
                             step_transcript_identity)
from .scenario.turns import COMPLETED, TurnSpec

PROOF_NAME = "path3-live-e2e"  # the proof session's key part and the evidence folder
RESTART_METHOD = "gateway.restart.request"
RESTART_TIMEOUT_S = 240.0
DOCTOR_ARGS = ("doctor", "--session-sqlite", "validate", "--session-sqlite-all-agents", "--json")
DOCTOR_TIMEOUT_S = 180
DOCTOR_SKIPPED = ("no OpenClaw CLI to run it: no RPC method runs it (the Gateway offers doctor.memory.* only) and "
                  "`openclaw` is not on this host's PATH; give --doctor-cli CMD (e.g. \"docker exec GATEWAY openclaw\")")
EVIDENCE_FILES = ("events.jsonl", "scenario.json", "provider-requests.json", "live-preflight.json", "gateway-config.json",
                  "doctor-session-sqlite-validate.json",
                  "sessions-before.json", "sessions-after.json")
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


@dataclass
class LiveContext(Context):
    """The scenario's Context on an operator's Gateway: SQLite is read on the host; there is no container."""
    state_dir: Path = Path()
    url: str = ""
    token: str = field(default="", repr=False)
    proof_ids: frozenset[str] = frozenset()

    def probe(self) -> HostProbe:
        found = read_state(self.state_dir, proof_key=self.proof_key, proof_session_ids=self.proof_ids)
        self.proof_ids = found.proof_session_ids
        return found

    def snapshot(self):
        return self.probe().sqlite


# -- the steps live mode adds (the others are the scenario's own) ---------------------------------------------

def step_pin_model(ctx: Context, before: HostProbe) -> StepOutcome:
    """Create the proof session pinned to the scripted model: the operator's default model is never called."""
    answer = ctx.rpc.call("sessions.patch", {"key": ctx.proof_key, "model": f"{PROVIDER_ID}/{MODEL_ID}"})
    resolved = (answer or {}).get("resolved") or {}
    found = ctx.snapshot().session(ctx.proof_key)
    entry = (found[1].get("entry") or {}) if found else {}
    want = f"{PROVIDER_ID}/{MODEL_ID}"
    return StepOutcome([
        Assertion("sessions.patch created the proof session on the scripted model",
                  f"{resolved.get('modelProvider')}/{resolved.get('model')}" == want, want,
                  f"{resolved.get('modelProvider')}/{resolved.get('model')}"),
        Assertion("SQLite holds the proof session with that model override",
                  f"{entry.get('providerOverride')}/{entry.get('modelOverride')}" == want, want,
                  f"{entry.get('providerOverride')}/{entry.get('modelOverride')}" if found else None),
    ], {"session_nodes": 1, "session_windows": 1})


def step_live_chat_turn(ctx: Context, before: HostProbe) -> StepOutcome:
    """The scenario's first turn, on the session the pin step already created."""
    return replace(step_chat_turn(ctx, before), deltas={"session_nodes": 0, "session_windows": 0})


def step_restart(ctx: Context, before: HostProbe) -> StepOutcome:
    """Ask the Gateway to restart itself over RPC, wait for a new boot, check nothing was re-imported, take a turn."""
    old_boot = (ctx.rpc.hello.get("server") or {}).get("bootId")
    answer = ctx.rpc.call(RESTART_METHOD, {"reason": "path3-sandbox live: restart asked with --allow-restart"})
    started = time.monotonic()
    ctx.rpc.close()
    reconnected, seen_down = None, False
    while time.monotonic() - started < RESTART_TIMEOUT_S:
        try:
            rpc = GatewayRpc.connect(ctx.url, ctx.token, timeout_s=10)
        except (OSError, EOFError, TimeoutError, WebSocketException, RpcError):  # down, or "gateway starting"
            seen_down = True
            time.sleep(1)
            continue
        boot = (rpc.hello.get("server") or {}).get("bootId")
        if (boot and boot != old_boot) or (not boot and seen_down):
            reconnected = rpc
            break
        rpc.close()
        time.sleep(1)
    seconds = time.monotonic() - started
    new_boot = (reconnected.hello.get("server") or {}).get("bootId") if reconnected else None
    if reconnected is None:
        return StepOutcome([Assertion("the Gateway came back after the restart it was asked for", False,
                                      f"a new bootId within {RESTART_TIMEOUT_S:.0f}s", "no new boot",
                                      f"{RESTART_METHOD} answered {str(answer)[:200]}")], {"session_nodes": None,
                           "session_windows": None, "transcript_events": None, "transcript_event_identities": None})
    reconnected.calls[:0] = ctx.rpc.calls
    ctx.rpc = reconnected
    after = ctx.probe()
    marker = ctx.marker("R1")
    fresh = ctx.turn(ctx.proof_key, marker)
    proof_before, proof_after = before.sqlite.session(ctx.proof_key), after.sqlite.session(ctx.proof_key)
    return StepOutcome([
        Assertion(f"{RESTART_METHOD} was accepted", isinstance(answer, dict) and answer.get("ok") is True,
                  "ok: scheduled, deferred or coalesced", (answer or {}).get("status") if isinstance(answer, dict) else answer),
        Assertion("the Gateway came back with a new boot", bool(new_boot and new_boot != old_boot) or
                  (not new_boot and seen_down), f"a bootId other than {old_boot}" if old_boot else "down, then up",
                  new_boot or ("down, then up" if seen_down else "never down"), f"{seconds:.1f}s after the request"),
        Assertion("the restart imported nothing (migration_runs unchanged)", after.migration_runs == before.migration_runs,
                  before.migration_runs, after.migration_runs),
        Assertion("the proof session's rows are intact after the restart",
                  bool(proof_before and proof_after) and proof_before[1]["sessionId"] == proof_after[1]["sessionId"],
                  proof_before[1]["sessionId"] if proof_before else None, proof_after[1]["sessionId"] if proof_after else None),
        Assertion("a new turn works after the restart", (fresh.get("wait") or {}).get("status") == "ok", "ok",
                  (fresh.get("wait") or {}).get("status")),
    ], {"session_nodes": 0, "session_windows": 0}, turns=(TurnSpec(ctx.proof_key, marker, COMPLETED),))


STEPS = [
    Step("pin-model", ("sessions.patch",), step_pin_model),
    Step("chat-turn", ("chat.send", "agent.wait", "chat.history"), step_live_chat_turn),
    Step("transcript-identity", ("chat.history",), step_transcript_identity),
    Step("metadata", ("sessions.list",), step_metadata),
    Step("patch", ("sessions.patch",), step_patch),
    Step("compaction", ("sessions.compact",), step_compaction),
    Step("restart", (RESTART_METHOD, "chat.send", "agent.wait"), step_restart),
    Step("cleanup", ("sessions.delete",), step_cleanup),
]


# -- the run -------------------------------------------------------------------------------------------------

@dataclass
class LiveResult:
    verdict: FixtureVerdict
    summary: dict = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return EXIT_PROOF_PASSED if self.verdict.passed else EXIT_PROOF_FAILED


def live(options: LiveOptions, *, argv: list[str], root: Path | None = None,
         between_hashes: Callable[[LiveContext], None] | None = None) -> LiveResult:
    """Run the scenario on the operator's Gateway. `between_hashes` is a test-only hook: it runs once, after the
    baseline hash of every session and before the first step, so a test can touch another session on purpose."""
    state_dir, token, destination = check_inputs(options)
    rpc = connect(options.url, token)
    run_id = new_run_id()
    proof_key = f"agent:{options.agent}:{PROOF_NAME}:{run_id}"
    try:
        check_state_dir(rpc, state_dir, options.agent)  # not the Gateway's state: exit 2 before any step
        remember_state_secrets(state_dir)
        config = read_config(rpc)
        provider = start_provider(rpc, config)
        root = root or artifacts_root() / PROOF_NAME / run_id
        evidence = Evidence(root, "live")
    except BaseException:
        rpc.close()
        raise
    evidence.write_json("gateway-config.json", redacted_config(config))
    ctx = LiveContext(None, rpc, provider, evidence, Fixture("live", state_dir, "live mode", options.url, None, ()),
                      None, run_id, (), {}, keep_artifacts=options.keep_artifacts, proof_key=proof_key,
                      state_dir=state_dir, url=options.url, token=token)
    say("live", f"openclaw {rpc.server_version} at {options.url}, agent {options.agent}; proof session {proof_key}; "
                f"evidence in {root}")
    if not destination.loopback:
        say("live", f"the Gateway token went to {destination.host}, another host, over TLS (--allow-remote)")
    started, report, phases = time.monotonic(), {"steps": [], "rpc": {}}, {}
    try:
        _run(ctx, options, report, phases, between_hashes)
    except Exception as error:  # a broken run is a failed proof with its traceback kept, never a silent pass
        evidence.write_text("traceback.txt", traceback.format_exc())
        evidence.check("internal", Assertion("the live run ran to completion", False, "no error",
                                             f"{type(error).__name__}: {error}"[:800], "see traceback.txt", blame=HARNESS))
    finally:
        _delete_if_left(ctx, report)
        ctx.rpc.close()
        provider.stop()
        evidence.write_json("provider-requests.json", {"requests": [r.to_json(with_body=options.keep_artifacts)
                                                                    for r in provider.requests]})
        evidence.close()
    return _finish(ctx, options, report, phases, time.monotonic() - started, argv, destination)


def check_inputs(options: LiveOptions) -> tuple[Path, str, Destination]:
    """Bad input, before anything touches the Gateway (no connection, no file written): exit 2 with what to do."""
    destination = check_url(options.url, allow_remote=options.allow_remote)
    if not AGENT_RE.match(options.agent):
        raise UsageError(f"--agent {options.agent!r} is not an agent id",
                         hint="the name of a folder under the state dir's agents/ (e.g. --agent main)")
    token = read_token(options.token_file)
    redaction.remember(token)
    state_dir = options.state_dir.expanduser().resolve()
    database = state_dir / AGENT_DB.format(agent=options.agent)
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
    rows = rpc.call("sessions.list", {"archived": "all", "limit": 10000}).get("sessions", [])
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
    database = state_dir / AGENT_DB.format(agent=agent)
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


def redacted_config(config: Any) -> Any:
    """The config as evidence: every value under a key that names a secret replaced by its tag, then the redactor's
    text pass (shapes, remembered values) over the JSON, kept only if it still parses."""
    def walk(value: Any, secret: bool) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, secret or bool(redaction.SECRET_KEY_RE.search(str(k)))) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, secret) for v in value]
        if secret and isinstance(value, str) and value:
            return redaction.tag(value)
        return value

    walked = walk(config, False)
    text, _ = redaction.scrub_text(json.dumps(walked, ensure_ascii=False))
    try:
        return json.loads(text)
    except ValueError:
        return walked


def start_provider(rpc: GatewayRpc, config: dict | None = None) -> ScriptedProvider:
    """Serve the scripted provider where the Gateway's config says it is (a loopback address on this host)."""
    if config is None:
        config = (rpc.call("config.get", {}) or {}).get("config") or {}
    base = (((config.get("models") or {}).get("providers") or {}).get(PROVIDER_ID) or {}).get("baseUrl")
    if not base:
        raise UsageError(f"the Gateway's config has no models.providers.{PROVIDER_ID}: live mode's turns go to the "
                         "scripted model provider, never to a real model",
                         hint=f"merge provider.provider_config('http://127.0.0.1:<free port>/v1') into openclaw.json "
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


def _run(ctx: LiveContext, options: LiveOptions, report: dict, phases: dict, hook) -> None:
    baseline = _preflight(ctx, options)
    if hook:
        hook(ctx)
        ctx.evidence.event("preflight", "test-hook", note="a test touched the Gateway between the baseline hash and step 1")
    previous, logs = baseline, _logs(ctx.state_dir)
    for index, step in enumerate(STEPS, start=1):
        missing = [m for m in step.requires if m not in ctx.rpc.methods]
        why = ("not asked: live never restarts the operator's Gateway without --allow-restart"
               if step.name == "restart" and not options.allow_restart
               else "--keep-artifacts keeps the proof session" if step.name == "cleanup" and options.keep_artifacts
               else f"the Gateway does not offer {', '.join(missing)} (not in hello-ok's method list)" if missing else None)
        if why:
            ctx.evidence.check(f"step-{index}-{step.name}", skipped(f"step {step.name}", why))
            report["steps"].append({"step": step.name, "outcome": "skipped", "why": why})
        else:
            previous, logs = _step(ctx, f"step-{index}-{step.name}", step, previous, logs, report, phases)
    _after(ctx, options, baseline, report)


def _preflight(ctx: LiveContext, options: LiveOptions) -> HostProbe:
    """The baseline: every session hashed before anything is sent, and what the Gateway is."""
    baseline = ctx.probe()
    ctx.evidence.write_json("sessions-before.json", baseline.sessions)
    ctx.evidence.write_json("live-preflight.json", {
        "url": options.url, "agent": options.agent, "state_dir": str(ctx.state_dir), "proof_session": ctx.proof_key,
        "server_version": ctx.rpc.server_version, "protocol": ctx.rpc.protocol,
        "boot_id": (ctx.rpc.hello.get("server") or {}).get("bootId"), "methods": len(ctx.rpc.methods),
        "sessions_hashed": len(baseline.sessions), "counts": {t: baseline.sqlite.count(t) for t in SESSION_TABLES},
        "migration_runs": baseline.migration_runs, "provider": f"{ctx.provider.host}:{ctx.provider.port}",
        "token_sent_to": check_url(options.url, allow_remote=options.allow_remote).to_json(),
        "gateway_state_dir": (ctx.rpc.hello.get("snapshot") or {}).get("stateDir")})
    ctx.evidence.check("preflight", Assertion("the proof session is new", ctx.proof_key not in baseline.sessions,
                                              "absent", ctx.proof_key))
    if not _logs(ctx.state_dir):
        ctx.evidence.check("preflight", skipped("the Gateway's file log is scanned after every step",
                                                "no logs/*.jsonl in the state dir: its logging.file is elsewhere"))
    say("live", f"{len(baseline.sessions)} other session(s) hashed; {len(STEPS)} steps")
    return baseline


def _step(ctx: LiveContext, phase: str, step: Step, previous: HostProbe, logs: dict[str, str], report: dict,
          phases: dict) -> tuple[HostProbe, dict[str, str]]:
    """One scenario step, held to what it declares, and every other session to exactly the rows it had."""
    ev = ctx.evidence
    say(f"live/{phase}", "running")
    started, failed_before = time.monotonic(), ev.failed_count
    try:
        outcome = step.run(ctx, previous)
    except Exception as error:  # recorded; the next steps (cleanup above all) still run
        outcome = StepOutcome([Assertion(f"step {step.name} ran", False, "no error", f"{type(error).__name__}: {error}",
                                         blame=HARNESS)], {})
    seconds = phases[phase] = time.monotonic() - started
    after, now = ctx.probe(), _logs(ctx.state_dir)
    checks = [*outcome.checks, *(skipped(n, w) for n, w in outcome.skipped_methods),
              *table_checks(ctx, step, outcome, previous.sqlite, after.sqlite),
              untouched(previous, after, ctx, f"by the end of step {step.name}")]
    if now:
        scan = logs_probe.scan(now, outcome.allowed_logs, start_lines={k: len(v.splitlines()) for k, v in logs.items()})
        checks.append(Assertion("no unallowed line in the Gateway's file log since the previous step", not scan.unallowed,
                                0, [f"{m.source}:{m.line_number} [{m.pattern}] {log_line(m.line)}" for m in scan.unallowed[:10]]))
    for check in checks:
        ev.check(phase, check)
    failed = ev.failed_count - failed_before
    counts = {"counts_before": {t: previous.sqlite.count(t) for t in SESSION_TABLES},
              "counts_after": {t: after.sqlite.count(t) for t in SESSION_TABLES}}
    ev.event(phase, "step", seconds=round(seconds, 2), failed=failed, **counts)
    report["steps"].append({"step": step.name, "outcome": "failed" if failed else "passed", "seconds": round(seconds, 2),
                            **counts})
    say(f"live/{phase}", f"{'FAILED' if failed else 'ok'} in {seconds:.1f}s")
    return after, now


def _after(ctx: LiveContext, options: LiveOptions, baseline: HostProbe, report: dict) -> None:
    """The last hash against the first, no import, and the proof session gone (unless kept)."""
    _doctor_validate(ctx, options, report)
    final = ctx.probe()
    ctx.evidence.write_json("sessions-after.json", final.sessions)
    report["counts"] = {t: final.sqlite.count(t) for t in SESSION_TABLES}
    checks = [untouched(baseline, final, ctx, "from the first hash to the last"),
              Assertion("no import ran during the live run (migration_runs unchanged)",
                        final.migration_runs == baseline.migration_runs, baseline.migration_runs, final.migration_runs)]
    if options.keep_artifacts:
        checks.append(skipped("the proof session is gone", f"--keep-artifacts keeps {ctx.proof_key}"))
    else:
        listed = {s["key"] for s in ctx.rpc.call("sessions.list", {"archived": "all", "limit": 10000}).get("sessions", [])}
        left = [where for where, there in (("SQLite", final.sqlite.session(ctx.proof_key) is not None),
                                           ("sessions.list", ctx.proof_key in listed)) if there]
        checks.append(Assertion("the proof session is gone (SQLite and sessions.list)", not left, [], left))
    for check in checks:
        ctx.evidence.check("after", check)
    reads = sorted(c.seconds for c in ctx.rpc.calls if c.ok and c.method in READ_METHODS)
    report["rpc"] = {"protocol": ctx.rpc.protocol, "calls": len(ctx.rpc.calls), "read_calls": len(reads),
                     "median_round_trip_s": round(reads[len(reads) // 2], 4) if reads else None}


def _doctor_validate(ctx: LiveContext, options: LiveOptions, report: dict) -> None:
    """Informational: the operator's CLI validates its own state; its exit code and issues are evidence, not verdict."""
    cli = shlex.split(options.doctor_cli) if options.doctor_cli else ["openclaw"] if shutil.which("openclaw") else None
    if not cli:
        ctx.evidence.check("diagnostics", skipped("openclaw doctor --session-sqlite validate (informational)",
                                                  DOCTOR_SKIPPED))
        report["doctor_validate"] = {"ran": False, "why": DOCTOR_SKIPPED}
        return
    started = time.monotonic()
    try:
        done = subprocess.run([*cli, *DOCTOR_ARGS], capture_output=True, text=True, timeout=DOCTOR_TIMEOUT_S,
                              env={**os.environ, "OPENCLAW_STATE_DIR": str(ctx.state_dir)})
        code, output = done.returncode, done.stdout + done.stderr
    except (OSError, subprocess.TimeoutExpired) as error:
        code, output = None, f"{type(error).__name__}: {error}"
    document = reports.last_json(output)
    issues = document.get("totals", {}).get("issues") if isinstance(document, dict) else None
    ctx.evidence.write_text("doctor-session-sqlite-validate.json", output)
    record = {"ran": True, "command": [*cli, *DOCTOR_ARGS], "exit_code": code, "issues": issues,
              "seconds": round(time.monotonic() - started, 2), "informational": True}
    ctx.evidence.event("diagnostics", "doctor", **record)
    report["doctor_validate"] = record
    say("live", f"doctor --session-sqlite validate (informational): exit {code}, issues {issues}")


def _doctor_line(record: dict | None) -> str:
    if not record:
        return "not reached"
    if not record["ran"]:
        return "skipped: " + record["why"]
    return f"exit {record['exit_code']}, issues {record['issues']} ([output](doctor-session-sqlite-validate.json))"


def untouched(before: HostProbe, after: HostProbe, ctx: LiveContext, when: str) -> Assertion:
    """Every session but the proof session has exactly the rows it had; a failure names each session that changed."""
    changes = changed_sessions(before.sessions, after.sessions, ignore={ctx.proof_key, *ctx.proof_ids})
    named = "; ".join(f"{c['session']} {c['change']} ({', '.join(c['tables'])})" for c in changes[:10])
    others = len([k for k in after.sessions if k != ctx.proof_key])
    return Assertion(f"no session but the proof session changed {when}", not changes, [],
                     [c["session"] for c in changes],
                     f"changed: {named}; written by the Gateway or by another client during the run" if changes
                     else f"{others} other session(s) identical")


def _delete_if_left(ctx: LiveContext, report: dict) -> None:
    """A run that broke before its cleanup step still deletes its proof session (unless it is to be kept)."""
    if ctx.keep_artifacts:  # otherwise always looked for: a cleanup step that ran may still have failed
        return
    try:
        if ctx.probe().sqlite.session(ctx.proof_key) is not None or _listed(ctx, ctx.proof_key):
            try:
                ctx.rpc.call("sessions.delete", {"key": ctx.proof_key, "deleteTranscript": True})
            except (RpcError, OSError, WebSocketException) as error:  # the socket died (a restart that was slow
                if isinstance(error, RpcError) and error.code not in ("CLOSED", "CLIENT_TIMEOUT"):  # to come back)
                    raise
                ctx.rpc = GatewayRpc.connect(ctx.url, ctx.token)
                ctx.rpc.call("sessions.delete", {"key": ctx.proof_key, "deleteTranscript": True})
            ctx.evidence.event("cleanup", "proof-session-deleted", key=ctx.proof_key, why="the run ended before its cleanup step")
    except Exception as error:  # reported, never hiding the verdict
        ctx.evidence.event("cleanup", "error", message=f"{type(error).__name__}: {error}")
        say("live", f"could NOT delete the proof session {ctx.proof_key}: {error}")


def _listed(ctx: LiveContext, key: str) -> bool:
    """Whether the Gateway still lists `key` (a proof session SQLite in --state-dir does not show, e.g. a stale copy of
    the Gateway's state, is still deleted); a socket that is gone answers False here, and the SQLite check stands."""
    try:
        rows = ctx.rpc.call("sessions.list", {"archived": "all", "limit": 10000}).get("sessions", [])
    except (RpcError, OSError, WebSocketException):
        return False
    return any(isinstance(row, dict) and row.get("key") == key for row in rows)


def log_line(line: str, limit: int = 200) -> str:
    """A Gateway log line as evidence: redacted whole, then cut (a cut first could split a secret past recognition)."""
    return redaction.scrub_text(line)[0][:limit]


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


def _logs(state_dir: Path) -> dict[str, str]:
    """The Gateway's file log, when its config keeps it in the state dir (logging.file)."""
    return {f"logs/{p.name}": p.read_text(encoding="utf-8", errors="replace")
            for p in sorted((state_dir / "logs").glob("*.jsonl")) if p.is_file()}


def _finish(ctx: LiveContext, options: LiveOptions, report: dict, phases: dict, seconds: float, argv: list[str],
            destination: Destination | None = None) -> LiveResult:
    ev = ctx.evidence
    first = ev.first_failure
    verdict = FixtureVerdict("live", ev.passed, f"[{first.blame}] {first.message()}" if first else None, None, seconds,
                             phases, ev.root, report.get("counts", {}), report, tuple(ev.phase_results()),
                             tuple(ev.failures()))
    ev.write_json("scenario.json", report)
    summary = {
        "run_id": ctx.run_id, "mode": "live", "verdict": "pass" if verdict.passed else "fail", "arguments": argv,
        "gateway": {"url": options.url, "version": ctx.rpc.server_version, "protocol": ctx.rpc.protocol},
        "token_sent_to": destination.to_json() if destination else None,
        "agent": options.agent, "state_dir": str(ctx.state_dir), "proof_session": ctx.proof_key,
        "first_failure": verdict.first_failure, "gateway_findings": verdict.findings,
        "harness_failures": verdict.harness_failures, "steps": report["steps"], "rpc": report["rpc"],
        "doctor_validate": report.get("doctor_validate"), "phases_checked": list(verdict.phase_results), "seconds": round(seconds, 1), "evidence": str(ev.root),
        "artifacts": {"summary_md": "summary.md", "junit": "junit.xml", "events": "events.jsonl"},
    }
    ev.write_json("summary.json", summary)
    lines = [f"# {'✅ PASS' if verdict.passed else '❌ FAIL'}: live scenario on openclaw {ctx.rpc.server_version}", "",
             f"- **gateway**: `{options.url}` (protocol {ctx.rpc.protocol}), agent `{options.agent}`, "
             f"state dir `{ctx.state_dir}` (read-only)",
             *([f"- **token**: {destination.line()}"] if destination else []),
             f"- **proof session**: `{ctx.proof_key}`"
             + (" (kept: --keep-artifacts)" if options.keep_artifacts else " (deleted at the end)"),
             f"- **run**: `{ctx.run_id}`, {seconds:.0f}s; restart {'allowed' if options.allow_restart else 'not asked'}",
             f"- **doctor --session-sqlite validate** (informational): {_doctor_line(report.get('doctor_validate'))}",
             ""]
    if first:
        lines += [f"**First failure**: {verdict.first_failure}", ""]
    lines += failures_markdown((verdict,), folders=False) + verdict_markdown(verdict, folders=False, files=EVIDENCE_FILES)
    (ev.root / "summary.md").write_text(re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n", encoding="utf-8")
    write_junit(ev.root / "junit.xml", (verdict,), target=f"openclaw {ctx.rpc.server_version} (live)")
    redaction.sweep(ev.root)
    if verdict.passed:
        say("live", f"PASS in {seconds:.1f}s")
    else:
        say("live", f"FAIL: {verdict.first_failure}\n  evidence: {ev.root}")
    return LiveResult(verdict, summary)
