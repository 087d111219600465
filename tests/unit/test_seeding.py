import json

import pytest

from path3_sandbox.state.fixtures import Fixture
from path3_sandbox.state.seeding import TARGET_NEWEST_AGE_MS, build_seed, shift_timestamps


def make_fixture(tmp_path, *, retime=True, config=None):
    state = tmp_path / "state" / "agents" / "main" / "sessions"
    state.mkdir(parents=True)
    (state / "sessions.json").write_text(json.dumps({"agent:main:main": {
        "sessionId": "s-1", "sessionFile": "/home/alice/.openclaw/agents/main/sessions/s-1.jsonl", "updatedAt": 1763629260000}}))
    (state / "s-1.jsonl").write_text('{"type":"session","id":"s-1","timestamp":"2025-11-20T09:00:00.000Z"}\n'
                                     '{"type":"message","id":"m","timestamp":"2025-11-20T09:01:00.000Z"}\n')
    if config is not None:
        (tmp_path / "state" / "openclaw.json").write_text(json.dumps(config))
    (tmp_path / "fixture.json").write_text(json.dumps({
        "name": "t", "catches": "x", "origin": "test", "state_dir_as_written": "/home/alice/.openclaw", "retime": retime,
        "agents": {"main": {"sessions": {"agent:main:main": {"sessionId": "s-1", "events": 2}}}}}))
    return Fixture.load(tmp_path)


def test_shifting_moves_iso_and_epoch_ms_and_nothing_else():
    data = b'{"t":"2025-11-20T09:00:00.000Z","u":1763629200000,"n":12345,"s":"1763629200000x"}'
    shifted = shift_timestamps(data, 60_000)
    assert shifted == b'{"t":"2025-11-20T09:01:00.000Z","u":1763629260000,"n":12345,"s":"1763629260000x"}'


def test_identical_lines_stay_identical_after_shifting():
    line = b'{"type":"message","timestamp":"2025-11-20T09:00:00.000Z"}\n'
    assert shift_timestamps(line * 2, 5) == shift_timestamps(line, 5) * 2


def test_seed_rewrites_the_authors_state_dir_and_makes_the_newest_timestamp_an_hour_old(tmp_path):
    now = 1_800_000_000.0
    seed = build_seed(make_fixture(tmp_path), {"gateway": {"port": 1}}, now=now)
    files = {f.path: f for f in seed.files}
    store = json.loads(files["agents/main/sessions/sessions.json"].data)
    assert store["agent:main:main"]["sessionFile"] == "/home/node/.openclaw/agents/main/sessions/s-1.jsonl"
    assert store["agent:main:main"]["updatedAt"] == int(now * 1000) - TARGET_NEWEST_AGE_MS
    assert seed.rewritten_paths == 1
    assert all(now - 7200 < f.mtime < now for f in seed.files)


def test_a_state_that_must_not_be_retimed_keeps_its_bytes(tmp_path):
    fixture = make_fixture(tmp_path, retime=False)
    seed = build_seed(fixture, {}, now=1_800_000_000.0)
    original = (fixture.state / "agents/main/sessions/s-1.jsonl").read_bytes()
    assert {f.path: f.data for f in seed.files}["agents/main/sessions/s-1.jsonl"] == original
    assert seed.shift_ms == 0


def test_the_harness_config_is_merged_into_the_users_and_the_overrides_recorded(tmp_path):
    fixture = make_fixture(tmp_path, config={"gateway": {"port": 9999}, "session": {"store": "x"}})
    seed = build_seed(fixture, {"gateway": {"port": 18789}})
    config = json.loads({f.path: f.data for f in seed.files}["openclaw.json"])
    assert config == {"gateway": {"port": 18789}, "session": {"store": "x"}}
    assert [o.to_json() for o in seed.config_overrides] == [{"key": "gateway.port", "before": 9999, "after": 18789}]


def user_state(tmp_path, *, config):
    """A user's state (retime off) with a Telegram bot of two accounts, a Discord bot, a provider of its own in the
    config and in an agent's models.json, credentials for anthropic, and a session pinned to another provider."""
    fixture = make_fixture(tmp_path, retime=False, config=config)
    store = fixture.state / "agents" / "main" / "sessions" / "sessions.json"
    entries = json.loads(store.read_text())
    entries["agent:main:main"].update({"providerOverride": "deepseek", "modelOverride": "deepseek-chat"})
    entries["agent:main:other"] = {"sessionId": "s-2", "modelOverride": "groq/llama-4"}
    store.write_text(json.dumps(entries))
    agent = fixture.state / "agents" / "main" / "agent"
    agent.mkdir(parents=True)
    (agent / "models.json").write_text(json.dumps({"providers": {"my-proxy": {"baseUrl": "https://llm.example/v1",
                                                                              "apiKey": "sk-user-abc"}}}))
    (agent / "auth-profiles.json").write_text(json.dumps({"profiles": {"anthropic:me": {"provider": "anthropic",
                                                                                          "key": "sk-ant-xyz"}}}))
    return fixture


