import json

from path3_sandbox.fixtures import Fixture
from path3_sandbox.seeding import TARGET_NEWEST_AGE_MS, build_seed, shift_timestamps


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
