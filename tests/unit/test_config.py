from path3_sandbox.config import deep_merge, harness_config


def test_merge_keeps_everything_the_user_had_and_records_each_harness_key():
    user = {"gateway": {"port": 1, "controlUi": {"enabled": True}}, "session": {"store": "x"}}
    merged, overrides = deep_merge(user, {"gateway": {"port": 18789, "bind": "lan"}})
    assert merged == {"gateway": {"port": 18789, "bind": "lan", "controlUi": {"enabled": True}}, "session": {"store": "x"}}
    assert [o.to_json() for o in overrides] == [
        {"key": "gateway.port", "before": 1, "after": 18789},
        {"key": "gateway.bind", "before": None, "after": "lan"},
    ]
    assert user["gateway"]["port"] == 1, "the input must not be modified"


def test_a_scalar_replaced_by_an_object_is_recorded():
    merged, overrides = deep_merge({"logging": "verbose"}, {"logging": {"file": "/x"}})
    assert merged == {"logging": {"file": "/x"}}
    assert {o.path for o in overrides} == {"logging", "logging.file"}


def test_harness_config_carries_the_token_and_quiet_offline_keys():
    config = harness_config("t0k")
    assert config["gateway"]["auth"] == {"mode": "token", "token": "t0k"}
    assert config["update"]["checkOnStart"] is False
    assert config["models"]["catalogRefresh"]["enabled"] is False
    assert config["agents"]["defaults"]["heartbeat"]["every"] == "0m"
    assert config["logging"]["file"].startswith("/home/node/.openclaw/")
