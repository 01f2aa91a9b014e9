"""The knowledge base: entries, their validation and loading."""

from bot.knowledge.loader import KnowledgeError, load_entries
from bot.knowledge.model import Entry, render_answer

__all__ = ["Entry", "KnowledgeError", "load_entries", "render_answer"]
