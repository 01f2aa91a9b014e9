"""Draw phone-like screenshots for the screen-reading tests: tests/data/screens/*.png|jpg and labels.jsonl.

Each app message recorded in the knowledge base (`errors` of knowledge/*.yml) is drawn several times the way a
resident's phone shows it: status bar, app header, a dialog (or a toast, or red text under a form) with the message
and buttons, menu items behind it; in varied fonts, sizes, light and dark mode, then saved as PNG or JPEG of varied
quality, sometimes slightly blurred or tilted like a photo of a screen. A few screens show an ID card, a bank card
or a one-time code (all numbers invented) and a few are unrelated pictures. Seeded: the same knowledge gives the
same files. Usage: PYTHONPATH=. python -m tools.render_screens [--out tests/data/screens] [--min-errors 45]
"""

from __future__ import annotations

import argparse
import io
import json
import math
import random
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from bot.core.settings import ROOT
from bot.knowledge.loader import load_entries
from bot.screens.errors import ErrorMatcher

FONTS = {
    "dejavu": ("dejavu/DejaVuSans.ttf", "dejavu/DejaVuSans-Bold.ttf"),
    "noto": ("noto/NotoSans-Regular.ttf", "noto/NotoSans-Bold.ttf"),
    "noto-display": ("noto/NotoSansDisplay-Regular.ttf", "noto/NotoSansDisplay-Bold.ttf"),
    "dejavu-condensed": ("dejavu/DejaVuSansCondensed.ttf", "dejavu/DejaVuSansCondensed-Bold.ttf"),
    "noto-serif": ("noto/NotoSerif-Regular.ttf", "noto/NotoSerif-Bold.ttf"),
}
FONT_DIR = Path("/usr/share/fonts/truetype")  # Debian's fonts-dejavu and fonts-noto-core; all cover Vietnamese
MAX_FILE_BYTES = 60_000
APPS = (("suc-khoe-vssid", "VssID - BHXH số"), ("suc-khoe", "VssID - BHXH số"), ("hoa-don-etax", "eTax Mobile"),
        ("hoa-don", "Hóa đơn điện tử"), ("dich-vu-cong", "Cổng Dịch vụ công Quốc gia"), ("", "VNeID"))
MENU = ("Ví giấy tờ", "Thủ tục hành chính", "Dịch vụ khác", "Thông báo", "Cá nhân", "Trang chủ", "Tiện ích")
BUTTONS = (("Đóng",), ("Thử lại", "Đóng"), ("Đồng ý",), ("Hủy", "Xác nhận"), ("OK",))
TITLES = ("Thông báo", "Lỗi", "Cảnh báo", "Thông báo lỗi", "")


def font(family: str, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / FONTS[family][int(bold)]), size)


