"""Probes: read-only looks at the system (SQLite, legacy files, open handles, logs)."""