USER_CONFIG = {"channels": {"telegram": {"accounts": {"a": {"botToken": "1:a"}, "b": {"botToken": "2:b"}}},
                            "discord": {"token": "d"}},
               "models": {"providers": {"my-proxy": {"baseUrl": "https://llm.example/v1", "apiKey": "sk-user-abc",
                                                     "models": []}}},
               "agents": {"defaults": {"model": {"primary": "my-proxy/big"}}}}


def test_a_users_state_never_goes_live_its_bots_off_and_its_providers_unreachable(tmp_path):
    from path3_sandbox.state.config import UNREACHABLE_BASE_URL, deep_merge, harness_config
    from path3_sandbox.scenario.provider import provider_config

    fixture = user_state(tmp_path, config=USER_CONFIG)
    sessions_before = json.loads((fixture.state / "agents/main/sessions/sessions.json").read_bytes())
    harness, _ = deep_merge(harness_config("t0k"), provider_config("http://host.docker.internal:4000/v1"))
    seed = build_seed(fixture, harness, now=1_800_000_000.0)
    files = {f.path: f.data for f in seed.files}
    config = json.loads(files["openclaw.json"])
    assert config["channels"]["telegram"]["enabled"] is False and config["channels"]["discord"]["enabled"] is False
    providers = config["models"]["providers"]
    assert {p: v["baseUrl"] for p, v in providers.items()} == {
        "my-proxy": UNREACHABLE_BASE_URL, "anthropic": UNREACHABLE_BASE_URL, "deepseek": UNREACHABLE_BASE_URL,
        "groq": UNREACHABLE_BASE_URL, "path3-scripted": "http://host.docker.internal:4000/v1"}
    assert json.loads(files["agents/main/agent/models.json"])["providers"]["my-proxy"]["baseUrl"] == UNREACHABLE_BASE_URL
    seeded = json.loads(files["agents/main/sessions/sessions.json"])  # data under test: its overrides stay as they were
    assert seeded["agent:main:other"] == sessions_before["agent:main:other"]
    assert {k: seeded["agent:main:main"][k] for k in ("providerOverride", "modelOverride")} == {
        "providerOverride": "deepseek", "modelOverride": "deepseek-chat"}
    record = seed.to_json()
    assert record["user_state_offline"]["channel_accounts_disabled"] == 3
    assert record["user_state_offline"]["providers_unreachable"] == ["anthropic", "deepseek", "groq", "my-proxy"]
    keys = {o["key"] for o in record["config_overrides"]}
    assert {"channels.telegram.enabled", "channels.discord.enabled", "models.providers.my-proxy.baseUrl",
            "models.providers.deepseek.baseUrl", "agents/main/agent/models.json:providers.my-proxy.baseUrl"} <= keys


@pytest.mark.parametrize("network", ["hermetic", "open"])
def test_the_proof_seeds_a_user_state_offline_whatever_the_network(network, tmp_path, monkeypatch):
    """What FixtureProof puts on the volume, with Docker faked: the same offline config for both --network modes."""
    from types import SimpleNamespace

    import path3_sandbox.proof.proof as proof
    import path3_sandbox.proof.session as session
    from path3_sandbox.state.config import UNREACHABLE_BASE_URL

    written = {}
    monkeypatch.setattr(session, "put_files", lambda resources, tag, volume, files: written.update(
        {f.path: f.data for f in files}))
    monkeypatch.setattr(session, "HermeticNetwork", lambda *a, **k: SimpleNamespace(create=lambda: "net"))
    monkeypatch.setattr(session, "Gateway", lambda *a, **k: SimpleNamespace())
    resources = SimpleNamespace(run_id="run-1", volume=lambda name, driver_opts=None: name)
    fixture = user_state(tmp_path, config=USER_CONFIG)
    image = SimpleNamespace(tag="path3-sandbox/gateway:test")
    contract = SimpleNamespace(contract="startup-import")
    provider = SimpleNamespace(base_url_for_containers="http://host.docker.internal:4000/v1", port=4000, host="127.0.0.1")
    run = proof.FixtureProof(image, fixture, contract, resources, tmp_path / "evidence", provider=provider, network=network)
    run._seed()
    config = json.loads(written["openclaw.json"])
    assert [c for c, v in config["channels"].items() if v.get("enabled") is not False] == []
    assert {p for p, v in config["models"]["providers"].items() if v["baseUrl"] != UNREACHABLE_BASE_URL} == {"path3-scripted"}
    seed_json = json.loads((tmp_path / "evidence" / "seed.json").read_text())
    assert seed_json["user_state_offline"]["channels_disabled"] == {"discord": 1, "telegram": 2}


