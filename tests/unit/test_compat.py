"""`compat`: releases picked in publish order, skipped ones said so, the first bad found by bisection with fewer tries
than releases, and a report that names it with its evidence. No Docker, no network: the publish list and the
`try_release` callable are passed in."""

import json
from pathlib import Path

import pytest

from path3_sandbox.cli import main
from path3_sandbox.errors import EXIT_PROOF_FAILED, EXIT_PROOF_PASSED, EXIT_USAGE, TargetError, UsageError
from path3_sandbox.upgrades.compat import (NOT_TRIED, Outcome, Release, compat_markdown, find_first_bad, plan,
                                           publish_order, select_releases, write)

# Publish order differs from version order: 2026.9.2 was published after 2026.9.4, and 2026.7.35 (file-backed)
# after 2026.9.3. The ISO times mix offsets and precisions, as registries do.
TIMES = {
    "created": "2026-01-01T00:00:00.000Z",
    "modified": "2026-09-30T00:00:00.000Z",
    "2026.9.6": "2026-09-24T22:17:03.665Z",
    "2026.8.1": "2026-08-01T10:00:00.000Z",
    "2026.7.2-beta.7": "2026-07-20T10:00:00Z",
    "2026.9.1": "2026-09-01T10:00:00.000Z",
    "2026.9.4": "2026-09-10T10:00:00.000Z",
    "2026.9.2": "2026-09-11T10:00:00.000+00:00",
    "2026.9.3": "2026-09-12T12:00:00.000+02:00",  # 10:00 UTC
    "2026.7.35": "2026-09-12T11:00:00.000Z",
    "2026.9.5-beta.1": "2026-09-13T10:00:00.000Z",
    "2026.9.5": "2026-09-19T14:54:53.037Z",
    "2026.9.7": "2026-09-28T10:00:00.000Z",  # no contract known
}
PUBLISHED = publish_order(TIMES)
TAGS = {"latest": "2026.9.6", "beta": "2026.9.5-beta.1"}


def resolve(tag):
    if tag not in TAGS:
        raise TargetError(f"npm has no openclaw@{tag}", hint="a dist-tag such as latest")
    return TAGS[tag]


def versions(releases):
    return [r.version for r in releases]


def test_the_publish_list_is_in_publish_order_without_the_documents_own_keys():
    assert versions(PUBLISHED) == ["2026.7.2-beta.7", "2026.8.1", "2026.9.1", "2026.9.4", "2026.9.2", "2026.9.3",
                                   "2026.7.35", "2026.9.5-beta.1", "2026.9.5", "2026.9.6", "2026.9.7"]  # 9.3: 10:00Z


def test_a_range_is_every_release_published_from_a_through_b_in_publish_order_not_version_order():
    selected = versions(select_releases("2026.9.4..2026.9.5", PUBLISHED, resolve))
    assert selected == ["2026.9.4", "2026.9.2", "2026.9.3", "2026.7.35", "2026.9.5"]  # 9.2 after 9.4; beta left out
    assert versions(select_releases("openclaw@2026.9.1..2026.9.2", PUBLISHED, resolve)) == ["2026.9.1", "2026.9.4", "2026.9.2"]


def test_the_end_of_a_range_may_be_a_dist_tag():
    assert versions(select_releases("2026.9.5..latest", PUBLISHED, resolve)) == ["2026.9.5", "2026.9.6"]


def test_pre_releases_are_left_out_unless_an_end_of_the_range_is_one():
    assert "2026.9.5-beta.1" not in versions(select_releases("2026.8.1..2026.9.6", PUBLISHED, resolve))
    assert "2026.7.2-beta.7" not in versions(select_releases("2026.8.1..2026.9.6", PUBLISHED, resolve))
    with_beta = versions(select_releases("2026.9.3..beta", PUBLISHED, resolve))
    assert with_beta == ["2026.9.3", "2026.7.35", "2026.9.5-beta.1"]
    assert versions(select_releases("2026.7.2-beta.7..2026.8.1", PUBLISHED, resolve)) == ["2026.7.2-beta.7", "2026.8.1"]


def test_a_comma_list_is_taken_in_the_order_given_each_once():
    assert versions(select_releases("2026.9.6, 2026.9.5,2026.9.6,latest", PUBLISHED, resolve)) == ["2026.9.6", "2026.9.5"]
    [release] = select_releases("2026.9.5-beta.1", PUBLISHED, resolve)
    assert release.published == "2026-09-13T10:00:00.000Z"


