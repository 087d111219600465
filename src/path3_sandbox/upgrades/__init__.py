"""Upgrade paths between releases: a writer release capturing a legacy state (capture.py)."""
