"""What both layouts draw with: an fpdf2 document set up for determinism, text, wrapping, the QR.

Text is drawn with the standard Helvetica (nothing embedded, so a document is small and fast to
build) in Windows-1252, which has every Spanish letter and the "—" of the simulator's mark.
"""

from __future__ import annotations

import functools
from typing import Callable

import zint
from fpdf import FPDF, image_parsing
from fpdf.drawing_primitives import convert_to_device_color
from PIL import Image

from encola.documents import fpdf_output
from encola.documents.text import ENCODING, drawable, printable

fpdf_output.install()

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
        self.pages_known: int | None = None  # the layout's page count, when it is known beforehand

    def style(self, size: float, bold: bool = False, italic: bool = False, color=BLACK) -> None:
        """Helvetica at ``size`` points, in ``color``. A font already used in the document is
        switched to by setting what fpdf2's ``set_font`` sets, without its checks (a document
        switches fifty times or more); ``test_canvas`` holds the two to the same bytes."""
        key = (size, bold, italic, color)
        if key == self._style:
            return
        emphasis = ("B" if bold else "") + ("I" if italic else "")
        font = self.fonts.get("helvetica" + emphasis)
        if font is None:
            self.set_font("Helvetica", emphasis, size)  # its first use registers it
        elif font is not self.current_font or self.font_size_pt != size:
            self.font_family, self.font_style, self.font_size_pt = "helvetica", emphasis, size
            self.current_font = font
            self.current_font_is_set_on_page = False
        if self._style is None or color != self._style[3]:
            self.text_color = _device_color(color)
        self._style = key

    def put(self, x: float, top: float, text: str, *, align: str = "L", width: float = 0) -> None:
        """``text`` on one line whose top is ``top``; ``align`` within [x, x + width]."""
        data = drawable(text)
        if not data:
            return
        if align != "L":  # measured only when the position needs it: most text is left-aligned
            w = self._measure(data)
            x = x + width - w if align == "R" else x + (width - w) / 2
        self._show(x, top + self.font_size_pt / self.k * 0.78, data)

    def put_run(self, x: float, top: float, text: str) -> float:
        """``text`` left-aligned at ``x``; returns its width, where the next run starts."""
        data = drawable(text)
        if not data:
            return 0.0
        self._show(x, top + self.font_size_pt / self.k * 0.78, data)
        return self._measure(data)

    def _measure(self, data: bytes) -> float:
        return self._meter()(data)

    def _meter(self) -> Callable[[bytes], float]:
        """The width of Windows-1252 text in the current font: the standard fonts' metrics, summed
        directly (fpdf2's ``get_string_width`` is general and several times slower). Each
        character's width is split in two bytes, so ``bytes.translate`` and ``sum`` add them up
        in C: two and a half times faster than looking each one up."""
        low, high = _width_bytes(self.current_font.fontkey)
        scale = self.font_size_pt * 0.001 / self.k
        return lambda data: (sum(data.translate(low)) + 256 * sum(data.translate(high))) * scale

    def show(self, x: float, baseline: float, text: str) -> None:
        """``text`` from ``x`` on ``baseline``, as fpdf2's ``text()`` would write it."""
        self._show(x, baseline, drawable(text))

    def _show(self, x: float, baseline: float, data: bytes) -> None:
        """``data`` (Windows-1252) from ``x`` on ``baseline``: what fpdf2's ``text()`` writes for a
        standard font, without its per-call checks (for encodings, page, underline, text
        shaping), which made up most of a render's text cost; a document draws a hundred or more
        strings. ``test_canvas`` holds this to the bytes ``text()`` writes."""
        if not self.current_font_is_set_on_page:
            self._out(self._set_font_for_page(self.current_font, self.font_size_pt))
        k = self.k
        escaped = data.replace(b"\\", b"\\\\").replace(b")", b"\\)").replace(b"(", b"\\(").replace(b"\r", b"\\r")
        shown = b"BT %.2f %.2f Td (%s) Tj ET" % (x * k, (self.h - baseline) * k, escaped)
        text_color = self.text_color
        if self.fill_color != text_color:
            shown = b"q %s %s Q" % (_color_operator(text_color), shown)
        self._out(shown)

    def line_height(self, factor: float = 1.25) -> float:
        return self.font_size * factor

    def wrap(self, text: str, width: float) -> list[bytes]:
        """``text`` broken into lines no wider than ``width`` (words kept whole when they fit), each
        in Windows-1252, as ``put`` draws it."""
        measure = self._meter()
        lines: list[bytes] = []
        space = measure(b" ")
        for paragraph in drawable(text).split(b"\n"):
            if measure(paragraph) <= width:
                lines.append(paragraph)
                continue
            current, current_w = b"", 0.0
            for word in paragraph.split(b" "):
                word_w = measure(word)
                if current and current_w + space + word_w <= width:
                    current, current_w = current + b" " + word, current_w + space + word_w
                    continue
                if current:
                    lines.append(current)
                current, current_w = word, word_w
                while current_w > width and len(current) > 1:
                    cut = _fit(measure, current, width)
                    lines.append(current[:cut])
                    current = current[cut:]
                    current_w = measure(current)
            lines.append(current)
        return lines

    def labelled(self, x: float, top: float, label: str, value: str, width: float, size: float = 8) -> float:
        """"Label: value" with the label in bold, the value wrapped under itself. Returns the next top."""
        self.style(size, bold=True)
        label_w = self.put_run(x, top, f"{label}: ") if label else 0.0
        self.style(size)
        lines = self.wrap(value, max(width - label_w, 10)) or [""]
        step = self.line_height()
        for i, line in enumerate(lines):
            self.put(x + label_w, top + i * step, line)
        return top + len(lines) * step

    def width(self, text: str) -> float:
        """The width of ``text`` in the current font."""
        return self._measure(drawable(text))

    def qr(self, url: str, x: float, top: float, size: float) -> None:
        """The QR of ``url``, quiet zone included, one pixel per module, kept Flate-compressed.

        A grey image, not a 1-bit one: fpdf2 transcodes 1-bit images to CCITT G4 through libtiff
        on every render, which cost more than encoding the QR, and its Flate option for them
        writes CCITT's parameters beside Flate's data (the QR no longer decodes). A grey image of
        black and white modules compresses as small, and at zlib's level 1 ten times faster than
        at its default (0.04 against 0.45 ms; 1.2 against 0.9 KiB). fpdf2 reads that level from a
        module setting: it is set for this call only (a logo keeps the default; a process renders
        one document at a time, see pool.py)."""
        level, image_parsing.SETTINGS.compression_level = image_parsing.SETTINGS.compression_level, 1
        image_filter = self.image_cache.image_filter  # the logo's: a JPEG is kept as it is
        self.set_image_filter("FlateDecode")
        try:
            self.image(qr_image(url), x=x, y=top, w=size, h=size)
        finally:
            self.set_image_filter(image_filter)
            image_parsing.SETTINGS.compression_level = level

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


