"""The RPC client against a small local WebSocket server that speaks the Gateway's framing."""

from __future__ import annotations

import json
import threading

import pytest
from websockets.sync.server import serve

from path3_sandbox.containers.rpc import GatewayRpc
from path3_sandbox.errors import RpcError


class FakeGateway:
    def __init__(self, protocol: int = 4, token: str = "t0k"):
        self.protocol, self.token, self.connects = protocol, token, []
        self.server = serve(self.handle, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def handle(self, socket):
        socket.send(json.dumps({"type": "event", "event": "connect.challenge", "payload": {"nonce": "n"}}))
        for raw in socket:
            frame = json.loads(raw)
            method, params = frame["method"], frame["params"]
            if method == "connect":
                self.connects.append(params)
                if params["auth"]["token"] != self.token:
                    socket.send(json.dumps({"type": "res", "id": frame["id"], "ok": False,
                                            "error": {"code": "UNAUTHORIZED", "message": "bad token"}}))
                    continue
                if not params["minProtocol"] <= self.protocol <= params["maxProtocol"]:
                    raise AssertionError("client does not accept this protocol")
                payload = {"type": "hello-ok", "protocol": self.protocol, "server": {"version": "9.9.9"},
                           "features": {"methods": ["health", "sessions.list"]}}
            elif method == "health":
                # An event interleaved before the response must not be mistaken for it.
                socket.send(json.dumps({"type": "event", "event": "tick", "payload": {}}))
                payload = {"ok": True}
            elif method == "slow":
                continue  # never answers
            else:
                socket.send(json.dumps({"type": "res", "id": frame["id"], "ok": False,
                                        "error": {"code": "INVALID_REQUEST", "message": f"unknown method: {method}"}}))
                continue
            socket.send(json.dumps({"type": "res", "id": frame["id"], "ok": True, "payload": payload}))

    def close(self):
        self.server.shutdown()


@pytest.fixture(params=[4, 3], ids=["protocol-4", "protocol-3"])
def gateway(request):
    fake = FakeGateway(protocol=request.param)
    yield fake
    fake.close()


def test_the_handshake_negotiates_the_servers_protocol_and_reads_its_methods(gateway):
    with GatewayRpc.connect(gateway.url, "t0k") as rpc:
        assert rpc.protocol == gateway.protocol and rpc.server_version == "9.9.9"
        assert rpc.methods == {"health", "sessions.list"}
    sent = gateway.connects[0]
    assert (sent["minProtocol"], sent["maxProtocol"], sent["role"]) == (3, 4, "operator")
    assert "operator.admin" in sent["scopes"]


def test_responses_are_matched_by_id_and_events_are_kept(gateway):
    with GatewayRpc.connect(gateway.url, "t0k") as rpc:
        assert rpc.call("health") == {"ok": True}
        assert [e["event"] for e in rpc.events] == ["tick"]
        assert [c.method for c in rpc.calls] == ["connect", "health"] and all(c.ok for c in rpc.calls)


def test_an_error_response_raises_with_the_gateways_code(gateway):
    with GatewayRpc.connect(gateway.url, "t0k") as rpc:
        with pytest.raises(RpcError) as raised:
            rpc.call("nope")
    assert raised.value.code == "INVALID_REQUEST" and "unknown method: nope" in str(raised.value)


def test_a_bad_token_fails_the_connect(gateway):
    with pytest.raises(RpcError, match="UNAUTHORIZED bad token"):
        GatewayRpc.connect(gateway.url, "wrong")


def test_a_call_without_an_answer_times_out(gateway):
    with GatewayRpc.connect(gateway.url, "t0k") as rpc:
        with pytest.raises(RpcError) as raised:
            rpc.call("slow", timeout_s=0.3)
    assert raised.value.code == "CLIENT_TIMEOUT"
