"""The canvas's own text drawing and widths against fpdf2's: the same bytes, the same measures.

``Canvas.show`` writes text without fpdf2's per-call checks, and ``Canvas.width`` sums the standard
fonts' metrics itself; both are only worth having while they give exactly what fpdf2 gives. A new
fpdf2 that writes text differently fails here, not in a buyer's PDF reader.
"""

from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from encola.documents.canvas import BLACK, GREY, RED, Canvas
from encola.documents.text import ENCODING

# Every character the standard fonts can draw in Windows-1252, "(", ")" and "\" included.
DRAWABLE = st.characters(
    codec=ENCODING, exclude_categories=("Cc", "Cs"), exclude_characters="\r\n\t"
)
STYLES = st.tuples(
    st.sampled_from([6.5, 8, 11, 40]), st.booleans(), st.booleans(), st.sampled_from([BLACK, GREY, RED, (255, 255, 255)])
)


def page_contents(draw) -> bytes:
    pdf = Canvas(210, 297, created=datetime(2026, 11, 28, tzinfo=timezone.utc), title="t", author="a")
    pdf.add_page()
    draw(pdf)
    return bytes(pdf.pages[1].contents)


@settings(max_examples=150, deadline=None)
@given(
    runs=st.lists(st.tuples(STYLES, st.text(DRAWABLE, min_size=1, max_size=40)), min_size=1, max_size=6),
    fill=st.sampled_from([None, (215, 215, 215), RED]),
    x=st.floats(0, 200), baseline=st.floats(0, 290),
)
def test_show_writes_the_bytes_fpdf2s_text_writes(runs, fill, x, baseline):
    def drawing(write):
        def draw(pdf: Canvas) -> None:
            if fill is not None:
                pdf.set_fill_color(*fill)
            for (size, bold, italic, color), text in runs:
                pdf.style(size, bold=bold, italic=italic, color=color)
                write(pdf, text)
        return draw

    ours = page_contents(drawing(lambda pdf, text: pdf.show(x, baseline, text)))
    theirs = page_contents(drawing(lambda pdf, text: pdf.text(x, baseline, text)))
    assert ours == theirs


@settings(max_examples=150, deadline=None)
@given(text=st.text(DRAWABLE, max_size=60), size=st.sampled_from([6.5, 8, 11]), bold=st.booleans(), italic=st.booleans())
def test_width_is_fpdf2s_width_of_the_same_text(text, size, bold, italic):
    pdf = Canvas(210, 297, created=datetime(2026, 11, 28, tzinfo=timezone.utc), title="t", author="a")
    pdf.add_page()
    pdf.style(size, bold=bold, italic=italic)
    assert abs(pdf.width(text) - pdf.get_string_width(text)) < 1e-9


@settings(max_examples=150, deadline=None)
@given(runs=st.lists(st.tuples(STYLES, st.text(DRAWABLE, min_size=1, max_size=10)), min_size=1, max_size=12))
def test_style_switches_fonts_and_colours_as_fpdf2s_set_font_does(runs):
    def ours(pdf: Canvas) -> None:
        for (size, bold, italic, color), text in runs:
            pdf.style(size, bold=bold, italic=italic, color=color)
            pdf.text(10, 20, text)

    def theirs(pdf: Canvas) -> None:
        for (size, bold, italic, color), text in runs:
            pdf.set_font("Helvetica", ("B" if bold else "") + ("I" if italic else ""), size)
            pdf.set_text_color(*color)
            pdf.text(10, 20, text)

    assert page_contents(ours) == page_contents(theirs)


def test_fpdf2s_serialisation_remembered_gives_fpdf2s_own_bytes():
    """encola/documents/fpdf_output.py against fpdf2's own, on real invoices of every layout."""
    from dataclasses import replace
    from io import BytesIO

    from PIL import Image

    from encola.documents import fpdf_output, render_a4, render_ticket
    from encola.documents.sample import SAMPLE_ISSUER, sample_invoice

    logo = BytesIO()
    Image.new("RGBA", (120, 40), (20, 90, 160, 200)).save(logo, "PNG")
    issuer = replace(SAMPLE_ISSUER, logo=logo.getvalue())
    rows = [sample_invoice(5, 1), sample_invoice(130, 2)]

    def documents() -> list[bytes]:
        return [render(row, who, simulated=simulated) for row in rows for who in (SAMPLE_ISSUER, issuer)
                for simulated in (False, True) for render in (render_a4, render_ticket)]

    ours = documents()
    with fpdf_output.original():
        theirs = documents()
    assert ours == theirs


@settings(max_examples=100, deadline=None)
@given(
    text=st.text(DRAWABLE, min_size=1, max_size=40), style=STYLES, align=st.sampled_from("LRC"),
    x=st.floats(0, 150), top=st.floats(0, 280), width=st.floats(0, 60),
)
def test_put_places_text_where_fpdf2s_own_measure_puts_it(text, style, align, x, top, width):
    """``put`` measures only right- and centre-aligned text, with its own table; ``put_run``
    returns the width the next run starts after. Both as fpdf2 would place and measure them."""
    size, bold, italic, color = style

    def ours(pdf: Canvas) -> None:
        pdf.style(size, bold=bold, italic=italic, color=color)
        pdf.put(x, top, text, align=align, width=width)
        assert abs(pdf.put_run(x, top, text) - pdf.get_string_width(text)) < 1e-9

    def theirs(pdf: Canvas) -> None:
        pdf.set_font("Helvetica", ("B" if bold else "") + ("I" if italic else ""), size)
        pdf.set_text_color(*color)
        w = pdf.get_string_width(text)
        left = {"L": x, "R": x + width - w, "C": x + (width - w) / 2}[align]
        pdf.text(left, top + pdf.font_size * 0.78, text)
        pdf.text(x, top + pdf.font_size * 0.78, text)

    assert page_contents(ours) == page_contents(theirs)


WORDS = st.lists(st.text(DRAWABLE, min_size=1, max_size=14).filter(lambda w: " " not in w), min_size=1, max_size=30)


@settings(max_examples=150, deadline=None)
@given(words=WORDS, width=st.floats(2, 120), size=st.sampled_from([6.5, 8, 11]), bold=st.booleans())
def test_wrap_keeps_every_word_and_each_line_within_the_width(words, width, size, bold):
    pdf = Canvas(210, 297, created=datetime(2026, 11, 28, tzinfo=timezone.utc), title="t", author="a")
    pdf.add_page()
    pdf.style(size, bold=bold)
    text = " ".join(words)
    lines = pdf.wrap(text, width)
    # Nothing lost or added: the lines, joined, are the text (a word too long for a line is cut).
    assert b"".join(lines).replace(b" ", b"") == text.replace(" ", "").encode(ENCODING)
    for line in lines:
        drawn = line.decode(ENCODING)
        # fpdf2's own measure; one character alone may be wider than a very narrow column.
        assert pdf.get_string_width(drawn) <= width + 1e-9 or len(drawn) == 1
    # Whole words stay whole when they fit: every word that fits is on one line.
    fitting = [w for w in words if pdf.get_string_width(w) <= width]
    assert all(any(w in line.decode(ENCODING).split(" ") for line in lines) for w in fitting)