@functools.lru_cache(maxsize=None)
def _device_color(color: tuple[int, int, int]):
    return convert_to_device_color(*color)  # frozen: one per colour serves every document


@functools.lru_cache(maxsize=None)
def _color_operator(color) -> bytes:
    return color.serialize().lower().encode("latin-1")  # as text() writes a text colour that is not the fill's


@functools.lru_cache(maxsize=None)
def _width_bytes(fontkey: str) -> tuple[bytes, bytes]:
    """A standard font's widths by Windows-1252 byte (its metrics are indexed by the Latin-1
    character of the same byte), as two translation tables: each width's low byte and high byte."""
    from fpdf.fonts import CORE_FONTS_CHARWIDTHS

    metrics = CORE_FONTS_CHARWIDTHS[fontkey]
    widths = [metrics.get(chr(byte), 0) for byte in range(256)]
    return bytes(w % 256 for w in widths), bytes(w // 256 for w in widths)


@functools.lru_cache(maxsize=256)
def qr_image(url: str) -> Image.Image:
    """The QR of ``url`` (error level M, quiet zone of 4 modules), as a black-and-white image, one
    pixel per module.

    Encoded by zint (C), which chooses the mask the standard way, by scoring all eight, and always
    the same one for the same URL, so documents stay byte-for-byte deterministic. Its fast mode
    segmentation writes the whole URL in byte mode: AFIP's URLs are Base64 after a fixed prefix,
    so the optimised segmentation gave no smaller symbol (the same version for 199 sample
    invoices) and cost 60 % more. In instructions per QR (valgrind): 2.3 M, against 5.5 M through
    zxing-cpp (which encodes with zint too, then reads the symbol back). Cached by URL:
    an invoice's QR never changes, and its A4 and ticket (or a document rendered again) share it.
    """
    symbol = zint.Symbol()
    symbol.symbology = zint.Symbology.QRCODE
    symbol.option_1 = 2  # error correction level M
    symbol.input_mode = zint.InputMode.FAST
    symbol.encode(url)
    symbol.scale = 0.5  # one pixel per module
    symbol.output_options = zint.OutputOptions.BARCODE_QUIET_ZONES
    symbol.buffer()
    pixels = memoryview(symbol.bitmap)  # rows × columns × RGB, black or white
    height, width, _ = pixels.shape
    return Image.frombytes("L", (width, height), pixels.tobytes()[::3])


def _fit(measure: Callable[[bytes], float], text: bytes, width: float) -> int:
    """How many leading characters of ``text`` fit in ``width`` (at least one)."""
    total = 0.0
    for i in range(len(text)):
        total += measure(text[i:i + 1])
        if total > width:
            return max(i, 1)
    return len(text)
