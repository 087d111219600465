from path3_sandbox.state.config import deep_merge, harness_config


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


USER_CONFIG = {
    "channels": {
        "defaults": {"groupPolicy": "allowlist"},  # not a channel
        "modelByChannel": {"discord": {"123": "openrouter/some-model"}},  # not a channel; names a provider
        "telegram": {"botToken": "123:abc", "accounts": {"main": {"botToken": "1:a"}, "alerts": {"botToken": "2:b"}}},
        "discord": {"token": "discord-token", "enabled": True},
    },
    "models": {"providers": {"my-proxy": {"baseUrl": "https://llm.example/v1", "apiKey": "sk-user", "models": []}}},
    "agents": {"defaults": {"model": {"primary": "anthropic/claude-opus-4-6", "fallbacks": ["openai/gpt-5.2", "alias"]},
                            "models": {"google/gemini-3-pro": {}}},
               "list": [{"id": "work", "model": "xai/grok-4"}]},
}


def test_a_users_channels_are_disabled_and_every_provider_it_defines_or_names_points_nowhere():
    from path3_sandbox.state.config import OFFLINE_API_KEY, UNREACHABLE_BASE_URL, offline_overlay

    overlay, offline = offline_overlay(USER_CONFIG, named_providers={"mistral", "path3-scripted"}, keep={"path3-scripted"})
    assert overlay["channels"] == {"discord": {"enabled": False}, "telegram": {"enabled": False}}
    assert offline.channels == {"discord": 1, "telegram": 2} and offline.accounts == 3
    providers = overlay["models"]["providers"]
    assert providers["my-proxy"] == {"baseUrl": UNREACHABLE_BASE_URL}  # the user's own: only its address changes
    for named in ("anthropic", "openai", "google", "xai", "openrouter", "mistral"):  # named, not defined: defined nowhere
        assert providers[named] == {"baseUrl": UNREACHABLE_BASE_URL, "apiKey": OFFLINE_API_KEY, "models": []}, named
    assert "path3-scripted" not in providers and "alias" not in providers
    assert offline.providers == tuple(sorted(providers))
    merged, overrides = deep_merge(USER_CONFIG, overlay)
    assert merged["channels"]["telegram"]["accounts"] == USER_CONFIG["channels"]["telegram"]["accounts"]  # kept as is
    assert merged["models"]["providers"]["my-proxy"]["apiKey"] == "sk-user"
    assert {"key": "channels.discord.enabled", "before": True, "after": False} in [o.to_json() for o in overrides]


def test_a_state_with_no_channel_and_no_provider_gets_nothing_from_the_offline_overlay():
    from path3_sandbox.state.config import offline_overlay

    assert offline_overlay({"gateway": {"port": 1}, "agents": {"defaults": {"model": {"primary": "bare-alias"}}}}) == \
        ({}, offline_overlay({})[1])
