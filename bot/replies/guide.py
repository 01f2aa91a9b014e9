"""Guided mode: walk a resident through one entry's steps, one step per message.

Pure functions over an entry and a position (entry id + step number), so every turn is testable
without Rasa: `start` opens a guide, `apply` answers a command and returns the new position (None when
the guide is over). Typed commands are read deterministically from de-accented text, because residents
type "tiep", "ko dc", "quay lai" and the intent classifier may file such short words anywhere.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field

from bot.core.text import expand_abbreviations, plain, words
from bot.knowledge.model import Entry, source_line
from bot.replies.topic_words import named_topic

HUMAN_BUTTON = {"title": "Gặp người hỗ trợ", "payload": "/request_human"}
FEEDBACK_BUTTONS = [
    {"title": "👍 Hữu ích", "payload": '/feedback{"helpful":"yes"}'},
    {"title": "👎 Chưa đúng", "payload": '/feedback{"helpful":"no"}'},
]
GUIDE_BUTTON_TITLE = "Hướng dẫn từng bước"
MAX_COMMAND_WORDS = 7  # longer messages are questions, not "next"


class Command(enum.Enum):
    """What a resident can say while following a guide (the value travels in button payloads)."""

    NEXT = "next"
    BACK = "back"
    RESTART = "restart"
    STOP = "stop"
    STUCK = "stuck"
    REPEAT = "repeat"


# Whole messages (de-accented, abbreviations expanded) that mean a command. Exact phrases only, so a
# question such as "vneid bi loi khi dang nhap" stays a question.
PHRASES: dict[Command, tuple[str, ...]] = {
    Command.NEXT: (
        "tiep", "tiep theo", "tiep tuc", "lam tiep", "buoc tiep", "buoc tiep theo", "sang buoc tiep", "ke tiep",
        "xong", "xong roi", "lam xong", "lam xong roi", "ok", "oke", "okay", "ok roi", "duoc roi", "duoc",
        "lam duoc roi", "roi", "next", "tiep buoc sau", "buoc sau", "xong buoc nay", "xong buoc nay roi",
        "lam xong roi tiep", "xong roi tiep", "ok tiep", "duoc roi tiep",
    ),
    Command.BACK: (
        "quay lai", "lai", "truoc", "buoc truoc", "quay lai buoc truoc", "tro lai", "tro lai buoc truoc",
        "lui lai", "back", "ve buoc truoc", "xem buoc truoc", "lui lai 1 buoc", "lui lai mot buoc", "lui 1 buoc",
    ),
    Command.RESTART: (
        "lam lai", "lam lai tu dau", "bat dau lai", "bat dau lai tu dau", "lai tu dau", "tu dau", "quay lai tu dau",
        "lam lai het", "restart",
    ),
    Command.STOP: (
        "thoi", "dung", "dung lai", "thoat", "huy", "ket thuc", "khong lam nua", "thoi khong lam nua",
        "thoi dung lai", "stop", "de sau", "de luc khac", "dung huong dan", "thoat huong dan", "huy huong dan",
        "ket thuc huong dan", "thoi dung huong dan",
    ),
    Command.STUCK: (
        "bi ket", "ket", "ket roi", "bi ket roi", "khong duoc", "van khong duoc", "khong lam duoc",
        "lam khong duoc", "bi loi", "loi", "loi roi", "bi loi roi", "khong hieu", "khong biet lam",
        "khong thay", "khong thay nut", "khong lam duoc buoc nay", "bi ket o buoc nay", "ket o buoc nay",
        "tro giup", "help", "khong thay nut do", "khong thay nut", "buoc nay khong lam duoc", "bi loi o buoc nay",
        "bi loi buoc nay", "bi ket buoc nay", "khong duoc buoc nay",
    ),
    Command.REPEAT: (
        "nhac lai", "doc lai", "xem lai", "lap lai", "buoc nay", "dang o buoc nao", "buoc may", "nhac lai buoc nay",
        "doc lai buoc nay", "xem lai buoc nay",
    ),
}
# A short message during a guide that opens with these says the step's screen is not as described, whatever follows.
STUCK_OPENINGS = (["khong", "thay"], ["van", "khong"])
_BY_PHRASE = {phrase: command for command, phrases in PHRASES.items() for phrase in phrases}
# Politeness and address words around a command ("tiếp đi ạ", "dạ bác bị kẹt rồi") that change nothing.
_LEADING = {"da", "vang", "u", "uh", "bac", "toi", "em", "minh", "con", "chau", "ad", "cho", "oi"}
_TRAILING = {"di", "nhe", "nha", "a", "ah", "voi", "giup", "ad", "ban", "em", "chau", "oi", "nhi", "the", "nao"}


def parse_command(text: str) -> Command | None:
    """The guide command a typed message stands for, or None when it is something else."""
    if text.strip().startswith("/"):
        return None  # a button payload or a slash command: read from the intent and its entities
    tokens = [plain(t) for t in expand_abbreviations(words(text))]
    tokens = [t for part in tokens for t in part.split()]
    if not tokens or len(tokens) > MAX_COMMAND_WORDS:
        return None
    for candidate in _trimmed(tokens):
        command = _BY_PHRASE.get(" ".join(candidate))
        if command:
            return command
    if any(candidate[:2] in STUCK_OPENINGS for candidate in _trimmed(tokens)) and named_topic(text) is None:
        return Command.STUCK  # "ko thấy mục đó đâu cả", "không thấy nút gửi": what this step should show is not there
    return None  # "không thấy mục BHYT trên VNeID" names what it misses: a question, searched


def _trimmed(tokens: list[str]) -> list[list[str]]:
    """The message as typed, then with politeness words removed from either end."""
    out = [tokens]
    start, end = 0, len(tokens)
    while start < end - 1 and tokens[start] in _LEADING:
        start += 1
    while end - 1 > start and tokens[end - 1] in _TRAILING:
        end -= 1
    out.append(tokens[start:end])
    return out


def command_from_value(value: object) -> Command | None:
    """The command a button payload's entity names ("next", "stuck", ...)."""
    try:
        return Command(str(value).strip().lower())
    except ValueError:
        return None


