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
import re
from dataclasses import dataclass
from typing import Any

from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network
from testcontainers.core.wait_strategies import LogMessageWaitStrategy

from ..errors import ContainerFailed
from ..state.config import GATEWAY_PORT
from .gateway import LOOPBACK_ONLY, RELAY_PORT
from .resources import RunResources

WITNESS_START_TIMEOUT_S = 30

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
  }).on('error', e => { log({event: 'error', what: spec, error: String(e)}); process.exit(1); })
    .listen(Number(listen), '0.0.0.0', () => log({event: 'listening', what: spec}));
}
"""


@dataclass
class HermeticNetwork:
    """An internal network for one Gateway container, and the witness that is its only door."""

    resources: RunResources
    image: str
    gateway_name: str
    provider_port: int | None = None  # the scripted provider's port on the host's bridge address
    provider_host: str | None = None
    network: Network | None = None
    witness: Any = None  # the witness's docker-py container, once started
    witness_ip: str = ""

    @property
    def name(self) -> str:
        return self.network.name if self.network else ""

    def create(self) -> HermeticNetwork:
        self.network = self.resources.network(f"net-{self.gateway_name.rsplit('-', 1)[-1]}", internal=True)
        relays = [f"{GATEWAY_PORT}:{self.gateway_name}:{GATEWAY_PORT}", f"{RELAY_PORT}:{self.gateway_name}:{RELAY_PORT}"]
        if self.provider_port:
            relays.append(f"{self.provider_port}:{self.provider_host}:{self.provider_port}:scripted-provider")
        # On the default bridge (the host's provider, the published ports), then also on the internal network (its
        # relays resolve the Gateway's name per connection). Ready when the resolver and every relay listen.
        witness: DockerContainer = self.resources.container(
            f"{self.gateway_name}-witness", "network-witness", self.image, ["node", "-e", WITNESS_SCRIPT, *relays],
            network="bridge", user="root")
        witness.ports.update({f"{GATEWAY_PORT}/tcp": LOOPBACK_ONLY, f"{RELAY_PORT}/tcp": LOOPBACK_ONLY})
        # Every listener's line: testcontainers 4.15 ignores LogMessageWaitStrategy's `times`, so the pattern counts.
        listening = LogMessageWaitStrategy(re.compile(r'(?:"event":"listening".*){%d}' % (1 + len(relays)), re.S))
        witness.waiting_for(listening.with_startup_timeout(WITNESS_START_TIMEOUT_S).with_poll_interval(0.2))
        try:
            witness.start()
        except (TimeoutError, RuntimeError) as error:
            logs = b"".join(witness.get_logs()).decode(errors="replace")[-1000:]
            raise ContainerFailed(f"the network witness did not start ({error}): {logs}") from None
        self.witness = witness.get_wrapped_container()
        self.network.connect(self.witness.id)
        self.witness.reload()
        self.witness_ip = self.witness.attrs["NetworkSettings"]["Networks"][self.name]["IPAddress"]
        return self

    def container_kwargs(self) -> dict[str, Any]:
        """What the Gateway container is created with: the internal network, the witness as resolver and door."""
        return {"network": self.name, "dns": [self.witness_ip],
                "extra_hosts": {"host.docker.internal": self.witness_ip}}

    def host_port(self, port: int) -> int:
        self.witness.reload()
        bindings = self.witness.attrs["NetworkSettings"]["Ports"].get(f"{port}/tcp") or []
        if not bindings:
            raise ContainerFailed(f"port {port} is not published by the network witness")
        return int(bindings[0]["HostPort"])

    def records(self) -> list[dict]:
        lines = self.witness.logs(stdout=True, stderr=False).decode(errors="replace").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def stop(self) -> None:
        """The witness stopped once its Gateway is done (its logs stay readable; the run removes it): a
        multi-fixture run does not keep every finished fixture's witness running."""
        if self.witness is not None:
            self.witness.stop(timeout=1)

    def to_json(self) -> dict:
        records = self.records()
        lookups = [{"at": r["at"], "name": r["name"], "type": r["type"]} for r in records if r.get("event") == "dns"]
        return {"mode": HERMETIC, "network": self.name, "internal": True, "witness": self.witness.name,
                "dns_lookups": lookups, "names_looked_up": sorted({r["name"] for r in lookups}),
                "provider_connections": sum(1 for r in records if r.get("event") == "relay"),
                "other_egress": "none possible: the network is internal; the witness relays only the ports above",
                "npm": "npm_config_fetch_retries=0 in every container without a route out: a package a release "
                       "tries to fetch fails at once (EAI_AGAIN), not after npm's retries"}


def open_network_json() -> dict:
    return {"mode": OPEN, "network": "bridge", "internal": False,
            "note": "--network open: the Gateway could reach whatever this machine reaches; nothing was recorded"}