@pytest.mark.parametrize("spec, named", [("2026.9.9..2026.9.6", "2026.9.9"), ("2026.9.1..2026.10.1", "2026.10.1"),
                                         ("2026.9.5,2026.9.77", "2026.9.77"), ("2026.9.1..nightly", "nightly")])
def test_an_end_the_registry_does_not_have_is_bad_input_naming_it(spec, named):
    with pytest.raises(UsageError, match=named.replace(".", r"\.")) as raised:
        select_releases(spec, PUBLISHED, resolve)
    assert raised.value.hint


@pytest.mark.parametrize("spec", ["2026.9.6..2026.9.5", "..2026.9.6", "2026.9.5..", "2026.9.1..2026.9.2..2026.9.3",
                                  " , ", "not a version!"])
def test_a_malformed_or_backwards_range_is_bad_input(spec):
    with pytest.raises(UsageError):
        select_releases(spec, PUBLISHED, resolve)


def test_releases_without_a_contract_and_file_backed_ones_are_skipped_with_the_reason():
    candidates = plan(select_releases("2026.9.3..2026.9.7", PUBLISHED, resolve))
    by = {c.version: c for c in candidates}
    assert [c.version for c in candidates if c.contract] == ["2026.9.3", "2026.9.5", "2026.9.6"]
    assert by["2026.7.35"].skipped.startswith("file-backed") and by["2026.9.7"].skipped.startswith("no contract known")
    assert by["2026.9.5"].contract.contract == "refuse-then-doctor" and by["2026.9.6"].contract.contract == "startup-import"


def test_contract_gives_the_unknown_releases_one_but_never_a_file_backed_one_and_leaves_known_ones_alone():
    by = {c.version: c for c in plan(select_releases("2026.9.3..2026.9.7", PUBLISHED, resolve), "startup-import")}
    assert by["2026.9.7"].contract.contract == "startup-import" and by["2026.9.7"].contract.source == "--contract"
    assert by["2026.7.35"].contract is None
    assert by["2026.9.5"].contract.contract == "refuse-then-doctor"


def test_nothing_left_to_try_is_bad_input():
    with pytest.raises(UsageError, match="none of the 2 release"):
        plan([Release("2026.7.35"), Release("2026.9.7")])


def fake(bad_from: str | None, order: list[str]):
    """A try_release where every release from `bad_from` on (in `order`) fails; records the tries."""
    tries: list[str] = []

    def try_release(candidate):
        tries.append(candidate.version)
        bad = bad_from is not None and order.index(candidate.version) >= order.index(bad_from)
        return Outcome(not bad, "refused" if bad else "imported",
                       f"[gateway] first start of {candidate.version}: crashed" if bad else None,
                       f"{candidate.version}/summary.md", 40.0, findings=1 if bad else 0)
    return try_release, tries


def many(n: int):
    """n releases the table knows (2026.8.1-2026.9.5 refuse, then doctor), with one file-backed in the middle."""
    names = [f"2026.8.{i}" for i in range(1, n + 1)]
    releases = [Release(v, f"2026-08-{i:02d}T00:00:00Z") for i, v in enumerate(names, start=1)]
    releases.insert(3, Release("2026.7.35", "2026-08-03T12:00:00Z"))
    return plan(releases), names


def test_bisection_finds_the_first_bad_with_fewer_tries_than_releases():
    candidates, names = many(12)
    try_release, tries = fake("2026.8.8", names)
    answer = find_first_bad("2026.8.1..2026.8.12", candidates, try_release)
    assert answer.bisected and answer.first_bad == "2026.8.8"
    assert tries == ["2026.8.12", "2026.8.1", "2026.8.6", "2026.8.9", "2026.8.7", "2026.8.8"]  # 6 tries for 12
    assert answer.tried == tries and len(tries) < len(names)
    assert answer.clean == ["2026.8.1", "2026.8.6", "2026.8.7"]
    assert answer.exit_code == EXIT_PROOF_FAILED
    statuses = {c.version: answer.status(c) for c in answer.candidates}
    assert statuses["2026.8.2"] == NOT_TRIED and statuses["2026.7.35"].startswith("skipped: file-backed")
    assert answer.line(Path("/runs/x")).startswith("compat: clean on 2026.8.1, 2026.8.6, 2026.8.7; first bad: 2026.8.8 "
                                             "(gateway: first start of 2026.8.8: crashed) evidence: /runs/x/2026.8.8/summary.md")
    assert "(6 tried, 1 skipped, 6 not tried (bisection))" in answer.line()


