"""The action that reads the last answer aloud ("🔊 Nghe", "đọc cho tôi nghe")."""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from bot.replies.answers import answer_entry
from bot.speech.tts import Speaker, SpeechError, audio_message

log = logging.getLogger(__name__)
NOTHING_TO_READ = (
    "Tôi chưa có câu trả lời nào để đọc. Bạn gõ câu hỏi trước, rồi bấm “🔊 Nghe” dưới câu trả lời "
    "để nghe đọc to."
)
CANNOT_READ = "Xin lỗi, lúc này tôi chưa đọc to được. Bạn vui lòng xem câu trả lời bằng chữ ở trên."


@functools.lru_cache(maxsize=1)
def speaker() -> Speaker:
    """One speaker per process, writing where the audio route reads."""
    return Speaker(services.settings().audio_dir)


class ActionSpeak(Action):
    """Speak the last answered entry: a short line plus a `custom` payload naming the audio files."""

    def name(self) -> str:
        """Rasa's name for this action."""
        return "action_speak"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Synthesise (or reuse) the audio of the last answer and point the channel to it."""
        entry_id = tracker.get_slot("last_entry")
        try:
            searcher = services.search_service().searcher() if entry_id else None
            entry = searcher.by_id.get(entry_id) if searcher else None
            if entry is None:
                dispatcher.utter_message(text=NOTHING_TO_READ)
                return []
            reply = answer_entry(entry, searcher.by_id)
            spoken = await asyncio.to_thread(speaker().speak, reply.text)
        except SpeechError as err:
            log.error("could not read %s aloud: %s", entry_id, err)
            dispatcher.utter_message(text=CANNOT_READ)
            return []
        except Exception:
            log.exception("could not read %s aloud", entry_id)
            dispatcher.utter_message(text=CANNOT_READ)
            return []
        log.info("spoke %s: %d characters, %.1f s of audio", entry.id, len(spoken.text), spoken.duration_s)
        dispatcher.utter_message(
            text=f"🔊 Bản đọc: {entry.title}",
            json_message=audio_message(spoken, entry.title, services.settings().public_url),
        )
        return []
