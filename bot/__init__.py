"""The assistant's code, one room per layer or feature; the README's "How it is built" draws the whole tree.

Foundations: core (settings, text, privacy, shared copy). Knowledge and data: knowledge, store. Retrieval: search
(serving), indexing (building). Per-turn logic: replies, handoff, team, speech. Outbound platform clients:
messengers. Front ends: rasa_side (inside Rasa), relay (the Telegram process), admin, and the top-level actions/
package. Use cases that several front ends share: usecases. The rules between them are import-linter contracts
in pyproject.toml, checked by `make lint`.
"""
