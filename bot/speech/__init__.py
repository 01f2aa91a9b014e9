"""Spoken replies: text-to-speech with espeak-ng (tts) and the rewriting of a reply into words a voice can read
(reading: abbreviations, numbers, addresses)."""