def test_bisection_when_the_last_release_is_clean_reports_only_what_it_tried_as_clean():
    candidates, names = many(9)
    try_release, tries = fake(None, names)
    answer = find_first_bad("2026.8.1..2026.8.9", candidates, try_release)
    assert tries == ["2026.8.9"] and answer.first_bad is None and answer.exit_code == EXIT_PROOF_PASSED
    assert answer.line() == "compat: clean on 2026.8.9; first bad: none (1 tried, 1 skipped, 8 not tried (bisection))"
    assert {answer.assumed(c) for c in answer.triable if c.version != "2026.8.9"} == {"assumed clean"}


def test_bisection_when_the_first_release_is_bad_stops_there():
    candidates, names = many(7)
    try_release, tries = fake("2026.8.1", names)
    answer = find_first_bad("…", candidates, try_release)
    assert tries == ["2026.8.7", "2026.8.1"] and answer.first_bad == "2026.8.1"
    assert answer.line().startswith("compat: clean on none; first bad: 2026.8.1 (gateway:")


@pytest.mark.parametrize("bad", [f"2026.8.{i}" for i in range(1, 11)])
def test_bisection_finds_any_first_bad_in_at_most_two_plus_log2_tries(bad):
    candidates, names = many(10)
    try_release, tries = fake(bad, names)
    assert find_first_bad("…", candidates, try_release).first_bad == bad
    assert len(tries) <= 2 + 4 and len(set(tries)) == len(tries)


def test_up_to_four_releases_are_all_tried_in_order_and_the_first_failing_is_the_first_bad():
    candidates, names = many(4)
    try_release, tries = fake("2026.8.3", names)
    answer = find_first_bad("…", candidates, try_release)
    assert not answer.bisected and tries == names and answer.first_bad == "2026.8.3"
    assert answer.clean == ["2026.8.1", "2026.8.2"] and not answer.not_tried


def test_all_clean_in_order():
    candidates = plan(select_releases("2026.9.5..latest", PUBLISHED, resolve))
    try_release, tries = fake(None, ["2026.9.5", "2026.9.6"])
    answer = find_first_bad("2026.9.5..latest", candidates, try_release)
    assert tries == ["2026.9.5", "2026.9.6"]
    assert answer.line() == "compat: clean on 2026.9.5, 2026.9.6; first bad: none (2 tried, 0 skipped)"
    assert answer.exit_code == EXIT_PROOF_PASSED


def test_the_report_names_the_first_bad_its_failure_and_its_evidence_and_says_what_was_not_tried(tmp_path):
    candidates, names = many(12)
    try_release, _ = fake("2026.8.8", names)
    written = []
    answer = find_first_bad("2026.8.1..2026.8.12", candidates, try_release, on_outcome=written.append)
    assert len(written) == len(answer.tried) + 1  # after every try, and once done
    text = compat_markdown(answer, "state.tgz", 300)
    assert text.startswith("# ❌ compat: first bad release for state.tgz is openclaw 2026.8.8")
    assert "- **first bad**: openclaw 2026.8.8: gateway: first start of 2026.8.8: crashed ([evidence](2026.8.8/summary.md))" in text
    assert ("| **2026.8.8** | 2026-08-08T00:00:00 | `refuse-then-doctor` | tried | ❌ **fail** `refused` | "
            "[evidence](2026.8.8/summary.md) | gateway: first start of 2026.8.8: crashed |") in text
    assert "| 2026.8.2 | 2026-08-02T00:00:00 | `refuse-then-doctor` | not tried (bisection) | _assumed clean_ |  |  |" in text
    assert "| 2026.8.10 | 2026-08-10T00:00:00 | `refuse-then-doctor` | not tried (bisection) | _assumed bad_ |" in text
    assert "| 2026.7.35 | 2026-08-03T12:00:00 | - | skipped: file-backed" in text
    assert "bisection assumes that once a release fails on this state, every later one fails too" in text
    write(tmp_path, answer, state="state.tgz", seconds=300, first_start_only=True)
    data = json.loads((tmp_path / "compat.json").read_text())
    assert data["first_bad"] == {"version": "2026.8.8", "first_failure": "[gateway] first start of 2026.8.8: crashed",
                                 "evidence": "2026.8.8/summary.md"}
    assert data["tried_order"] == answer.tried and data["strategy"] == "bisection"
    assert {r["version"]: r["status"] for r in data["releases"]}["2026.8.11"] == NOT_TRIED


