"""`@npm-install=<release>` and `@openclaw-update=<release>`: the release installed the way users install it, in place.

In the container of the release hop before it (same filesystem, same state volume), while that Gateway still runs,
as root (what a user's `sudo` does, HOME=/root), into the image's prefix:

    npm install --global --prefix /opt/openclaw --registry http://<registry>:4873/ --no-fund --no-audit
        --loglevel=http openclaw@<release>

then the Gateway is stopped (SIGTERM) and the same container started again, as a service manager restarts it: the
container's writable layer, and with it the new package, stays. The release then plays its role as any release hop
(runner.py): its contract's start (a refusal: doctor --fix from the container's own filesystem, committed to an image
of the run), turns, reachability.

The packages come from a registry the run controls: Verdaccio (build/registry_image.py), seeded when its image was
built and serving offline, started on the Gateway's own network (the hermetic network is internal: the registry
joins it and npm is pointed at its address; nothing else is reachable). Its request log is the evidence of what the
install fetched: `registry-requests.jsonl` (every request as Verdaccio logged it), `npm-fetched.json` (packuments,
tarballs, failures) and `npm-install.log` (npm's own output, one line per fetch) in the hop's folder.

`@openclaw-update=<release>` differs only in the command (INSTALLERS): the previous release's own updater,

    openclaw update --dry-run --json --tag <release>      kept as update-dry-run.json: installKind, mode, root
    openclaw update --tag <release> --yes --json --no-restart --timeout 900      kept as update.json: its steps

as root with HOME=/root (or, option as-user, as the Gateway's user with its prefix chowned to it) and npm pointed at the run's registry (npm_config_registry). When the dry run does not detect a
package manager for the image's prefix install (/opt/openclaw: `npm root -g` says /usr/local/lib/node_modules), the
user's fix is `npm_config_prefix=/opt/openclaw` (then `npm root -g` is the package's own root): the dry run is
repeated with it, and the update runs with it; update-dry-run.json says which. A "skipped" update (no package
manager) fails the hop. Files under the state dir whose owner the root-run update changed (or created as root) are
kept in state-ownership.json. Options (hop.py): `old-gateway-turn` (the old Gateway, still running, takes a turn after
the updater and before the restart: what a user's traffic does), `kill-at-doctor` (the updater's processes are
SIGKILLed as soon as its post-install doctor is seen running: an interrupted update).
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import unquote

from ..build.registry_image import REGISTRY_PORT
from ..containers.waits import poll_until
from ..errors import ContainerFailed
from ..report.evidence import GATEWAY, HARNESS, Assertion

if TYPE_CHECKING:
    from ..containers.gateway import ExecResult, Gateway
    from ..containers.resources import RunResources
    from ..report.evidence import Evidence
    from .hop import Hop

PREFIX = "/opt/openclaw"  # where the Gateway images install openclaw (docker/gateway/Dockerfile); on PATH
NPM_TIMEOUT_S = 900
REGISTRY_READY_TIMEOUT_S = 60
# As root with root's home (sudo -H): npm's cache starts empty, so every package comes from the registry. Install
# scripts allowed, as the Gateway images install (npm 11 skips dependency scripts otherwise).
NPM_ENV = {"HOME": "/root", "npm_config_dangerously_allow_all_scripts": "true"}
PACKAGE_MANAGERS = ("npm", "pnpm", "bun")  # a dry run's `mode` when the updater detected how the package is installed
NODE_UID = 1000  # the Gateway's user
USER_HOME = "/home/node"
STATE_OWNERS = 'cd "$OPENCLAW_STATE_DIR" && find . -printf "%U:%G %y %P\\n"'  # owner, group, type, path
# The post-install doctor: `node <new entry> doctor --non-interactive --fix`, which retitles itself "openclaw-doctor"
# (its cmdline then reads so; the updater's reads "openclaw-update", its `timeout` wrapper keeps the argv).
DOCTOR_MARK = "doctor"
KILL_POLL_S = 1.0
TARBALL_RE = re.compile(r"^/(?P<name>(?:@[^/]+/)?[^/]+)/-/(?:@[^/]+/)?[^/]+?-(?P<version>\d[^/]*)\.tgz$")


def npm_argv(release: str, registry_url: str) -> list[str]:
    return ["npm", "install", "--global", "--prefix", PREFIX, "--registry", registry_url, "--no-fund", "--no-audit",
            "--loglevel=http", f"openclaw@{release}"]


def update_argv(release: str, *, dry_run: bool = False) -> list[str]:
    if dry_run:
        return ["openclaw", "update", "--dry-run", "--json", "--tag", release]
    return ["openclaw", "update", "--tag", release, "--yes", "--json", "--no-restart", "--timeout", str(NPM_TIMEOUT_S)]


def update_env(registry_url: str, prefix: bool, as_user: bool = False) -> dict[str, str]:
    """npm's environment for `openclaw update`: root's home (the Gateway user's with as_user), the run's registry, and
    (the user's fix for an undetected package manager) the image's prefix as npm's global prefix."""
    return {**NPM_ENV, **({"HOME": USER_HOME} if as_user else {}), "npm_config_registry": registry_url,
            **({"npm_config_prefix": PREFIX} if prefix else {})}


def last_json(output: str) -> dict | None:
    """The last JSON object printed on a line of its own (update --json writes one, perhaps after log lines)."""
    decoder, found = json.JSONDecoder(), None
    for match in re.finditer(r"(?m)^\{", output):
        try:
            value, _ = decoder.raw_decode(output, match.start())
        except ValueError:
            continue
        if isinstance(value, dict):
            found = value
    return found


def detected(dry_run: dict | None) -> bool:
    """Did the dry run find how this package is installed (a package manager, or a git checkout)?"""
    return bool(dry_run) and (dry_run.get("mode") in PACKAGE_MANAGERS or dry_run.get("installKind") == "git")


def update_verdict(result: dict | None, exit_code: int) -> tuple[bool, str]:
    """(ok, why) of `openclaw update --json`: exit 0 and status ok; "skipped" (no package manager: nothing installed,
    exit 0) is a failure, never a pass."""
    if result is None:
        return False, f"no JSON result (exit {exit_code})"
    status, reason = result.get("status"), result.get("reason")
    if status == "skipped" or reason == "not-git-install":
        return False, f"skipped ({reason or 'no reason'}): nothing was installed"
    failed = [s.get("name") for s in result.get("steps") or [] if isinstance(s, dict) and s.get("exitCode") not in (0, None)]
    if exit_code != 0 or status != "ok":
        return False, f"status {status!r}, reason {reason!r}, exit {exit_code}" + (f", failed steps {failed}" if failed else "")
    return True, f"status ok, {len(result.get('steps') or [])} steps" + (f" (non-zero: {failed})" if failed else "")


def parse_owners(listing: str) -> dict[str, str]:
    """`find -printf "%U:%G %y %P"` lines -> {path: "uid:gid"} (the state dir itself is "." )."""
    owners = {}
    for line in listing.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and ":" in parts[0]:
            owners[parts[2] or "."] = parts[0]
    return owners


def ownership_changes(before: dict[str, str], after: dict[str, str], uid: int = NODE_UID) -> dict[str, Any]:
    """What a root-run command did to ownership under the state dir: files whose owner changed, files it created not
    owned by the Gateway's user, and every file not the Gateway user's afterwards."""
    changed = {p: f"{before[p]} -> {o}" for p, o in after.items() if p in before and before[p] != o}
    created = {p: o for p, o in after.items() if p not in before and o.split(":")[0] != str(uid)}
    foreign = sorted(p for p, o in after.items() if o.split(":")[0] != str(uid))
    return {"changed_owner": changed, "created_not_owned_by_gateway_user": created, "not_owned_by_gateway_user": foreign,
            "files_before": len(before), "files_after": len(after)}


def parse_requests(log: str) -> list[dict]:
    """Verdaccio's request lines (JSON log): method, url, status, bytes out. Verdaccio 6.8 logs an answered request
    twice (the headers, 0 bytes out; then the body sent): the lines are kept as logged, `fetched` counts URLs."""
    found = []
    for line in log.splitlines():
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        request = record.get("request")
        if isinstance(request, dict) and "status" in record:
            found.append({"at": record.get("time"), "method": request.get("method"), "url": request.get("url"),
                          "status": record.get("status"), "bytes_out": (record.get("bytes") or {}).get("out")})
    return found


def tarball_of(url: str) -> str | None:
    """'/@scope%2fname/-/name-1.2.3.tgz' -> '@scope/name@1.2.3'; None for anything but a tarball."""
    match = TARBALL_RE.match(unquote(url or "").split("?", 1)[0])
    return f"{match['name']}@{match['version']}" if match else None


def fetched(requests: list[dict]) -> dict[str, Any]:
    """What an install fetched, from the registry's side: each packument and tarball once, and every failure (each
    failed URL once)."""
    refused = {r["url"] for r in requests if not isinstance(r["status"], int) or r["status"] >= 400}
    # Verdaccio 6.8 logs a refused request's headers line as 200 before its 404: a URL refused once was not fetched.
    tarballs = sorted({t for r in requests if r["method"] == "GET" and r["status"] in (200, 304)
                       and r["url"] not in refused and (t := tarball_of(r["url"]))})
    packuments = sorted({unquote(r["url"]) for r in requests if r["method"] == "GET" and r["status"] in (200, 304)
                         and r["url"] not in refused and not tarball_of(r["url"])})
    failed = list({(r["method"], r["url"], r["status"]): r for r in requests
                   if not isinstance(r["status"], int) or r["status"] >= 400}.values())
    return {"log_lines": len(requests), "urls": len({(r["method"], r["url"]) for r in requests}),
            "packuments": packuments, "tarballs": tarballs, "failed": failed}


@dataclass
class PrivateRegistry:
    """The seeded registry's container on `network` (the Gateway's), its address there and its request log."""

    resources: RunResources
    image: str
    network: str  # the Gateway's hermetic network, or "bridge" on --network open
    name: str
    container: Any = None  # docker-py's, once started
    ip: str = ""
    started_in: float = 0.0
    log: str = field(default="", repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.ip}:{REGISTRY_PORT}/"

    def start(self) -> PrivateRegistry:
        started = time.monotonic()
        wrapped = self.resources.container(self.name, "npm-registry", self.image, [], network=self.network)
        self.container = wrapped.start().get_wrapped_container()
        listening = poll_until(lambda: True if "http address" in self.logs() or self._exited() else None,
                               timeout_s=REGISTRY_READY_TIMEOUT_S, interval_s=0.3)
        if not listening or self._exited():
            raise ContainerFailed(f"the npm registry ({self.image}) did not start: {self.logs()[-800:]}")
        self.container.reload()
        self.ip = self.container.attrs["NetworkSettings"]["Networks"][self.network]["IPAddress"]
        self.started_in = time.monotonic() - started
        return self

    def _exited(self) -> bool:
        self.container.reload()
        return self.container.status == "exited"

    def logs(self) -> str:
        return self.container.logs(stdout=True, stderr=True).decode(errors="replace") if self.container else ""

    def stop(self) -> None:
        """Stopped once the install is done (the run removes it); its log is kept first."""
        if self.container is not None:
            self.log = self.logs()
            self.container.stop(timeout=2)


def state_owners(gateway: Gateway) -> dict[str, str]:
    return parse_owners(gateway.exec(["sh", "-c", STATE_OWNERS], user="root", timeout_s=120).output)


def run_npm_install(gateway: Gateway, hop: Hop, registry_url: str, row: dict, evidence: Evidence,
                    folder: Path) -> ExecResult:
    """`npm install -g` into the image's prefix: npm-install.log."""
    result = gateway.exec(npm_argv(hop.release, registry_url), timeout_s=NPM_TIMEOUT_S, user="root", environment=NPM_ENV)
    (folder / "npm-install.log").write_text(result.output)
    row["in_place"] = {"argv": " ".join(npm_argv(hop.release, "<registry>"))}
    evidence.check(hop.label, Assertion(f"npm install -g openclaw@{hop.release} in place succeeded",
                                        result.exit_code == 0, 0, result.exit_code, f"{hop.label}/npm-install.log: "
                                        + " | ".join(result.output.strip().splitlines()[-3:])[:300], blame=HARNESS))
    return result


def run_openclaw_update(gateway: Gateway, hop: Hop, registry_url: str, row: dict, evidence: Evidence,
                        folder: Path) -> ExecResult:
    """The previous release's `openclaw update`: its dry run (again with npm_config_prefix when it did not detect the
    package manager), then the update itself with the environment that detected it (or interrupted, kill-at-doctor).
    As root, or (as-user) as the Gateway's user after its prefix was chowned to it."""
    as_user = "as-user" in hop.options
    user = "node" if as_user else "root"
    if as_user:
        chown = gateway.exec(["chown", "-R", f"{NODE_UID}:{NODE_UID}", PREFIX], user="root", timeout_s=300)
        row["prefix_chowned"] = {"prefix": PREFIX, "to": NODE_UID, "exit_code": chown.exit_code}
    tries = []
    for prefix in (False, True):
        dry = gateway.exec(update_argv(hop.release, dry_run=True), timeout_s=300, user=user,
                           environment=update_env(registry_url, prefix, as_user))
        preview = last_json(dry.output)
        tries.append({"npm_config_prefix": PREFIX if prefix else None, "exit_code": dry.exit_code,
                      "detected": detected(preview), "preview": preview,
                      **({} if preview else {"output_tail": dry.output[-2000:]})})
        if detected(preview):
            break
    prefix = tries[-1]["npm_config_prefix"] is not None
    fix = (f"the dry run without it did not detect a package manager (mode {tries[0]['preview'] and tries[0]['preview'].get('mode')!r}); "
           f"run with npm_config_prefix={PREFIX}, as a user fixes it" if prefix else "detected without any fix")
    (folder / "update-dry-run.json").write_text(json.dumps({"tries": tries, "fix": fix}, indent=2) + "\n")
    evidence.check(hop.label, Assertion(f"`openclaw update --dry-run` of {gateway.version()} detects how it is installed",
                                        tries[-1]["detected"], f"mode one of {PACKAGE_MANAGERS}",
                                        (tries[-1]["preview"] or {}).get("mode"), f"{hop.label}/update-dry-run.json: {fix}",
                                        blame=HARNESS))
    argv = update_argv(hop.release)
    env = update_env(registry_url, prefix, as_user)
    if "kill-at-doctor" in hop.options:
        result, killed = _interrupted(gateway, argv, env, user)
        row["interrupted"] = killed
    else:
        result = gateway.exec(argv, timeout_s=NPM_TIMEOUT_S + 120, user=user, environment=env)
    (folder / "update.log").write_text(result.output)
    outcome = last_json(result.output)
    (folder / "update.json").write_text(json.dumps(outcome, indent=2) + "\n")
    ok, why = update_verdict(outcome, result.exit_code)
    steps = [{k: s.get(k) for k in ("name", "exitCode", "durationMs")} for s in (outcome or {}).get("steps") or []
             if isinstance(s, dict)]
    row["in_place"] = {"argv": " ".join(argv), "user": user, "npm_config_prefix": PREFIX if prefix else None, "fix": fix,
                       "update_status": (outcome or {}).get("status"), "update_reason": (outcome or {}).get("reason"),
                       "update_steps": steps, "update_verdict": why}
    if "kill-at-doctor" in hop.options:  # an interrupted update has no verdict of its own: what it left is the point
        evidence.check(hop.label, Assertion("the updater was killed while its post-install doctor ran",
                                            bool(row["interrupted"].get("killed")), "killed", row["interrupted"],
                                            f"{hop.label}/update.log", blame=HARNESS))
    else:
        evidence.check(hop.label, Assertion(f"`openclaw update --tag {hop.release}` installed it", ok, "status ok, exit 0",
                                            why, f"{hop.label}/update.json, update.log", blame=GATEWAY))
    return result


def _interrupted(gateway: Gateway, argv: list[str], env: dict[str, str], user: str) -> tuple[ExecResult, dict]:
    """The updater in a thread; as soon as a post-install doctor process shows in the container, every process of the
    updater's process group is SIGKILLed (as a closed terminal or a reboot mid-update leaves it)."""
    box: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: box.update(result=gateway.exec(
        argv, timeout_s=NPM_TIMEOUT_S + 120, user=user, environment=env)), daemon=True)
    worker.start()
    # The updater's `timeout` wrapper leads its process group (docker exec starts a session); the doctor is a child.
    # Not the finder itself ("sh -c …", wrapped as "timeout <n> sh -c …"), whose text names both.
    find = ("for p in /proc/[0-9]*; do c=$(tr '\\0' ' ' < $p/cmdline 2>/dev/null); case \"$c\" in "
            "'sh '*|'timeout '*' sh '*) ;; "
            f"*' {DOCTOR_MARK} '*--fix*|openclaw-{DOCTOR_MARK}*) echo doctor ${{p#/proc/}} $(cut -d' ' -f5 $p/stat);; "
            "'timeout '*' openclaw update '*) echo updater ${p#/proc/} $(cut -d' ' -f5 $p/stat);; esac; done")
    killed: dict[str, Any] = {"killed": False}
    started = time.monotonic()
    deadline = started + NPM_TIMEOUT_S
    while worker.is_alive() and time.monotonic() < deadline:
        seen = gateway.exec(["sh", "-c", find], user="root", timeout_s=30).output.split()
        rows = [tuple(seen[i:i + 3]) for i in range(0, len(seen) - 2, 3)]
        groups = {group for kind, _, group in rows if kind == "updater" and group not in ("0", "1")}
        doctor = next((pid for kind, pid, group in rows if kind == "doctor" and group in groups), None)
        if doctor is not None:  # the updater's own post-install doctor (same process group): kill the whole group
            group = next(group for kind, pid, group in rows if kind == "doctor" and pid == doctor)
            # dash's kill takes a negative pid as a process group and has no `--`; the doctor counts as killed
            # only when the kill succeeded and the doctor is gone (or a zombie waiting to be reaped) after it.
            kill = gateway.exec(["sh", "-c", f"kill -9 -{group}; rc=$?; sleep 0.5; "
                                             f"s=$(cut -d' ' -f3 /proc/{doctor}/stat 2>/dev/null); "
                                             "echo rc=$rc doctor=${s:-gone}"], user="root", timeout_s=30)
            killed = {"killed": was_killed(kill.output), "process_group": int(group), "doctor_pid": int(doctor),
                      "after_s": round(time.monotonic() - started, 1), "output": kill.output.strip()[-200:]}
            break
        time.sleep(KILL_POLL_S)
    worker.join(timeout=60)
    return box.get("result") or gateway_result(argv), killed


def was_killed(output: str) -> bool:
    """From the kill's own report (`rc=<kill's exit> doctor=<its state>`): the kill succeeded and the doctor is gone."""
    found = re.search(r"rc=(\d+) doctor=(\S+)", output)
    return bool(found) and found.group(1) == "0" and found.group(2) in ("gone", "Z")


def gateway_result(argv: list[str]) -> ExecResult:
    from ..containers.gateway import ExecResult
    return ExecResult(argv, -1, "", 0.0)


INSTALLERS: dict[str, Callable[..., "ExecResult"]] = {"npm": run_npm_install, "update": run_openclaw_update}


def install_in_place(resources: RunResources, registry_image: str, gateway: Gateway, hop: Hop, row: dict,
                     evidence: Evidence, folder: Path, stop_timeout_s: int,
                     before_restart: Callable[[], None] | None = None) -> None:
    """Install hop.release into the running Gateway's container (npm or the old release's updater: INSTALLERS), keep
    the registry's log and the installer's output, check what landed, record what it did to ownership under the state
    dir, run `before_restart` (the old Gateway's turn), then stop the Gateway (its container is started again by the
    hop, as a service manager does)."""
    network = gateway.network.name if gateway.network is not None else "bridge"
    registry = PrivateRegistry(resources, registry_image, network, f"{gateway.name}-npm-registry-hop{hop.number}")
    old = gateway.version()
    owners_before = state_owners(gateway)
    try:
        registry.start()
        result = INSTALLERS[hop.installs or "npm"](gateway, hop, registry.url, row, evidence, folder)
    finally:
        registry.stop()
        requests = parse_requests(registry.log)
        (folder / "registry-requests.jsonl").write_text("".join(json.dumps(r) + "\n" for r in requests))
        (folder / "registry.log").write_text(registry.log)
    got = fetched(requests)
    (folder / "npm-fetched.json").write_text(json.dumps(got, indent=2) + "\n")
    running = gateway.status() == "running"
    new = gateway.version() if running else "not read: the old Gateway's container stopped during the install"
    row["in_place"].update({
        "from": old, "installed": new, "installer": hop.installs,
        "registry": {"image": registry_image, "network": network, "started_s": round(registry.started_in, 1)},
        "npm_exit_code": result.exit_code, "npm_seconds": round(result.seconds, 1),
        "log_lines": got["log_lines"], "urls": got["urls"], "packuments": len(got["packuments"]),
        "tarballs": len(got["tarballs"]), "failed_requests": len(got["failed"]),
        "refused": sorted({unquote(f["url"]) for f in got["failed"]})[:20],
        "old_gateway_after_install": "running" if running else f"exited ({gateway.exit_code()})"})
    row["installed"] = (f"openclaw@{hop.release} by {hop.installs}: {len(got['tarballs'])} tarballs fetched, "
                        f"exit {result.exit_code}")
    # npm install -g must get everything from the registry; the updater may also ask for packages the registry was not
    # seeded with (plugins): those refusals are recorded in the row, not failed here.
    evidence.check(hop.label, Assertion("every package the install fetched came from the run's registry"
                                        + (", none refused" if hop.installs == "npm" else ""),
                                        f"openclaw@{hop.release}" in got["tarballs"]
                                        and (hop.installs != "npm" or not got["failed"]),
                                        f"openclaw@{hop.release} among the tarballs",
                                        {"tarballs": len(got["tarballs"]), "failed": got["failed"][:5]},
                                        f"{hop.label}/registry-requests.jsonl", blame=HARNESS))
    if running and "kill-at-doctor" not in hop.options:
        evidence.check(hop.label, Assertion(f"openclaw {hop.release} is what `openclaw` runs now", new == hop.release,
                                            hop.release, new, f"before the install: {old}", blame=HARNESS))
    if running:
        owners = ownership_changes(owners_before, state_owners(gateway))
        (folder / "state-ownership.json").write_text(json.dumps(owners, indent=2) + "\n")
        row["in_place"]["ownership"] = {k: len(v) for k, v in owners.items() if isinstance(v, (dict, list))}
    if running and before_restart is not None:
        before_restart()
    gateway.stop(timeout_s=stop_timeout_s)  # SIGTERM: the service manager's restart, its start is the hop's
