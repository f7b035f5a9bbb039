"""What both layouts draw with: an fpdf2 document set up for determinism, text, wrapping, the QR.

Text is drawn with the standard Helvetica (nothing embedded, so a document is small and fast to
build) in Windows-1252, which has every Spanish letter and the "—" of the simulator's mark.
"""

from __future__ import annotations

import functools
import io

import zxingcpp
from fpdf import FPDF
from PIL import Image

from encola.documents.text import ENCODING, printable

PT = 25.4 / 72  # one point in mm
SIMULATOR_MARK = "SIN VALIDEZ FISCAL — SIMULADOR"
SIMULATOR_NOTE = "El CAE de este comprobante lo otorgó un simulador, no ARCA/AFIP."
HOMOLOGACION_MARK = "SIN VALIDEZ FISCAL — HOMOLOGACIÓN"
HOMOLOGACION_NOTE = "El CAE de este comprobante lo otorgó el servicio de pruebas (homologación) de ARCA/AFIP."
RED = (190, 20, 20)
BLACK = (0, 0, 0)
GREY = (90, 90, 90)


class Canvas(FPDF):
    """An FPDF whose output depends only on what is drawn (and the fixed creation date)."""

    def __init__(self, width: float, height: float, *, created, title: str, author: str):
        super().__init__(unit="mm", format=(width, height))
        self.core_fonts_encoding = ENCODING
        self.set_auto_page_break(False)
        self.set_margins(0, 0, 0)
        self.set_creation_date(created)
        self.set_title(printable(title))
        self.set_author(printable(author))
        self.set_creator("encola")
        self.set_producer("encola")
        self.set_lang("es-AR")
        self.set_line_width(0.2)
        self._style = None

    def style(self, size: float, bold: bool = False, italic: bool = False, color=BLACK) -> None:
        key = (size, bold, italic, color)
        if key != self._style:
            self.set_font("Helvetica", ("B" if bold else "") + ("I" if italic else ""), size)
            self.set_text_color(*color)
            self._style = key

    def put(self, x: float, top: float, text: str, *, align: str = "L", width: float = 0) -> float:
        """``text`` on one line whose top is ``top``; ``align`` within [x, x + width]. Returns its width."""
        text = printable(text)
        if not text:
            return 0.0
        w = self.width(text)
        if align == "R":
            x = x + width - w
        elif align == "C":
            x = x + (width - w) / 2
        self.text(x, top + self.font_size * 0.78, text)
        return w

    def line_height(self, factor: float = 1.25) -> float:
        return self.font_size * factor

    def wrap(self, text: str, width: float) -> list[str]:
        """``text`` broken into lines no wider than ``width`` (words kept whole when they fit)."""
        lines: list[str] = []
        space = self.width(" ")
        for paragraph in printable(text).split("\n"):
            if self.width(paragraph) <= width:
                lines.append(paragraph)
                continue
            current, current_w = "", 0.0
            for word in paragraph.split(" "):
                word_w = self.width(word)
                if current and current_w + space + word_w <= width:
                    current, current_w = f"{current} {word}", current_w + space + word_w
                    continue
                if current:
                    lines.append(current)
                current, current_w = word, word_w
                while current_w > width and len(current) > 1:
                    cut = _fit(self, current, width)
                    lines.append(current[:cut])
                    current = current[cut:]
                    current_w = self.width(current)
            lines.append(current)
        return lines

    def labelled(self, x: float, top: float, label: str, value: str, width: float, size: float = 8) -> float:
        """"Label: value" with the label in bold, the value wrapped under itself. Returns the next top."""
        self.style(size, bold=True)
        label_w = self.put(x, top, f"{label}: ") if label else 0.0
        self.style(size)
        lines = self.wrap(value, max(width - label_w, 10)) or [""]
        step = self.line_height()
        for i, line in enumerate(lines):
            self.put(x + label_w, top + i * step, line)
        return top + len(lines) * step

    def width(self, text: str) -> float:
        """The width of ``text`` (already printable) in the current font: the standard fonts' metrics,
        summed directly (fpdf2's ``get_string_width`` is general and several times slower)."""
        widths = self.current_font.cw
        return sum(map(widths.__getitem__, text.encode(ENCODING).decode("latin-1"))) * self.font_size_pt * 0.001 / self.k

    def qr(self, url: str, x: float, top: float, size: float) -> None:
        """The QR of ``url``, quiet zone included, as a 1-bit image one pixel per module."""
        self.image(io.BytesIO(qr_png(url)), x=x, y=top, w=size, h=size)
    def mark_banner(self, x: float, top: float, width: float, size: float = 9, text: str = SIMULATOR_MARK) -> float:
        """The mark of a CAE without fiscal validity on a red band; returns its height."""
        height = size * PT * 1.7
        self.set_fill_color(*RED)
        self.rect(x, top, width, height, style="F")
        self.style(size, bold=True, color=(255, 255, 255))
        self.put(x, top + (height - size * PT) / 2, text, align="C", width=width)
        self.style(size)
        return height

    def dashed(self, x1: float, y: float, x2: float) -> None:
        self.set_dash_pattern(dash=0.8, gap=0.6)
        self.line(x1, y, x2, y)
        self.set_dash_pattern()


@functools.lru_cache(maxsize=256)
def qr_png(url: str) -> bytes:
    """The QR of ``url`` (error level M, quiet zone of 4 modules), as a 1-bit PNG, one pixel per module.

    Encoded by zxing-cpp (C++): a pure-Python encoder (segno, even with its mask fixed) took
    about 4 of the ~7 ms an A4 cost on a cache miss; zxing-cpp takes well under one, mask
    scoring included, and chooses the same mask for the same URL every time (documents stay
    byte-for-byte deterministic). Cached by URL: an invoice's QR never changes, and the A4 and
    the ticket of one invoice (or a document rendered again) share it.
    """
    symbol = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    pixels = memoryview(symbol.to_image(scale=1, add_quiet_zones=True))
    height, width = pixels.shape[:2]
    buffer = io.BytesIO()
    Image.frombytes("L", (width, height), pixels.tobytes()).convert("1").save(buffer, format="PNG")
    return buffer.getvalue()


def _fit(pdf: Canvas, text: str, width: float) -> int:
    """How many leading characters of ``text`` fit in ``width`` (at least one)."""
    total = 0.0
    for i, char in enumerate(text):
        total += pdf.width(char)
        if total > width:
            return max(i, 1)
    return len(text)
