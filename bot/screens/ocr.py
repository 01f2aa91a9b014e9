"""Image bytes -> text, with Pillow and Debian's tesseract (Vietnamese model) through pytesseract.

Anything a resident sends is untrusted: it is refused with a typed error before tesseract sees it when it is empty,
not an image, corrupt or truncated, or too big (bytes or pixels: a small PNG can declare a huge canvas). Only the
header is read before the size check, so a decompression bomb is refused without being decoded.

Phone screenshots are large (1080x2400 and up) with text 30-60 px high; tesseract reads best at roughly 20-40 px
per line and dark text on a light page, so the picture is greyed, brought to a working width and, when the screen
is dark mode, inverted. Nothing here keeps state: `read_text` may run in a worker thread (asyncio.to_thread);
tesseract itself is a child process, killed after the timeout.
"""

from __future__ import annotations

import io
import os
import time
import warnings

import pytesseract
from PIL import Image, ImageOps, ImageStat, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024  # a phone screenshot is 0.2-3 MB; ten is generous and still bounded
MAX_PIXELS = 40_000_000  # 40 Mpx: larger than any phone screen or photo residents send, far below a bomb
WORK_WIDTH = 1000  # wider screenshots are scaled down to this: text stays 20-40 px high and tesseract is faster
MIN_WIDTH = 700  # narrower pictures (thumbnails, cropped dialogs) are scaled up to this
DARK_MEAN = 110  # mean grey below which the screen is dark mode (light text on dark): inverted for tesseract
TIMEOUT_SECONDS = 20.0
LANGUAGE = "vie"
# Sauvola (local) thresholding: a screen mixes grey dialog boxes, coloured buttons and white pages; tesseract's
# default global Otsu turns a grey dialog into one black blob and loses its text (measured on the test screens).
CONFIG = "--psm 3 -c thresholding_method=2"
ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")  # what phones and chat apps send
# tesseract's OpenMP threads fight each other (and the search model) on the two shared cores: one thread each is
# faster. pytesseract's child process inherits this environment.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")


class ScreenImageError(ValueError):
    """The bytes are not a picture we will read; ``kind`` says why (empty, not_image, corrupt, too_large)."""

    KINDS = ("empty", "not_image", "corrupt", "too_large")

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


class OcrFailed(RuntimeError):
    """Tesseract is missing, lacks the Vietnamese model, failed or ran past the timeout."""


def open_checked(data: bytes) -> Image.Image:
    """The decoded image, or ScreenImageError: size limits are checked on the header, before decoding."""
    if not data:
        raise ScreenImageError("empty", "no bytes")
    if len(data) > MAX_BYTES:
        raise ScreenImageError("too_large", f"{len(data)} bytes > {MAX_BYTES}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own pixel limit is lower
        try:
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)  # no EPS (ghostscript), PSD...
        except Image.DecompressionBombError as err:
            raise ScreenImageError("too_large", str(err)) from None
        except (UnidentifiedImageError, OSError, ValueError) as err:
            raise ScreenImageError("not_image", str(err) or type(err).__name__) from None
        width, height = image.size
        if width < 1 or height < 1:
            raise ScreenImageError("corrupt", f"size {width}x{height}")
        if width * height > MAX_PIXELS:
            raise ScreenImageError("too_large", f"{width}x{height} px > {MAX_PIXELS}")
        try:
            image.load()  # decodes now: a truncated or damaged file fails here, not inside tesseract
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
            raise ScreenImageError("corrupt", str(err) or type(err).__name__) from None
    return image


def prepare(image: Image.Image) -> Image.Image:
    """Grey, dark text on light, at a width tesseract reads well (aspect kept)."""
    image = ImageOps.exif_transpose(image) or image  # photos of a screen come rotated by their EXIF tag
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
    grey = image.convert("L")
    width, height = grey.size
    target = WORK_WIDTH if width > WORK_WIDTH else MIN_WIDTH if width < MIN_WIDTH else width
    if target != width:
        grey = grey.resize((target, max(1, round(height * target / width))), Image.Resampling.LANCZOS)
    if ImageStat.Stat(grey).mean[0] < DARK_MEAN:
        grey = ImageOps.invert(grey)
    return ImageOps.autocontrast(grey, cutoff=1)


def read_text(data: bytes, timeout: float = TIMEOUT_SECONDS, lang: str = LANGUAGE) -> str:
    """The text on a screenshot. Raises ScreenImageError for bad input, OcrFailed when tesseract cannot answer.

    Two passes, on the page and on its negative: tesseract skips most light-on-dark text (a toast, a dark button,
    a dark-mode dialog) that the negative turns into ordinary dark-on-light text. `timeout` covers both."""
    page = prepare(open_checked(data))
    deadline = time.monotonic() + timeout
    texts = []
    for image in (page, ImageOps.invert(page)):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise OcrFailed(f"tesseract did not finish in {timeout:g} s")
        texts.append(_tesseract(image, lang, remaining))
    return "\n".join(texts)


def _tesseract(image: Image.Image, lang: str, timeout: float) -> str:
    try:
        return str(pytesseract.image_to_string(image, lang=lang, config=CONFIG, timeout=timeout))
    except pytesseract.TesseractNotFoundError as err:
        raise OcrFailed("tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-vie)") from err
    except pytesseract.TesseractError as err:
        raise OcrFailed(f"tesseract failed: {err.message}") from err
    except RuntimeError as err:  # pytesseract's timeout ("Tesseract process timeout")
        raise OcrFailed(f"tesseract did not finish in {timeout:.1f} s") from err
