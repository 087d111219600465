"""The pytest plugin driving the real Gateway, as a contributor's failing test meets it."""

FAILING_CONTRIBUTOR_TEST = """
def test_a_label_i_expected_wrongly(upgraded_gateway, path3_evidence):
    gw = upgraded_gateway(fixture="minimal")
    assert gw.starts[-1].kind == "imported"
    assert gw.sqlite.session("agent:main:main").label == "not the label"
"""


def test_a_failing_contributor_test_reports_the_gateway_output_and_keeps_evidence(pytester, default_image, monkeypatch,
                                                                                   tmp_path):
    monkeypatch.setenv("PATH3_ARTIFACTS", str(tmp_path / "artifacts"))
    pytester.makepyfile(FAILING_CONTRIBUTOR_TEST)
    result = pytester.runpytest_subprocess("--openclaw", default_image.target.spec)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*AssertionError*not the label*", "*path3 Gateway minimal on path3-sandbox/gateway:*"])
    [kept] = (tmp_path / "artifacts" / "pytest").glob("*/minimal-0")
    assert "gateway-stdout.log" in {p.name for p in kept.iterdir()}


def test_an_upgraded_gateway_takes_a_turn_from_the_scripted_provider_and_keeps_what_it_imported(upgraded_gateway):
    from path3_sandbox.upgrades.recipe import MARKER_LINE
    from path3_sandbox.upgrades.turns import send_turn

    gw = upgraded_gateway(fixture="minimal")
    assert upgraded_gateway() is gw, "the defaults spelled out or not: one Gateway, one volume"
    before = gw.sqlite.session("agent:main:main")
    reply = send_turn(gw.rpc, "agent:main:main", "P3-PLUGIN-T1", f"a contributor's turn\n{MARKER_LINE} P3-PLUGIN-T1")
    assert "P3-PLUGIN-T1" in reply
    assert [r.marker for r in gw.provider.requests] == ["P3-PLUGIN-T1"], "the model is the scripted one, recorded"
    after = gw.sqlite.session("agent:main:main")
    assert after.events[: len(before.events)] == before.events, "the imported events are untouched by a new turn"
    assert len(after.events) > len(before.events)
