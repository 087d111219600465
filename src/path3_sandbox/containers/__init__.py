"""The container layer, on testcontainers-python: the Gateway and its one-off, seed and witness containers,
volumes and networks, the RPC client, and the clean-up of what a run created."""
