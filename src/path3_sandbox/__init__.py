"""path3-sandbox: prove that an OpenClaw Gateway build upgrades legacy session stores into SQLite."""

__version__ = "0.1.0"
