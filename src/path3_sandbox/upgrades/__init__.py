"""Upgrade paths between releases: a writer release capturing a legacy state (capture.py) by running a recipe
(recipe.py) over its RPC (turns.py)."""