@dataclass(frozen=True)
class GuideState:
    """Where a resident is: which entry, which step (1-based)."""

    entry_id: str
    step: int


@dataclass(frozen=True)
class GuideReply:
    """What the bot says, and the position afterwards (None: no guide is active any more)."""

    text: str
    buttons: list[dict] = field(default_factory=list)
    state: GuideState | None = None


def command_button(title: str, command: Command) -> dict:
    """A button that sends one guide command."""
    return {"title": title, "payload": "/guide_command" + _compact({"guide_move": command.value})}


def start_button(entry: Entry, step: int = 1, title: str = GUIDE_BUTTON_TITLE) -> dict:
    """A button that opens the step-by-step guide for an entry (at a given step)."""
    data: dict = {"entry_id": entry.id}
    if step > 1:
        data["step"] = step
    return {"title": title, "payload": "/guide" + _compact(data)}


def _compact(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))  # short: Telegram allows 64 bytes


def has_guide(entry: Entry | None) -> bool:
    """Only entries with steps can be walked step by step."""
    return bool(entry and entry.steps)


def _step_line(entry: Entry, step: int) -> str:
    return f"Bước {step}/{len(entry.steps)}: {entry.steps[step - 1].strip()}"


def _step_buttons(entry: Entry, step: int) -> list[dict]:
    last = step == len(entry.steps)
    buttons = [command_button("Xong ✓" if last else "Tiếp ▶", Command.NEXT)]
    if step > 1:
        buttons.append(command_button("◀ Quay lại", Command.BACK))
    buttons.append(command_button("Bị kẹt ở bước này", Command.STUCK))
    if step > 1:
        buttons.append(command_button("Làm lại từ đầu", Command.RESTART))
    buttons.append(command_button("Dừng", Command.STOP))
    return buttons


def show_step(entry: Entry, step: int, lead: str = "") -> GuideReply:
    """One step, with the buttons that move on from it."""
    step = max(1, min(step, len(entry.steps)))
    lines = [lead] if lead else []
    lines.append(_step_line(entry, step))
    if step == len(entry.steps) and len(entry.steps) > 1:
        lines.append("Đây là bước cuối. Làm xong, bạn bấm “Xong”.")
    return GuideReply("\n".join(lines), _step_buttons(entry, step), GuideState(entry.id, step))


def start(entry: Entry, step: int = 1) -> GuideReply:
    """Open the guide for an entry: what it is for, the first (or a given) step, how to move on, the source."""
    if not has_guide(entry):
        return GuideReply("Mục này không có các bước để làm theo. Bạn gõ câu hỏi khác nhé.", [HUMAN_BUTTON])
    step = max(1, min(step, len(entry.steps)))
    reply = show_step(entry, step)
    lines = [f"Hướng dẫn từng bước: {entry.title}", entry.answer.strip(), reply.text]
    lines.append("Làm xong mỗi bước, bạn bấm “Tiếp” hoặc gõ “tiếp”. Bị kẹt thì bấm “Bị kẹt ở bước này”.")
    lines.append(source_line(entry))
    return GuideReply("\n".join(lines), reply.buttons, reply.state)


