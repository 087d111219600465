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
