"""Rasa custom actions: thin wrappers over the `bot` package."""
