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

    inputs.py   every input checked before the first connection: the URL (loopback, or wss:// with --allow-remote),
                the token file, the agent, the state dir (LiveOptions, Destination)
    gateway.py  connecting; the state dir checked to be the Gateway's; the secrets its state and config hold
                remembered; the scripted provider served where its config routes it
    steps.py    the Context that reads SQLite on the host, the steps live mode adds, their order (STEPS), and the
                check every step is held to: no other session changed
    run.py      the command: preflight hash, the steps, the after-checks, doctor validate, the proof session's cleanup
    summary.py  the verdict (LiveResult), summary.json, summary.md, junit.xml; the config and log lines, redacted
"""

from .gateway import check_state_dir, read_config, remember_state_secrets, start_provider
from .inputs import LiveOptions, check_url
from .run import PROOF_NAME, live
from .steps import untouched
from .summary import log_line, redacted_config

__all__ = ["PROOF_NAME", "LiveOptions", "check_state_dir", "check_url", "live", "log_line", "read_config",
           "redacted_config", "remember_state_secrets", "start_provider", "untouched"]
