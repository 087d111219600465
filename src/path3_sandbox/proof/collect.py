"""The evidence a proof keeps whatever happened (its Gateway's stdout and file logs, the migration run manifests, the
config, the failure reports, the commands), and how its Gateway was connected (network.json); collecting never hides
the verdict. `proof` is the FixtureProof (proof.py) whose evidence this is."""

from __future__ import annotations

import time
from contextlib import suppress

from ..containers.network import open_network_json
from ..probes import files as files_probe


def collect_evidence(proof) -> None:
    """Evidence that must exist whatever happened: stdout, file log, migration manifests, commands."""
    ev, gateway = proof.evidence, proof.gateway
    if proof.rpc is not None:
        proof.rpc.close()
    if gateway is None:
        return
    with proof.timed("collect"):
        try:
            if gateway.status() == "running":
                started = time.monotonic()
                gateway.stop()
                ev.event("collect", "stop", seconds=round(time.monotonic() - started, 2), exit_code=gateway.exit_code())
            gateway.keep_output(ev.root)  # after the stop: its shutdown lines, and the stop among its commands
            kept = files_probe.read_texts(proof._stopped_runner, r"^logs/", r"^session-sqlite-migration-runs/",
                                          r"^openclaw\.json$", r"\.failure\.(md|json)$")
            for rel, text in kept.items():
                target = ev.root / "state" / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
        except Exception as error:  # evidence collection must never hide the verdict
            ev.event("collect", "error", message=f"{type(error).__name__}: {error}")
            with suppress(Exception):  # a stop that failed: what the Gateway printed and ran is kept all the same
                gateway.keep_output(ev.root)
        record_network(proof)
        if proof.network is not None:
            with suppress(Exception):  # removed with the run in any case
                proof.network.stop()


def record_network(proof) -> None:
    """network.json: how the Gateway was connected, and in a hermetic run every name it looked up."""
    try:
        proof.network_record = proof.network.to_json() if proof.network else open_network_json()
    except Exception as error:  # the witness is evidence, never the verdict
        proof.network_record = {"mode": proof.network_mode, "error": f"{type(error).__name__}: {error}"}
    proof.evidence.write_json("network.json", proof.network_record)
    for lookup in proof.network_record.get("dns_lookups", []):
        proof.evidence.event("network", "dns-lookup", **lookup)
    names = proof.network_record.get("names_looked_up")
    if names is not None:
        proof._say("network", f"hermetic; the Gateway looked up {len(names)} name(s)"
                           + (f": {', '.join(names[:8])}" if names else ""))
