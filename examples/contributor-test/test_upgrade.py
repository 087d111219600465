"""An OpenClaw contributor's upgrade test, written with path3-sandbox's pytest plugin.

Copy this folder into your checkout, `pip install path3-sandbox`, and run
    pytest examples/contributor-test --openclaw ./openclaw-2026.9.7.tgz      # your packed build (npm pack)
The plugin builds the Gateway image once, seeds the legacy state, upgrades it the way the release's contract says
(startup import, or refusal + doctor --fix), and removes every container and volume after the test.
"""

import json


def test_my_importer_keeps_labels(upgraded_gateway, legacy_state):
    # What the user had: read from the legacy sessions.json itself, never typed in by hand.
    fixture = legacy_state("unicode")
    legacy = json.loads((fixture.state / "agents/main/sessions/sessions.json").read_text(encoding="utf-8"))

    gw = upgraded_gateway(fixture="unicode")  # add openclaw="./openclaw-2026.9.7.tgz" to pin a build here

    for session in fixture.sessions:  # stored_key: the key the Gateway stores it under (it lowercases some)
        assert gw.sqlite.session(session.stored_key).label == legacy[session.key]["label"]
    listed = {row["key"] for row in gw.rpc.call("sessions.list", {})["sessions"]}
    assert {session.stored_key for session in fixture.sessions} <= listed
