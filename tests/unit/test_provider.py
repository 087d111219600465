import json
import threading

import httpx

from path3_sandbox.scenario.provider import (
    ScriptedProvider, chat_completion_chunks, marker_of, provider_config, responses_events, sse,
)


def parse_sse(raw: bytes) -> list[tuple[str | None, str]]:
    frames = []
    for block in raw.decode().split("\n\n"):
        if not block.strip():
            continue
        event, data = None, []
        for line in block.splitlines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        frames.append((event, "\n".join(data)))
    return frames


def test_sse_frames_are_data_lines_ended_by_a_blank_line():
    assert sse({"a": 1}) == b'data: {"a":1}\n\n'
    assert sse("[DONE]") == b"data: [DONE]\n\n"
    assert sse({"type": "x"}, "response.created") == b'event: response.created\ndata: {"type":"x"}\n\n'


def test_a_chat_completion_streams_role_text_stop_then_usage():
    chunks = list(chat_completion_chunks("P3-A-S1", "m", prompt_tokens=10))
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "P3-A-S1 acknowledged."
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] == 13


def test_a_responses_stream_ends_with_a_completed_response_holding_the_text():
    events = list(responses_events("P3-A-S1", "m", prompt_tokens=4))
    assert [e for e, _ in events][0] == "response.created" and events[-1][0] == "response.completed"
    assert events[-1][1]["response"]["output"][0]["content"][0]["text"] == "P3-A-S1 acknowledged."
    assert [d["sequence_number"] for _, d in events] == list(range(len(events)))


def test_the_marker_is_the_newest_user_turn_not_quoted_history():
    messages = [{"role": "user", "content": "path3 scenario turn P3-A-S1"},
                {"role": "assistant", "content": "P3-A-S1 acknowledged."},
                {"role": "user", "content": [{"type": "text", "text": "[Mon 2026-11-23 14:07 UTC] path3 scenario turn P3-A-S3\n\nRuntime: agent=main"}]},
                {"role": "user", "content": "bootstrap context, no turn here"}]
    assert marker_of(messages) == "P3-A-S3"
    summary_prompt = [{"role": "user", "content": 'Summarise:\n"path3 scenario turn P3-A-S1"\nand more text'}]
    assert marker_of(summary_prompt) is None


def post_chat(provider, marker, **extra):
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": f"path3 scenario turn {marker}"}], **extra}
    return httpx.post(f"http://127.0.0.1:{provider.port}/v1/chat/completions", json=body, timeout=10)


def test_the_server_streams_the_marker_and_records_each_request():
    provider = ScriptedProvider().start()
    try:
        response = post_chat(provider, "P3-T-S1")
        frames = parse_sse(response.content)
        assert response.headers["content-type"] == "text/event-stream" and frames[-1][1] == "[DONE]"
        text = "".join(json.loads(d)["choices"][0]["delta"].get("content", "") for _, d in frames[:-1]
                       if json.loads(d)["choices"])
        assert text == "P3-T-S1 acknowledged."
        [record] = provider.requests
        assert (record.path, record.marker, record.message_count, record.status) == ("/v1/chat/completions", "P3-T-S1", 1, "served")
        assert len(record.messages_sha256) == 64 and "body" not in record.to_json()
    finally:
        provider.stop()


def test_a_held_turn_waits_until_released():
    provider = ScriptedProvider().start()
    try:
        provider.hold("P3-T-S7")
        result = {}
        worker = threading.Thread(target=lambda: result.update(r=post_chat(provider, "P3-T-S7")))
        worker.start()
        worker.join(0.5)
        assert worker.is_alive() and provider.requests[0].status == "held"
        provider.release()
        worker.join(5)
        assert result["r"].status_code == 200 and provider.requests[0].status == "released"
    finally:
        provider.stop()


def test_provider_config_points_the_default_model_at_the_scripted_provider():
    config = provider_config("http://host.docker.internal:1234/v1")
    provider = config["models"]["providers"]["path3-scripted"]
    assert provider["baseUrl"] == "http://host.docker.internal:1234/v1" and provider["api"] == "openai-completions"
    assert config["agents"]["defaults"]["model"]["primary"] == "path3-scripted/path3-scripted-1"
