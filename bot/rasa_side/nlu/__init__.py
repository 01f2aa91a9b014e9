"""Rasa NLU components: long story-like questions stay questions (long_question), typed secrets become
share_secret (secret), on a shared override mechanism (override)."""
