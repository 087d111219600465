"""The scripted model provider: the one test double, standing in for a paid LLM.

An OpenAI-compatible server for `POST /v1/chat/completions` and `POST /v1/responses` that streams SSE
as the Gateway expects, answers each turn with the unique marker its message carries, can hold a reply until released (so a
turn is in flight during a kill), and records every request it serves. The Gateway container reaches
it at http://host.docker.internal:<port>/v1 (`--add-host host.docker.internal:host-gateway`), so it
binds to the Docker bridge's gateway address, never to all interfaces.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

PROVIDER_ID = "path3-scripted"
MODEL_ID = "path3-scripted-1"
HOLD_TIMEOUT_S = 600.0


@dataclass
class RecordedRequest:
    index: int
    path: str
    model: str | None
    stream: bool
    message_count: int
    messages_sha256: str
    marker: str | None
    held: bool
    at: float
    body: dict | None = None  # only kept when asked to (it holds the conversation's text)
    status: str = "served"  # "served" | "held" | "released" | "abandoned"

    def to_json(self, *, with_body: bool = False) -> dict:
        record = {"index": self.index, "path": self.path, "model": self.model, "stream": self.stream,
                  "message_count": self.message_count, "messages_sha256": self.messages_sha256,
                  "marker": self.marker, "held": self.held, "status": self.status, "at": self.at}
        if with_body and self.body is not None:
            record["body"] = self.body
        return record

    def text(self) -> str:
        """All message text of the request, for checks like "the legacy history reached the model"."""
        return json.dumps(self.body or {}, ensure_ascii=False)


def chat_completion_chunks(marker: str, model: str, *, prompt_tokens: int) -> Iterator[dict]:
    """The chunk sequence of one streamed chat completion, usage last (stream_options.include_usage)."""
    base = {"id": f"chatcmpl-{marker}", "object": "chat.completion.chunk", "created": int(time.time()), "model": model}
    yield {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
    for piece in (f"{marker} ", "acknowledged."):
        yield {**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
    yield {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    yield {**base, "choices": [], "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 3,
                                            "total_tokens": prompt_tokens + 3}}


def responses_events(marker: str, model: str, *, prompt_tokens: int) -> Iterator[tuple[str, dict]]:
    """The (event, data) sequence of one streamed Responses API reply."""
    text = f"{marker} acknowledged."
    response_id, item_id = f"resp_{marker}", f"msg_{marker}"
    response = {"id": response_id, "object": "response", "created_at": int(time.time()), "model": model,
                "status": "in_progress", "output": []}
    item = {"id": item_id, "type": "message", "role": "assistant", "status": "in_progress", "content": []}
    part = {"type": "output_text", "text": "", "annotations": []}
    seq = itertools.count()
    yield "response.created", {"type": "response.created", "sequence_number": next(seq), "response": response}
    yield "response.output_item.added", {"type": "response.output_item.added", "sequence_number": next(seq),
                                         "output_index": 0, "item": item}
    yield "response.content_part.added", {"type": "response.content_part.added", "sequence_number": next(seq),
                                          "item_id": item_id, "output_index": 0, "content_index": 0, "part": part}
    yield "response.output_text.delta", {"type": "response.output_text.delta", "sequence_number": next(seq),
                                         "item_id": item_id, "output_index": 0, "content_index": 0, "delta": text}
    done_part = {**part, "text": text}
    yield "response.output_text.done", {"type": "response.output_text.done", "sequence_number": next(seq),
                                        "item_id": item_id, "output_index": 0, "content_index": 0, "text": text}
    yield "response.content_part.done", {"type": "response.content_part.done", "sequence_number": next(seq),
                                         "item_id": item_id, "output_index": 0, "content_index": 0, "part": done_part}
    done_item = {**item, "status": "completed", "content": [done_part]}
    yield "response.output_item.done", {"type": "response.output_item.done", "sequence_number": next(seq),
                                        "output_index": 0, "item": done_item}
    usage = {"input_tokens": prompt_tokens, "output_tokens": 3, "total_tokens": prompt_tokens + 3}
    yield "response.completed", {"type": "response.completed", "sequence_number": next(seq),
                                 "response": {**response, "status": "completed", "output": [done_item], "usage": usage}}


def sse(data: Any, event: str | None = None) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return ((f"event: {event}\n" if event else "") + f"data: {payload}\n\n").encode()


@dataclass
class ScriptedProvider:
    """Start with `start()`, stop with `stop()`. Each turn is answered with the marker its user message carries."""

    host: str = "127.0.0.1"
    port: int = 0
    keep_bodies: bool = False
    requests: list[RecordedRequest] = field(default_factory=list)
    _counter: itertools.count = field(default_factory=lambda: itertools.count(1))
    _holds: set[str] = field(default_factory=set)
    _release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> ScriptedProvider:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # the recording is the log
                pass

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "owned_by": "path3"}]})
                else:
                    self._json(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    self._json(400, {"error": {"message": "body is not JSON"}})
                    return
                if self.path.endswith("/chat/completions"):
                    provider._serve(self, body, "chat")
                elif self.path.endswith("/responses"):
                    provider._serve(self, body, "responses")
                else:
                    self._json(404, {"error": {"message": f"no route {self.path}"}})

            def _json(self, status: int, value: dict) -> None:
                data = json.dumps(value).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                # Every answer closes its connection, as the streamed ones do: a provider stopped and another
                # started on the same port must never be reached through a socket the Gateway kept alive.
                self.send_header("Connection", "close")
                self.close_connection = True
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name="scripted-provider", daemon=True).start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url_for_containers(self) -> str:
        return f"http://host.docker.internal:{self.port}/v1"

    def hold(self, marker: str) -> None:
        """Replies to turns carrying `marker` wait until `release()` (or HOLD_TIMEOUT_S)."""
        with self._lock:
            self._holds.add(marker)
            self._release.clear()

    def release(self) -> None:
        self._release.set()

    def _serve(self, handler: BaseHTTPRequestHandler, body: dict, api: str) -> None:
        messages = body.get("messages") if api == "chat" else body.get("input")
        messages = messages if isinstance(messages, list) else []
        with self._lock:
            # The marker comes from the turn's own text, so a turn the Gateway re-sends (restart recovery)
            # or one it adds (a compaction summary: "unscripted") is answered and recorded for what it is.
            marker = marker_of(messages) or f"P3-UNSCRIPTED-{next(self._counter)}"
            hold = marker in self._holds and not self._release.is_set()
            record = RecordedRequest(
                index=len(self.requests) + 1, path=handler.path, model=body.get("model"), stream=bool(body.get("stream")),
                message_count=len(messages), marker=marker, held=hold, at=time.time(),
                messages_sha256=hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest(),
                body=body, status="held" if hold else "served",
            )
            self.requests.append(record)
        if hold:
            released = self._release.wait(HOLD_TIMEOUT_S)
            record.status = "released" if released else "abandoned"
        if not self.keep_bodies:
            record.body = _messages_only(body)
        prompt_tokens = max(1, len(json.dumps(messages)) // 4)
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", "text/event-stream")
            handler.send_header("Cache-Control", "no-cache")
            handler.send_header("Connection", "close")
            handler.end_headers()
            if api == "chat":
                for chunk in chat_completion_chunks(marker, body.get("model") or MODEL_ID, prompt_tokens=prompt_tokens):
                    handler.wfile.write(sse(chunk))
                handler.wfile.write(sse("[DONE]"))
            else:
                for event, data in responses_events(marker, body.get("model") or MODEL_ID, prompt_tokens=prompt_tokens):
                    handler.wfile.write(sse(data, event))
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            record.status = "abandoned"  # the Gateway went away mid-reply (killed)
        handler.close_connection = True

    def to_json(self) -> dict:
        return {"requests": [r.to_json(with_body=self.keep_bodies) for r in self.requests],
                "provider": PROVIDER_ID, "model": MODEL_ID}


# A turn's text on a line of its own; the Gateway prefixes "[<timestamp>] " and appends runtime lines.
TURN_RE = re.compile(r"^(?:\[[^\]\n]*\]\s*)?path3 scenario turn (P3(?:-[A-Z0-9]+){2,})[ \t]*$", re.M)


def marker_of(messages: list) -> str | None:
    """The marker of the newest user message that *is* a scenario turn ("… path3 scenario turn P3-…").

    Anchored to a line of its own, so prompts the Gateway builds around quoted history
    (a compaction summary request, bootstrap context) are not mistaken for the turn itself.
    """
    for message in reversed(messages):
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        parts = [content] if isinstance(content, str) else [
            p.get("text") or p.get("input_text") or "" for p in content or [] if isinstance(p, dict)]
        for text in reversed(parts):
            if isinstance(text, str) and (found := TURN_RE.search(text)):
                return found.group(1)
    return None


def _messages_only(body: dict) -> dict:
    """What checks need to look for content (e.g. legacy history) without keeping tools and settings."""
    return {k: body[k] for k in ("messages", "input") if k in body}


def provider_config(base_url: str) -> dict:
    """Config that routes the Gateway's agent turns to the scripted provider (openclaw.md section 8)."""
    return {
        "models": {"mode": "merge", "providers": {PROVIDER_ID: {
            "baseUrl": base_url, "apiKey": "path3-not-a-secret", "api": "openai-completions",
            "models": [{"id": MODEL_ID, "name": "path3 scripted", "reasoning": False, "input": ["text"],
                        "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0},
                        "contextWindow": 128000, "maxTokens": 4096}]}}},
        "agents": {"defaults": {"model": {"primary": f"{PROVIDER_ID}/{MODEL_ID}"}}},
    }
