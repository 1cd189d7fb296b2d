"""Reactions of the governance app to other apps' events (none yet)."""