def test_summary_md_says_the_user_state_was_kept_offline(tmp_path):
    from path3_sandbox.state.seeding import offline_line

    for name, record in (("a", {"channel_accounts_disabled": 3, "providers_unreachable": ["anthropic", "my-proxy"]}),
                         ("b", {"channel_accounts_disabled": 0, "providers_unreachable": ["anthropic"]})):
        (tmp_path / name).mkdir()
        (tmp_path / name / "seed.json").write_text(json.dumps({"user_state_offline": record}))
    line = offline_line([tmp_path / "a", tmp_path / "b", tmp_path / "never-seeded"])
    assert line.startswith("user state kept offline: 3 channel account(s) disabled, 2 provider(s) made unreachable "
                           "(`anthropic`, `my-proxy`)"), line


@pytest.mark.parametrize("name", ["openclaw.json", "agents/main/agent/models.json", "agents/main/agent/auth-profiles.json",
                                  "agents/main/sessions/sessions.json"])
def test_a_json_file_seeding_parses_nested_too_deep_is_a_fixture_error_not_a_recursion_error(tmp_path, name):
    """A fixture given by path reaches seeding without the inference's early check: the same limit holds there."""
    from path3_sandbox.errors import FixtureError
    from path3_sandbox.state.fixtures import Fixture
    from path3_sandbox.state.seeding import build_seed

    state = tmp_path / "fx" / "state"
    (state / "agents" / "main" / "sessions").mkdir(parents=True)
    (state / "agents" / "main" / "sessions" / "sessions.json").write_text("{}")
    (state / name).parent.mkdir(parents=True, exist_ok=True)
    (state / name).write_text('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(FixtureError, match="nests JSON more than 256 deep"):
        build_seed(Fixture("fx", tmp_path / "fx", "", "", None, ()), {"gateway": {}}, now=1_800_000_000)


def local_node(root):
    """A runner that runs a probe's node script on a local folder instead of the container's state dir."""
    import subprocess

    from path3_sandbox.containers.gateway import ExecResult

    def runner(argv):
        argv = [*argv[:4], str(root), *argv[5:]]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        return ExecResult(argv, done.returncode, done.stdout + done.stderr, 0.0)

    return runner


@pytest.mark.skipif(not __import__("shutil").which("node"), reason="needs node to run the probe script")
def test_every_seeded_file_is_seen_by_the_file_probe_a_workspace_projects_cache_tmp_and_node_modules_included(tmp_path):
    import hashlib

    from path3_sandbox.probes import files as files_probe

    fixture = make_fixture(tmp_path / "fx")
    project = fixture.state / "workspace" / "proj"
    for name in ("node_modules/left-pad/index.js", "cache/build.bin", "tmp/notes.txt", "sessions.json"):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(name)
    for name in ("cache/models.json", "tmp/gateway.lock"):  # the Gateway's scratch at the state root
        (fixture.state / name).parent.mkdir(parents=True, exist_ok=True)
        (fixture.state / name).write_text(name)
    seed = build_seed(fixture, {}, now=1_800_000_000.0)
    seeded = {f.path: hashlib.sha256(f.data).hexdigest() for f in seed.files}
    assert "workspace/proj/node_modules/left-pad/index.js" in seeded and "cache/models.json" not in seeded
    assert seed.to_json()["scratch_files_left_out"] == 2
    volume = tmp_path / "volume"
    for f in seed.files:
        (volume / f.path).parent.mkdir(parents=True, exist_ok=True)
        (volume / f.path).write_bytes(f.data)
    (volume / "cache").mkdir()
    (volume / "cache" / "written-by-the-gateway").write_text("x")
    seen = files_probe.snapshot(local_node(volume))
    assert {p: f.sha256 for p, f in seen.files.items()} == seeded  # the probe-before check's comparison
    texts = files_probe.read_texts(local_node(volume), r"^workspace/proj/(cache|tmp)/", r"^cache/")
    assert sorted(texts) == ["workspace/proj/cache/build.bin", "workspace/proj/tmp/notes.txt"]
