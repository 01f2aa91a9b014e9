"""Spoken replies: text -> Vietnamese speech, offline, cached by content.

Debian's espeak-ng (`-v vi`) makes a WAV; opus-tools' `opusenc` turns it into OGG/Opus (what Telegram wants for a
voice message, and small for the web page) and `lame` into MP3 (plays everywhere, e.g. in Zalo's in-app browser).
No model is downloaded: no registry offers a Vietnamese neural voice that ships its weights (see docs/tts.md).

Files are named by a hash of what was spoken and how (`<key>.<ext>`), so the same answer is synthesised once and
the audio route (`bot/rasa_side/channels/webchat.py`) can serve them by name without knowing any text. Standard
library only,
so the Rasa process (which serves the files) can import `audio_path` too.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
import wave
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bot.speech.reading import speakable

VOICE = "vi"  # espeak-ng's Northern Vietnamese voice ("vi-vn-x-south", "vi-vn-x-central" also exist)
WORDS_PER_MINUTE = 150  # espeak-ng's default is 175; slower is easier to follow for older residents
TIMEOUT_S = 30.0  # per tool run; an 1,500-character answer takes well under a second
RECIPE = "espeak-ng|opus24c5|mp3-32|v2"  # bump when a setting below changes, so old files are not reused
CONTENT_TYPES = {"ogg": "audio/ogg", "mp3": "audio/mpeg", "wav": "audio/wav"}
SERVED = ("ogg", "mp3")  # what the audio route hands out; the WAV is kept only to measure and re-encode
MAX_CACHED_FILES = 3000  # ~123 entries x 3 formats, with room for edits; older files are removed beyond this
AUDIO_ROUTE = "/webhooks/webchat/audio/"  # served by bot/rasa_side/channels/webchat.py
_NAME = re.compile(r"([0-9a-f]{32})\.(ogg|mp3)")


class SpeechError(RuntimeError):
    """Speech could not be made: the tool is missing, failed, hung or produced no sound."""


@dataclass(frozen=True)
class Spoken:
    """One reply as audio: the files by format, how long it plays, and the words that were read."""

    key: str
    files: dict[str, Path]
    duration_s: float
    text: str

    def name(self, fmt: str) -> str:
        """The file name of one format, as the audio route serves it."""
        return self.files[fmt].name


def audio_url(name: str, public_url: str = "") -> str:
    """Where a channel fetches a file: the route's path, absolute when the server's public address is known."""
    return f"{public_url.rstrip('/')}{AUDIO_ROUTE}{name}"


def audio_name(url: str) -> str | None:
    """The served file name at the end of an audio URL, or None when it is not one of ours."""
    name = str(url).rsplit("/", 1)[-1]
    return name if _NAME.fullmatch(name) else None


def audio_message(spoken: Spoken, title: str, public_url: str = "") -> dict:
    """The `custom` payload a channel turns into a voice message, an audio link or a player."""
    return {
        "audio": {
            "url": audio_url(spoken.name("ogg"), public_url),  # OGG/Opus: Telegram voice, web page
            "mp3": audio_url(spoken.name("mp3"), public_url),  # MP3: Zalo's in-app browser, older phones
            "duration_s": round(spoken.duration_s, 1),
            "title": title,
            "text": spoken.text,
        }
    }


def audio_path(audio_dir: Path, name: str) -> Path | None:
    """The cached file a request may read, or None: only `<32 hex>.ogg|mp3`, directly in `audio_dir`."""
    if not _NAME.fullmatch(name):
        return None
    path = audio_dir / name
    return path if path.is_file() and not path.is_symlink() else None


def content_type(name: str) -> str:
    """The Content-Type for a served audio file name."""
    return CONTENT_TYPES[name.rsplit(".", 1)[-1]]


def wav_duration(path: Path) -> float:
    """Seconds of sound in a WAV file."""
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / float(w.getframerate())


def _run(cmd: list[str], stdin: bytes | None, timeout_s: float) -> None:
    """Run one tool; every way it can fail becomes a SpeechError that names the tool and the reason."""
    tool = Path(cmd[0]).name
    try:
        done = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout_s, check=False)
    except FileNotFoundError:
        raise SpeechError(f"{tool} is not installed (scripts/setup.sh installs it with apt-get)") from None
    except subprocess.TimeoutExpired:
        raise SpeechError(f"{tool} did not finish within {timeout_s:g} s") from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SpeechError(f"{tool} failed (exit {done.returncode}): {detail[-1] if detail else 'no message'}")


class Speaker:
    """Makes and caches the audio of replies in `audio_dir`."""

    def __init__(
        self,
        audio_dir: Path,
        voice: str = VOICE,
        words_per_minute: int = WORDS_PER_MINUTE,
        timeout_s: float = TIMEOUT_S,
        espeak: str = "espeak-ng",
        opusenc: str = "opusenc",
        lame: str = "lame",
    ) -> None:
        self.audio_dir = Path(audio_dir)
        self.voice, self.words_per_minute, self.timeout_s = voice, words_per_minute, timeout_s
        self.espeak, self.opusenc, self.lame = espeak, opusenc, lame

    def key(self, spoken_text: str) -> str:
        """The cache key: what is read, with which voice and speed, through which recipe."""
        material = f"{RECIPE}|{self.voice}|{self.words_per_minute}|{spoken_text}"
        return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]

    def speak(self, reply_text: str, formats: tuple[str, ...] = SERVED) -> Spoken:
        """The audio of a written reply in each of `formats` (made once, then read from the cache)."""
        unknown = set(formats) - set(CONTENT_TYPES)
        if unknown:
            raise ValueError(f"unknown audio formats: {sorted(unknown)}")
        text = speakable(reply_text)
        if not text:
            raise SpeechError("nothing in this reply can be read aloud")
        key = self.key(text)
        self.audio_dir.mkdir(parents=True, exist_ok=True)
        wav = self.audio_dir / f"{key}.wav"
        made = False
        if not wav.is_file():
            self._make(wav, lambda out: self._synthesise(text, out))
            made = True
        files = {"wav": wav, **{fmt: self.audio_dir / f"{key}.{fmt}" for fmt in formats if fmt != "wav"}}
        missing = [fmt for fmt in formats if not files[fmt].is_file()]
        if missing:  # the encoders run side by side (one per core); the first failure is raised
            with ThreadPoolExecutor(max_workers=len(missing)) as pool:
                list(pool.map(lambda fmt: self._make(files[fmt], lambda out: self._encode(wav, out, fmt)), missing))
            made = True
        if made:
            self._prune()
        return Spoken(key, {f: files[f] for f in formats}, wav_duration(wav), text)

    def _synthesise(self, text: str, out: Path) -> None:
        cmd = [self.espeak, "-v", self.voice, "-s", str(self.words_per_minute), "-b", "1", "-w", str(out), "--stdin"]
        _run(cmd, text.encode("utf-8"), self.timeout_s)
        try:
            with wave.open(str(out), "rb") as w:
                frames = w.getnframes()
        except (wave.Error, EOFError, OSError) as err:
            raise SpeechError(f"espeak-ng wrote no valid WAV: {err}") from None
        if frames == 0:
            raise SpeechError("espeak-ng produced no sound")

    def _encode(self, wav: Path, out: Path, fmt: str) -> None:
        if fmt == "ogg":  # 24 kbit/s Opus tuned for speech: clear voice, ~3 kB per second; complexity 5 of 10
            # halves the encoding time at no audible cost for a synthetic voice
            cmd = [self.opusenc, "--quiet", "--speech", "--bitrate", "24", "--comp", "5", str(wav), str(out)]
        else:  # 32 kbit/s mono MP3
            cmd = [self.lame, "--quiet", "-m", "m", "-b", "32", str(wav), str(out)]
        _run(cmd, None, self.timeout_s)
        if not out.is_file() or out.stat().st_size == 0:
            raise SpeechError(f"{Path(cmd[0]).name} wrote no {fmt} file")

    def _make(self, path: Path, write) -> None:
        """Write through a temporary file and rename, so a reader never sees half a file."""
        fd, tmp = tempfile.mkstemp(dir=self.audio_dir, prefix=".tmp-", suffix=path.suffix)
        os.close(fd)
        try:
            write(Path(tmp))
            os.chmod(tmp, 0o644)  # mkstemp makes it private; the Rasa process serving it may run as another user
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def _prune(self) -> None:
        """Keep the cache bounded: drop the least recently written files beyond MAX_CACHED_FILES."""
        files = [p for p in self.audio_dir.iterdir() if p.is_file() and not p.name.startswith(".")]
        if len(files) <= MAX_CACHED_FILES:
            return
        files.sort(key=lambda p: p.stat().st_mtime)
        for old in files[: len(files) - MAX_CACHED_FILES]:
            old.unlink(missing_ok=True)
