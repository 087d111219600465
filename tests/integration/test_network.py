"""The hermetic network: the Gateway reaches the scripted provider's door and nothing else, and every name it
looks up is recorded by the witness."""

from __future__ import annotations

import json
import secrets
import time

from path3_sandbox.state.config import CONFIG_NAME, harness_config
from path3_sandbox.containers.gateway import Gateway
from path3_sandbox.containers.network import HermeticNetwork
from path3_sandbox.containers.resources import LABEL_RUN, RunResources, new_run_id
from path3_sandbox.containers.volumes import VolumeFile, put_files

PROBE = r"""
const dns = require('dns'), net = require('net'), http = require('http');
const out = {};
const done = () => { if (Object.keys(out).length === 3) { console.log(JSON.stringify(out)); process.exit(0); } };
dns.lookup('path3-probe.example.org', e => { out.lookup = e ? e.code : 'resolved'; done(); });
const socket = net.connect({host: '1.1.1.1', port: 443, timeout: 4000});
socket.on('connect', () => { out.internet = 'connected'; socket.destroy(); done(); });
socket.on('timeout', () => { out.internet = 'timeout'; socket.destroy(); done(); });
socket.on('error', e => { out.internet = e.code; done(); });
http.get('http://host.docker.internal:' + process.argv[1] + '/', r => { out.provider = r.statusCode; r.resume(); done(); })
  .on('error', e => { out.provider = e.code; done(); });
"""


def test_a_hermetic_gateway_reaches_only_the_provider_door_and_its_lookups_are_recorded(docker_client, default_image):
    from path3_sandbox.scenario.provider import ScriptedProvider
    from path3_sandbox.proof.run import bridge_gateway_address

    provider = ScriptedProvider(host=bridge_gateway_address(docker_client)).start()
    token = secrets.token_hex(16)
    try:
        with RunResources(docker_client, new_run_id()) as resources:
            volume = resources.volume("state")
            put_files(resources, default_image.tag, volume,
                      [VolumeFile(CONFIG_NAME, json.dumps(harness_config(token)).encode(), time.time(), 0o600)])
            name = f"path3-{resources.run_id}-net"
            network = HermeticNetwork(resources, default_image.tag, name,
                                      provider_port=provider.port, provider_host=provider.host).create()
            gateway = Gateway(resources, default_image.tag, volume, token, name=name, network=network)
            assert gateway.start().outcome == "ready", gateway.logs()[-2000:]
            result = gateway.exec(["node", "-e", PROBE, str(provider.port)], timeout_s=30)
            seen = json.loads(result.output.strip().splitlines()[-1])
            assert seen["internet"] in ("timeout", "ENETUNREACH", "EHOSTUNREACH", "ECONNREFUSED"), seen
            assert seen["lookup"] in ("EAI_AGAIN", "ENOTFOUND"), seen
            assert seen["provider"] == 404, f"the provider's door must be open: {seen}"  # GET / is not a route
            record = network.to_json()
            assert "path3-probe.example.org" in record["names_looked_up"], record
            assert record["internal"] and docker_client.networks.get(network.name).attrs["Internal"] is True
            run_id = resources.run_id
            # testcontainers made them: its labels and ours, on the Gateway, its witness and the network alike
            for labels in (gateway.container.labels, network.witness.labels,
                           docker_client.networks.get(network.name).attrs["Labels"]):
                assert labels["org.testcontainers"] == "true" and labels[LABEL_RUN] == run_id, labels
        assert docker_client.networks.list(filters={"label": f"{LABEL_RUN}={run_id}"}) == [], "the network is removed"
    finally:
        provider.stop()


def test_network_open_is_said_plainly_in_the_summary(docker_client, default_image, tmp_path, monkeypatch):
    from path3_sandbox.cli import main

    monkeypatch.setenv("PATH3_ARTIFACTS", str(tmp_path / "artifacts"))
    assert main(["prove", "--fixture", "minimal", "--first-start-only", "--network", "open"]) == 0
    [summary] = (tmp_path / "artifacts" / "path3-upgrade").glob("*/summary.md")
    assert "- **network**: **open** (`--network open`)" in summary.read_text()
    [network] = (tmp_path / "artifacts" / "path3-upgrade").glob("*/minimal/network.json")
    assert json.loads(network.read_text())["mode"] == "open"
