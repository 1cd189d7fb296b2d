"""Reactions of the planning app to other apps' events (none yet)."""
