"""The Gateway's network: hermetic by default, open on request (`--network open`).

Hermetic: the Gateway sits alone on an internal Docker network (no route out) with one witness container, the
only way in or out:
    DNS      the Gateway's resolver; it records every lookup and answers SERVFAIL, as an offline host would
    inbound  the Gateway's HTTP and RPC ports, published on the host's loopback by the witness and relayed in
    provider host.docker.internal resolves to the witness, which relays to the scripted provider on the host
Nothing else leaves: a connection to any other address has no route. What the Gateway looked up is evidence.

Open: Docker's default bridge, as before: the Gateway reaches whatever the machine reaches, unrecorded.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import docker

from ..config import GATEWAY_PORT
from .gateway import RELAY_PORT
from .resources import RunResources, run_labels

HERMETIC = "hermetic"
OPEN = "open"

WITNESS_SCRIPT = r"""
const dgram = require('dgram'), net = require('net');
const log = record => console.log(JSON.stringify({at: Date.now() / 1000, ...record}));
// DNS: the question name and type, answered SERVFAIL (rcode 2), the answer an offline resolver gives.
const dns = dgram.createSocket('udp4');
dns.on('message', (msg, from) => {
  let offset = 12, labels = [];
  while (offset < msg.length && msg[offset] !== 0) { labels.push(msg.slice(offset + 1, offset + 1 + msg[offset]).toString()); offset += msg[offset] + 1; }
  const type = msg.readUInt16BE(offset + 1);
  log({event: 'dns', name: labels.join('.'), type: ({1: 'A', 28: 'AAAA', 5: 'CNAME', 33: 'SRV', 16: 'TXT', 65: 'HTTPS'})[type] || String(type)});
  const reply = Buffer.from(msg.slice(0, offset + 5));
  reply[2] = 0x80 | (msg[2] & 0x01); reply[3] = 0x82;  // QR, RD copied; RA, rcode SERVFAIL
  reply.writeUInt16BE(0, 6); reply.writeUInt16BE(0, 8); reply.writeUInt16BE(0, 10);
  dns.send(reply, from.port, from.address);
});
dns.bind(53, '0.0.0.0', () => log({event: 'listening', what: 'dns'}));
// Relays: "listenPort:host:port" each; the provider's are recorded, the probes' are not.
for (const spec of process.argv.slice(1)) {
  const [listen, host, port, record] = spec.split(':');
  net.createServer(client => {
    if (record) log({event: 'relay', to: record});
    const upstream = net.connect(Number(port), host);
    client.pipe(upstream); upstream.pipe(client);
    const end = () => { client.destroy(); upstream.destroy(); };
    client.on('error', end); upstream.on('error', end); client.on('close', end); upstream.on('close', end);
  }).listen(Number(listen), '0.0.0.0', () => log({event: 'listening', what: spec}));
}
"""


@dataclass
class HermeticNetwork:
    """An internal network for one Gateway container, and the witness that is its only door."""

    client: docker.DockerClient
    resources: RunResources
    image: str
    gateway_name: str
    provider_port: int | None = None  # the scripted provider's port on the host's bridge address
    provider_host: str | None = None
    name: str = ""
    witness: Any = None
    witness_ip: str = ""

    def create(self) -> HermeticNetwork:
        self.name = self.resources.network(f"net-{self.gateway_name.rsplit('-', 1)[-1]}", internal=True)
        relays = [f"{GATEWAY_PORT}:{self.gateway_name}:{GATEWAY_PORT}", f"{RELAY_PORT}:{self.gateway_name}:{RELAY_PORT}"]
        if self.provider_port:
            relays.append(f"{self.provider_port}:{self.provider_host}:{self.provider_port}:scripted-provider")
        witness_name = f"{self.gateway_name}-witness"
        self.resources.track(witness_name)  # tracked first: a signal between create and track must not leak it
        # On the default bridge first (the host's provider, the published ports), then the internal network.
        self.witness = self.client.containers.create(
            self.image, command=["node", "-e", WITNESS_SCRIPT, *relays], name=witness_name, user="root",
            labels=run_labels(self.resources.run_id, "network-witness"), detach=True,
            ports={f"{GATEWAY_PORT}/tcp": ("127.0.0.1", None), f"{RELAY_PORT}/tcp": ("127.0.0.1", None)})
        self.client.networks.get(self.name).connect(self.witness)
        self.witness.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            self.witness.reload()
            self.witness_ip = self.witness.attrs["NetworkSettings"]["Networks"][self.name]["IPAddress"]
            if self.witness_ip and self._listening() >= 1 + len(relays):
                return self
            if self.witness.status == "exited":
                break
            time.sleep(0.2)
        raise RuntimeError(f"the network witness did not start: {self.witness.logs().decode(errors='replace')[-1000:]}")

    def container_kwargs(self) -> dict[str, Any]:
        """What the Gateway container is created with: the internal network, the witness as resolver and door."""
        return {"network": self.name, "dns": [self.witness_ip],
                "extra_hosts": {"host.docker.internal": self.witness_ip}}

    def host_port(self, port: int) -> int:
        self.witness.reload()
        bindings = self.witness.attrs["NetworkSettings"]["Ports"].get(f"{port}/tcp") or []
        if not bindings:
            raise RuntimeError(f"port {port} is not published by the network witness")
        return int(bindings[0]["HostPort"])

    def records(self) -> list[dict]:
        lines = self.witness.logs(stdout=True, stderr=False).decode(errors="replace").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def to_json(self) -> dict:
        records = self.records()
        lookups = [{"at": r["at"], "name": r["name"], "type": r["type"]} for r in records if r.get("event") == "dns"]
        return {"mode": HERMETIC, "network": self.name, "internal": True, "witness": self.witness.name,
                "dns_lookups": lookups, "names_looked_up": sorted({r["name"] for r in lookups}),
                "provider_connections": sum(1 for r in records if r.get("event") == "relay"),
                "other_egress": "none possible: the network is internal; the witness relays only the ports above"}

    def _listening(self) -> int:
        return sum(1 for r in self.records() if r.get("event") == "listening")


def open_network_json() -> dict:
    return {"mode": OPEN, "network": "bridge", "internal": False,
            "note": "--network open: the Gateway could reach whatever this machine reaches; nothing was recorded"}