def test_the_command_refuses_a_range_with_nothing_to_try_before_the_state_is_unpacked_or_docker(monkeypatch, capsys,
                                                                                               tmp_path):
    import path3_sandbox.containers.docker_client as docker_client
    import path3_sandbox.build.target as target

    monkeypatch.setattr(target, "registry_publish_times", lambda: TIMES)
    monkeypatch.setattr(docker_client, "docker_client", lambda: (_ for _ in ()).throw(AssertionError("docker was asked")))
    monkeypatch.setenv("PATH3_ARTIFACTS", str(tmp_path / "artifacts"))
    (tmp_path / "state").mkdir()  # there, but never unpacked: the releases are refused first
    assert main(["compat", str(tmp_path / "state"), "--releases", "2026.7.35,2026.9.7"]) == EXIT_USAGE
    assert "none of the 2 release(s) selected can be tried" in capsys.readouterr().err
    assert main(["compat", str(tmp_path / "state"), "--releases", "2026.9.5..2026.9.99"]) == EXIT_USAGE
    assert "openclaw 2026.9.99 is not published" in capsys.readouterr().err
    assert not (tmp_path / "artifacts").exists()


def no_registry(monkeypatch):
    """Every way compat could reach the npm registry, failing the test if taken."""
    import path3_sandbox.build.target as target

    def refuse(*args, **kwargs):
        raise AssertionError("the registry was asked before the input was checked")

    monkeypatch.setattr(target, "registry_publish_times", refuse)
    monkeypatch.setattr(target, "_registry_get", refuse)


@pytest.mark.parametrize("releases, says", [
    ("garbage!", "'garbage!' is neither a version nor a dist-tag"),
    ("2026.9.5..2026.9.6..2026.9.7", "is not a range A..B"),
    ("..latest", "is not a range A..B"),
    ("2026.9.5..latest,2026.9.6", "is not a range A..B"),
    (" , ,", "an empty release list"),
    ("2026.9.5,not a version", "'not a version' is neither a version nor a dist-tag"),
])
def test_releases_of_bad_syntax_are_refused_with_exit_2_before_the_registry_or_docker(releases, says, monkeypatch,
                                                                                       capsys, tmp_path):
    import path3_sandbox.containers.docker_client as docker_client

    no_registry(monkeypatch)
    monkeypatch.setattr(docker_client, "docker_client", lambda: (_ for _ in ()).throw(AssertionError("docker was asked")))
    monkeypatch.setenv("PATH3_ARTIFACTS", str(tmp_path / "artifacts"))
    assert main(["compat", str(tmp_path), "--releases", releases]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert says in err and "fix:" in err and "Traceback" not in err, err
    assert not (tmp_path / "artifacts").exists()


def test_a_missing_state_is_refused_before_the_registry_is_asked(monkeypatch, capsys, tmp_path):
    no_registry(monkeypatch)
    monkeypatch.setenv("PATH3_ARTIFACTS", str(tmp_path / "artifacts"))
    assert main(["compat", "/no/such/state", "--releases", "2026.9.5..latest"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "/no/such/state does not exist" in err and "fix:" in err
    assert not (tmp_path / "artifacts").exists()


def test_a_dist_tag_the_registry_lacks_is_exit_2_without_fetching_the_publish_list(monkeypatch, capsys, tmp_path):
    """`--releases garbage` is a well-formed dist-tag: only the registry can say it has none. It is asked about that
    tag alone (one small request, answered 404), never for the whole publish list first."""
    import path3_sandbox.build.target as target

    asked = []

    def registry_version(tag):
        asked.append(tag)
        raise TargetError(f"npm has no openclaw@{tag}: 404", hint="pick a published version or a dist-tag such as latest")

    monkeypatch.setattr(target, "registry_publish_times",
                        lambda: (_ for _ in ()).throw(AssertionError("the publish list was fetched before the tag")))
    monkeypatch.setattr(target, "registry_version", registry_version)
    monkeypatch.setenv("PATH3_ARTIFACTS", str(tmp_path / "artifacts"))
    assert main(["compat", str(tmp_path), "--releases", "garbage"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "npm has no openclaw@garbage" in err and "fix:" in err and asked == ["garbage"]
    assert not (tmp_path / "artifacts").exists()


def test_a_table_row_that_is_not_a_contract_is_skipped_with_its_reason_even_with_contract(monkeypatch):
    import path3_sandbox.upgrades.compat as compat
    from path3_sandbox.proof.contracts import CONTRACT_TABLE, ContractRule

    row = ContractRule("2026.9.7", "2026.9.7", "out-of-scope", "keeps sessions in other tables")
    monkeypatch.setattr(compat, "CONTRACT_TABLE", CONTRACT_TABLE + (row,))
    by = {c.version: c for c in plan([Release("2026.9.6"), Release("2026.9.7")], "startup-import")}
    assert by["2026.9.7"].contract is None and by["2026.9.7"].skipped == "out-of-scope (keeps sessions in other tables)"
