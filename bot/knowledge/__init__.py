"""The knowledge base: entries, their validation and loading."""

from bot.knowledge.model import Entry, render_answer
from bot.knowledge.loader import KnowledgeError, load_entries

__all__ = ["Entry", "KnowledgeError", "load_entries", "render_answer"]