def wrap(draw: ImageDraw.ImageDraw, text: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Lines of text that fit a width, broken between words."""
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=face) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    return [*lines, line] if line else lines


class Screen:
    """One phone screen being drawn: size, palette, fonts."""

    def __init__(self, rng: random.Random, app: str) -> None:
        self.rng = rng
        self.w = rng.choice((540, 600, 660, 720))
        self.h = int(self.w * rng.choice((2.0, 2.1, 2.17)))
        self.dark = rng.random() < 0.3
        self.family = rng.choice(list(FONTS)[:4] if rng.random() < 0.85 else list(FONTS))
        self.size = int(self.w / rng.uniform(17, 23))
        self.bg, self.fg = ((18, 18, 20), (235, 235, 235)) if self.dark else ((246, 246, 248), (25, 25, 30))
        self.accent = rng.choice(((200, 30, 40), (0, 90, 170), (0, 120, 90), (210, 90, 0)))
        self.image = Image.new("RGB", (self.w, self.h), self.bg)
        self.draw = ImageDraw.Draw(self.image)
        self.app = app

    def chrome(self) -> int:
        """Status bar, app header and menu rows behind the dialog; returns the y where content starts."""
        d, small = self.draw, font(self.family, int(self.size * 0.8))
        d.text((20, 10), f"{self.rng.randint(6, 22)}:{self.rng.randint(0, 59):02d}", fill=self.fg, font=small)
        d.text((self.w - 90, 10), f"{self.rng.randint(12, 99)}%", fill=self.fg, font=small)
        for i in range(4):
            d.rectangle((self.w - 150 + i * 9, 28 - i * 5, self.w - 144 + i * 9, 30), fill=self.fg)
        header = int(self.size * 3)
        d.rectangle((0, 48, self.w, 48 + header), fill=self.accent)
        d.text((24, 48 + header // 4), self.app, fill=(255, 255, 255), font=font(self.family, self.size, True))
        y = 60 + header
        for label in self.rng.sample(MENU, 4):
            d.rounded_rectangle((20, y, self.w - 20, y + self.size * 2.6), 12,
                                fill=(40, 40, 44) if self.dark else (255, 255, 255))
            d.text((40, y + self.size * 0.7), label, fill=self.fg, font=font(self.family, self.size))
            y += int(self.size * 3.2)
        return y

    def dim(self) -> None:
        """The grey veil a modal dialog puts over the screen."""
        veil = Image.new("RGB", self.image.size, (0, 0, 0))
        self.image = Image.blend(self.image, veil, 0.45)
        self.draw = ImageDraw.Draw(self.image)

    def dialog(self, message: str) -> None:
        """A centred modal box: optional title, the message, one or two buttons."""
        self.dim()
        d, face = self.draw, font(self.family, self.size)
        box_w = int(self.w * 0.86)
        lines = wrap(d, message, face, box_w - 60)
        title = self.rng.choice(TITLES)
        line_h = int(self.size * 1.45)
        box_h = (line_h * 2 if title else 30) + line_h * len(lines) + int(self.size * 4)
        x0, y0 = (self.w - box_w) // 2, (self.h - box_h) // 2
        panel, text = ((48, 48, 52), (240, 240, 240)) if self.dark else ((255, 255, 255), (20, 20, 25))
        d.rounded_rectangle((x0, y0, x0 + box_w, y0 + box_h), 18, fill=panel)
        y = y0 + 24
        if title:
            tw = d.textlength(title, font=font(self.family, self.size, True))
            d.text((x0 + (box_w - tw) / 2, y), title, fill=text, font=font(self.family, self.size, True))
            y += line_h * 2 - 12
        for line in lines:
            lw = d.textlength(line, font=face)
            d.text((x0 + (box_w - lw) / 2, y), line, fill=text, font=face)
            y += line_h
        buttons = self.rng.choice(BUTTONS)
        bw = (box_w - 40 - 20 * (len(buttons) - 1)) // len(buttons)
        by = y0 + box_h - int(self.size * 3)
        for i, label in enumerate(buttons):
            bx = x0 + 20 + i * (bw + 20)
            d.rounded_rectangle((bx, by, bx + bw, by + int(self.size * 2.2)), 10, fill=self.accent)
            lw = d.textlength(label, font=face)
            d.text((bx + (bw - lw) / 2, by + self.size * 0.5), label, fill=(255, 255, 255), font=face)

    def toast(self, message: str) -> None:
        """A dark rounded strip near the bottom, as Android shows short messages."""
        d, face = self.draw, font(self.family, int(self.size * 0.95))
        lines = wrap(d, message, face, int(self.w * 0.8))
        line_h = int(self.size * 1.4)
        h = line_h * len(lines) + 36
        y0 = self.h - h - int(self.h * 0.12)
        d.rounded_rectangle((self.w * 0.06, y0, self.w * 0.94, y0 + h), 22, fill=(60, 60, 64))
        for i, line in enumerate(lines):
            lw = d.textlength(line, font=face)
            d.text(((self.w - lw) / 2, y0 + 18 + i * line_h), line, fill=(250, 250, 250), font=face)

    def inline(self, message: str, y: int) -> None:
        """Red text under a form field, as web portals show a failed login."""
        d, face = self.draw, font(self.family, self.size)
        d.rounded_rectangle((20, y, self.w - 20, y + self.size * 2.4), 8, outline=self.fg, width=2)
        y += int(self.size * 3)
        for line in wrap(d, message, face, self.w - 60):
            d.text((28, y), line, fill=(220, 40, 40), font=face)
            y += int(self.size * 1.4)


def error_screen(rng: random.Random, app: str, message: str) -> Image.Image:
    screen = Screen(rng, app)
    y = screen.chrome()
    style = rng.random()
    if style < 0.6:
        screen.dialog(message)
    elif style < 0.8:
        screen.toast(message)
    else:
        screen.inline(message, y)
    return screen.image


def card_screen(rng: random.Random, lines: list[str], app: str = "Ảnh") -> Image.Image:
    """A card (ID or bank) photographed on a screen: a coloured rectangle with its printed lines."""
    screen = Screen(rng, app)
    screen.chrome()
    d = screen.draw
    x0, y0 = 24, int(screen.h * 0.3)
    x1, y1 = screen.w - 24, y0 + int((screen.w - 48) * 0.63)
    d.rounded_rectangle((x0, y0, x1, y1), 20, fill=rng.choice(((214, 226, 240), (236, 222, 200), (226, 236, 224))))
    face = font(screen.family, int(screen.size * 0.8))
    y = y0 + 16
    for line in lines:
        d.text((x0 + 20, y), line, fill=(20, 20, 30), font=face)
        y += int(screen.size * 1.15)
    return screen.image


def text_screen(rng: random.Random, app: str, lines: list[str]) -> Image.Image:
    """A plain screen of text lines under the header (a message thread, a note, a list)."""
    screen = Screen(rng, app)
    d = screen.draw
    y = 60 + int(screen.size * 3.5)
    d.rectangle((0, 48, screen.w, y - 12), fill=screen.accent)
    d.text((24, 56), app, fill=(255, 255, 255), font=font(screen.family, screen.size, True))
    face = font(screen.family, screen.size)
    for text in lines:
        for line in wrap(d, text, face, screen.w - 60):
            d.text((30, y), line, fill=screen.fg, font=face)
            y += int(screen.size * 1.45)
        y += int(screen.size * 0.8)
    return screen.image


def picture(rng: random.Random) -> Image.Image:
    """An unrelated photo-like picture: sky, hills, sun; no text."""
    w, h = 720, 960
    image = Image.new("RGB", (w, h))
    d = ImageDraw.Draw(image)
    top, bottom = (rng.randint(80, 140), rng.randint(140, 200), 240), (240, 200, rng.randint(120, 180))
    for y in range(h):
        t = y / h
        d.line((0, y, w, y), fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    for i in range(3):
        base = h * (0.55 + 0.12 * i)
        points = [(x, base - 60 * math.sin(x / rng.randint(60, 160) + i)) for x in range(0, w + 20, 20)]
        d.polygon([*points, (w, h), (0, h)], fill=(30 + 30 * i, 110 - 20 * i, 50))
    d.ellipse((w - 220, 80, w - 100, 200), fill=(255, 230, 120))
    return image.filter(ImageFilter.GaussianBlur(1.5))


def photo_effects(rng: random.Random, image: Image.Image) -> Image.Image:
    """Slight blur and tilt, as a photo of a screen taken with another phone; sometimes a rough photo: smaller,
    unevenly lit, grainy and more tilted, or a screenshot shrunk by a chat app."""
    roll = rng.random()
    if roll < 0.2:  # a rough photo of the screen
        w = rng.randint(420, 520)
        image = image.resize((w, int(image.height * w / image.width)), Image.Resampling.BILINEAR)
        light = Image.linear_gradient("L").resize(image.size).rotate(rng.choice((0, 90, 180, 270)))
        shade = Image.merge("RGB", [light.point(lambda v: 60 + v // 3)] * 3)
        image = Image.blend(image, shade, rng.uniform(0.15, 0.3))
        noise = Image.effect_noise(image.size, rng.uniform(10, 25)).convert("RGB")
        image = Image.blend(image, noise, 0.12).filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.2)))
        return image.rotate(rng.uniform(-4, 4), resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(70, 70, 70))
    if roll < 0.35:  # recompressed by a chat app: smaller
        w = rng.randint(380, 480)
        image = image.resize((w, int(image.height * w / image.width)), Image.Resampling.LANCZOS)
    if rng.random() < 0.35:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.9)))
    if rng.random() < 0.3:
        image = image.rotate(rng.uniform(-2.5, 2.5), resample=Image.Resampling.BICUBIC, expand=True,
                             fillcolor=(90, 90, 90))
    return image


def encode(rng: random.Random, image: Image.Image) -> tuple[bytes, str]:
    """PNG (palette) or JPEG of a random quality, shrunk until it is under MAX_FILE_BYTES."""
    as_jpeg = rng.random() < 0.5
    quality = rng.randint(45, 85)
    while True:
        buffer = io.BytesIO()
        if as_jpeg:
            image.save(buffer, "JPEG", quality=quality, optimize=True)
        else:
            image.quantize(48, dither=Image.Dither.NONE).save(buffer, "PNG", optimize=True)
        if buffer.tell() <= MAX_FILE_BYTES:
            return buffer.getvalue(), "jpg" if as_jpeg else "png"
        if as_jpeg and quality > 40:
            quality -= 10
        else:
            image = image.resize((int(image.width * 0.85), int(image.height * 0.85)), Image.Resampling.LANCZOS)


def fake_digits(rng: random.Random, n: int, first: str = "0") -> str:
    return first + "".join(str(rng.randint(0, 9)) for _ in range(n - len(first)))


def sensitive_screens(rng: random.Random) -> list[tuple[str, Callable[[], Image.Image]]]:
    """(label, drawer) for ID cards, bank cards and one-time codes, every number invented here."""
    def id_card() -> Image.Image:
        return card_screen(rng, ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "CĂN CƯỚC CÔNG DÂN",
                                 f"Số định danh cá nhân: {fake_digits(rng, 12)}", "Họ và tên: NGUYỄN VĂN AN",
                                 "Ngày sinh: 01/01/1960", "Quốc tịch: Việt Nam"])

    def id_number_only() -> Image.Image:
        return text_screen(rng, "VNeID", ["Đăng nhập", "Số định danh cá nhân", fake_digits(rng, 12), "Mật khẩu",
                                          "••••••••", "Đăng nhập"])

    def bank_card() -> Image.Image:
        number = " ".join(fake_digits(rng, 16, "9704")[i:i + 4] for i in range(0, 16, 4))
        return card_screen(rng, ["NAPAS DEBIT", number, f"VALID THRU {rng.randint(1, 12):02d}/{rng.randint(27, 31)}",
                                 "NGUYEN VAN AN"])

    def otp_sms() -> Image.Image:
        code = fake_digits(rng, 6, str(rng.randint(2, 9)))
        sms = f"Ma OTP cua ban la {code}. Tuyet doi khong cung cap ma nay cho bat ky ai."
        return text_screen(rng, "Tin nhắn", [sms, "Hôm nay 08:15"])

    def otp_app() -> Image.Image:
        code = fake_digits(rng, 6, str(rng.randint(2, 9)))
        return text_screen(rng, "VNeID", ["Mã xác nhận đăng nhập thiết bị mới", code,
                                          "Không cung cấp mã này cho bất kỳ ai"])

    return [("sensitive:id_card", id_card)] * 3 + [("sensitive:id_card", id_number_only)] * 2 + \
        [("sensitive:bank_card", bank_card)] * 3 + [("sensitive:otp", otp_sms)] * 2 + [("sensitive:otp", otp_app)] * 2


UNRELATED = (
    ("Gia đình", ["Mẹ ơi tối nay con về muộn nhé", "Ừ, nhớ mua rau muống với đậu phụ", "Vâng ạ"]),
    ("Ghi chú", ["Đi chợ: gạo 5 kg, trứng, nước mắm, muối", "Gọi thợ sửa quạt thứ bảy"]),
    ("Thời tiết", ["Hà Nội hôm nay 28°C, nắng nhẹ", "Chiều tối có mưa rào", "Độ ẩm 75%"]),
    ("Lịch", ["Thứ hai: họp tổ dân phố 19h", "Thứ tư: đón cháu ở trường", "Chủ nhật: giỗ ông"]),
)


def app_of(entry_id: str) -> str:
    return next(name for prefix, name in APPS if entry_id.startswith(prefix))


def render_all(out: Path, min_errors: int) -> list[dict]:
    """Write every screenshot into `out` and return their labels."""
    entries = load_entries(ROOT / "knowledge")
    usable = {(eid, message) for _, eid, message in ErrorMatcher(entries).messages}
    messages = [(e.id, m) for e in entries for m in e.errors if (e.id, m) in usable]  # too generic ones: not drawn
    if not messages:
        raise SystemExit("no entry has `errors`: nothing to draw")
    variants = max(1, math.ceil(min_errors / len(messages)))
    out.mkdir(parents=True, exist_ok=True)
    for old in [*out.glob("*.png"), *out.glob("*.jpg")]:
        old.unlink()
    labels: list[dict] = []

    def save(name: str, image: Image.Image, rng: random.Random, label: dict) -> None:
        data, ext = encode(rng, photo_effects(rng, image))
        (out / f"{name}.{ext}").write_bytes(data)
        labels.append({"file": f"{name}.{ext}", **label})

    for n, (entry_id, message) in enumerate(messages, 1):
        for v in range(variants):
            rng = random.Random(f"{entry_id}|{message}|{v}")
            save(f"err-{n:02d}-{v}", error_screen(rng, app_of(entry_id), message), rng,
                 {"expect": entry_id, "message": message})
    rng = random.Random("sensitive")
    for n, (label, draw) in enumerate(sensitive_screens(rng), 1):
        save(f"sens-{n:02d}", draw(), rng, {"expect": label})
    rng = random.Random("unrelated")
    for n, (app, lines) in enumerate(UNRELATED, 1):
        save(f"none-{n:02d}", text_screen(rng, app, lines), rng, {"expect": "none"})
    save(f"none-{len(UNRELATED) + 1:02d}", picture(rng), rng, {"expect": "none"})
    (out / "labels.jsonl").write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in labels),
                                      encoding="utf-8")
    return labels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "screens")
    parser.add_argument("--min-errors", type=int, default=45, help="at least this many error screens")
    args = parser.parse_args(argv)
    labels = render_all(args.out, args.min_errors)
    print(f"{len(labels)} screens written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
