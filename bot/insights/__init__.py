"""Insights for the admins of the digital-transformation office: what residents ask that the bot
cannot answer yet (grouped, ready to become new entries), feedback and topics over time as charts,
and headline counts. Pure functions over plain records (dicts or objects); the store supplies them."""

from bot.insights.charts import (
    feedback_by_week,
    plot_feedback,
    plot_topics,
    plot_unanswered,
    topics_by_week,
    unanswered_by_week,
)
from bot.insights.drafts import draft_from_group, guess_topic, suggest_id
from bot.insights.grouping import QuestionGroup, Similarity, group_unanswered
from bot.insights.summary import summary

__all__ = [
    "QuestionGroup",
    "Similarity",
    "draft_from_group",
    "feedback_by_week",
    "group_unanswered",
    "guess_topic",
    "plot_feedback",
    "plot_topics",
    "plot_unanswered",
    "suggest_id",
    "summary",
    "topics_by_week",
    "unanswered_by_week",
]