def finish(entry: Entry) -> GuideReply:
    """The last step is done: say so clearly, repeat the tip, name the source."""
    lines = [f"Xong rồi! Bạn đã làm hết {len(entry.steps)} bước: {entry.title}."]
    if entry.note:
        lines.append(entry.note.strip())
    lines.append(source_line(entry))
    buttons = [start_button(entry, title="Làm lại từ đầu"), HUMAN_BUTTON, *FEEDBACK_BUTTONS]
    return GuideReply("\n".join(lines), buttons, None)


def stuck(entry: Entry, step: int) -> GuideReply:
    """The common problems recorded for this step, or a plain message; then a person."""
    problems = entry.problems_at(step)
    lines = [_step_line(entry, step)]
    if problems:
        lines.append("Ở bước này, người ta hay gặp:")
        lines += [f"- {p.strip()}" for p in problems]
        lines.append("Vẫn chưa được thì bấm “Gặp người hỗ trợ” để được giúp trực tiếp.")
    else:
        lines.append(
            "Bước này chưa có ghi chú lỗi thường gặp. Bạn thử làm lại thật chậm, đọc đúng chữ trên màn hình. "
            "Vẫn chưa được thì bấm “Gặp người hỗ trợ” để được giúp trực tiếp."
        )
    buttons = [
        command_button("Thử lại bước này", Command.REPEAT),
        command_button("Tiếp ▶", Command.NEXT),
        HUMAN_BUTTON,
        command_button("Dừng", Command.STOP),
    ]
    return GuideReply("\n".join(lines), buttons, GuideState(entry.id, step))


def stop(entry: Entry, step: int) -> GuideReply:
    """Leave the guide, offering to come back to the same step later."""
    text = (
        f"Đã dừng hướng dẫn “{entry.title}” ở bước {step}/{len(entry.steps)}. "
        "Khi nào cần, bạn bấm “Làm tiếp” để quay lại đúng bước này, hoặc gõ câu hỏi khác."
    )
    return GuideReply(text, [start_button(entry, step, title="Làm tiếp"), HUMAN_BUTTON], None)


def apply(entry: Entry, state: GuideState, command: Command) -> GuideReply:
    """The reply to one command at a position, and the new position."""
    if not has_guide(entry):
        return stale()
    total = len(entry.steps)
    step = max(1, min(state.step, total))  # the entry may have lost steps since the guide began
    if command is Command.NEXT:
        return finish(entry) if step >= total else show_step(entry, step + 1)
    if command is Command.BACK:
        if step == 1:
            return show_step(entry, 1, "Bạn đang ở bước đầu tiên rồi.")
        return show_step(entry, step - 1)
    if command is Command.RESTART:
        return show_step(entry, 1, "Mình làm lại từ đầu nhé.")
    if command is Command.STOP:
        return stop(entry, step)
    if command is Command.STUCK:
        return stuck(entry, step)
    return show_step(entry, step)


def stale() -> GuideReply:
    """The guide's entry is gone or has no steps any more (the knowledge base changed)."""
    return GuideReply(
        "Hướng dẫn này vừa được cập nhật hoặc không còn nữa. Bạn gõ lại câu hỏi để xem hướng dẫn mới nhất nhé.",
        [HUMAN_BUTTON],
    )


def no_guide() -> GuideReply:
    """A guide command when no guide is open."""
    return GuideReply(
        "Hiện bạn chưa làm theo hướng dẫn nào. Bạn gõ câu hỏi (ví dụ “kích hoạt VNeID”), "
        "rồi bấm “Hướng dẫn từng bước” để làm theo từng bước một.",
        [HUMAN_BUTTON],
    )


def choose_entry() -> GuideReply:
    """"Hướng dẫn từng bước" without knowing which guide."""
    return GuideReply(
        "Bạn muốn được hướng dẫn từng bước việc gì? Bạn gõ câu hỏi, ví dụ “kích hoạt VNeID” "
        "hoặc “tích hợp thẻ BHYT vào VNeID”, rồi bấm nút “Hướng dẫn từng bước”.",
    )


def resume_hint(entry: Entry, state: GuideState) -> GuideReply:
    """After an unclear message during a guide: how to go on with it."""
    step = max(1, min(state.step, len(entry.steps)))
    text = f"Bạn đang làm theo hướng dẫn “{entry.title}” ở bước {step}/{len(entry.steps)}."
    buttons = [command_button("Xem lại bước này", Command.REPEAT), command_button("Dừng", Command.STOP)]
    return GuideReply(text, buttons, GuideState(entry.id, step))
