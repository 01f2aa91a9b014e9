"""Foundations every other room may use: settings, text normalisation, privacy masking, local time, logs,
rate limits, asking-clause extraction and texts said in several places (copy).

Imports nothing else of the project (a `make lint` contract); standard library, PyYAML and redis only, so both
interpreters (Rasa's 3.10 and the action server's 3.11) import it.
"""
