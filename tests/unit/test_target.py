import io
import os
import json
import tarfile

import pytest

from path3_sandbox.errors import TargetError
from path3_sandbox.build.target import Target


def make_tgz(path, package_json: dict | None, *, gz=True, dist: bool = True):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if gz else "w") as archive:
        members = {"package/package.json": json.dumps(package_json).encode()} if package_json is not None else {}
        if dist:  # the built Gateway, incompressible so that a cut lands in it
            members["package/dist/index.js"] = os.urandom(64 * 1024)
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    path.write_bytes(buffer.getvalue())
    return path


@pytest.mark.parametrize("spec", ["2026.9.6", "openclaw@2026.9.6"])
def test_an_exact_version_needs_no_registry(spec):
    target = Target.parse(spec)
    assert (target.kind, target.version, target.needs_resolution()) == ("npm", "2026.9.6", False)
    assert target.identity == "npm:openclaw@2026.9.6"
    assert target.npm_install_arg == "openclaw@2026.9.6"


def test_a_prerelease_version_is_exact():
    assert Target.parse("2026.7.2-beta.7").version == "2026.7.2-beta.7"


def test_a_dist_tag_is_resolved_later():
    assert Target.parse("latest").needs_resolution()


def test_a_range_is_refused_with_the_forms_that_work():
    with pytest.raises(TargetError, match="neither an exact OpenClaw version") as raised:
        Target.parse("^2026.9")
    assert "--openclaw 2026.9.6" in str(raised.value)


def test_a_packed_openclaw_tarball_is_identified_by_its_sha256(tmp_path):
    target = Target.parse(str(make_tgz(tmp_path / "openclaw-2026.9.6.tgz", {"name": "openclaw", "version": "2026.9.6"})))
    assert target.kind == "tarball" and target.version == "2026.9.6"
    assert target.identity.startswith("tarball:sha256:") and len(target.tarball_sha256) == 64
    assert target.npm_install_arg == "/build/target/openclaw.tgz"


def test_a_missing_tarball_is_an_input_error(tmp_path):
    with pytest.raises(TargetError, match="does not exist"):
        Target.parse(str(tmp_path / "nope.tgz"))


def test_an_unreadable_tarball_says_so(tmp_path):
    junk = tmp_path / "junk.tgz"
    junk.write_bytes(b"this is not gzip")
    with pytest.raises(TargetError, match="not a readable npm package"):
        Target.parse(str(junk))


def test_a_tarball_without_package_json_is_refused(tmp_path):
    with pytest.raises(TargetError, match="not a readable npm package"):
        Target.parse(str(make_tgz(tmp_path / "empty.tgz", None)))


def test_a_tarball_of_another_package_is_refused(tmp_path):
    with pytest.raises(TargetError, match="is the npm package 'left-pad', not 'openclaw'"):
        Target.parse(str(make_tgz(tmp_path / "left-pad-1.0.0.tgz", {"name": "left-pad", "version": "1.0.0"})))


def test_a_truncated_openclaw_tarball_is_refused_before_any_image_is_built(tmp_path):
    whole = make_tgz(tmp_path / "whole.tgz", {"name": "openclaw", "version": "2026.9.6"}).read_bytes()
    cut = tmp_path / "openclaw-2026.9.6.tgz"
    cut.write_bytes(whole[: len(whole) // 2])  # package.json is whole: only reading to the end finds the cut
    with pytest.raises(TargetError, match="not a readable npm package") as raised:
        Target.parse(str(cut))
    assert "npm pack" in str(raised.value)


def test_an_openclaw_tarball_packed_without_its_build_is_refused(tmp_path):
    with pytest.raises(TargetError, match="without its dist/") as raised:
        Target.parse(str(make_tgz(tmp_path / "openclaw-2026.9.6.tgz", {"name": "openclaw", "version": "2026.9.6"},
                                  dist=False)))
    assert "package-openclaw-for-docker.mjs" in str(raised.value)
