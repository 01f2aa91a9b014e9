"""Remove personal data (ID, phone, card and account numbers, OTPs, passports, e-mail, plates, passwords, helper
codes) from what residents type, before it is logged, stored or shown to anyone else.

Text is read the way residents type it: digit groups joined by spaces, dots, commas or dashes are one number
("482 913", "001.234.567.890", "4-8-2-9-1-3"); what the number is comes from its length and shape and from the
words of its own clause ("mã otp", "cccd", "lệ phí", "mã hồ sơ"), with and without diacritics. Dossier codes, amounts,
dates, years, house numbers, invoice and legal-document numbers, office landlines and public hotlines are not
personal and stay readable. The choices (and what was measured) are in docs/security.md; the labelled set is
tests/data/masking_set.jsonl (`python -m bench.masking` prints the leak and over-mask rates).

Standard library only: the channels (Rasa, Python 3.10) and Rasa's NLU component import it.

The package, read in this order: placeholders.py (what each kind of data becomes), cues.py (the words around a
number), digit_runs.py (what a run of digits is), codes.py (words and codes that hold digits, helper codes and
passwords typed in words), masking.py (putting it together: `mask`, `mask_incoming` and the logging filter). Callers
import from here; the underscored names of the modules are the package's own.
"""

from bot.core.privacy.masking import MaskingFilter, install_log_masking, mask, mask_incoming
from bot.core.privacy.placeholders import (
    CARD,
    CODE,
    EMAIL,
    HELPER_CODE,
    ID_NUMBER,
    LONG_NUMBER,
    OLD_ID,
    PASSPORT,
    PASSWORD,
    PHONE,
    PLACEHOLDERS,
    PLATE,
    placeholders_in,
)

__all__ = [
    "CARD",
    "CODE",
    "EMAIL",
    "HELPER_CODE",
    "ID_NUMBER",
    "LONG_NUMBER",
    "OLD_ID",
    "PASSPORT",
    "PASSWORD",
    "PHONE",
    "PLACEHOLDERS",
    "PLATE",
    "MaskingFilter",
    "install_log_masking",
    "mask",
    "mask_incoming",
    "placeholders_in",
]
