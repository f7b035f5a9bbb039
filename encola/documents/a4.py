"""The A4 layout (RG 1415's, as AFIP's own "Comprobantes en línea" prints it).

Every page: "ORIGINAL", the header split in two halves with the letter box in the middle (issuer
on the left, the comprobante on the right), the service period, the buyer, asociados and moneda
when there are, the items table's heading, and the footer (QR, CAE, page number). The last page
also carries leyendas, tributos, the Ley 27.743 block and the totals.
"""

from __future__ import annotations

import io

from encola.documents.canvas import GREY, PT, RED, Canvas
from encola.documents.model import Document, Line
from encola.documents.text import amount, day, number

WIDTH, HEIGHT = 210.0, 297.0
LEFT, RIGHT = 10.0, 200.0
MIDDLE = (LEFT + RIGHT) / 2
FOOTER_TOP = 250.0
TABLE_SIZE = 7.5
ROW_PAD = 1.2
BOX = 14.0  # the letter box


def render(doc: Document) -> bytes:
    try:
        return _render(doc, pages=1)
    except _MorePages:  # a long invoice: again, with fpdf2 filling in the page count
        return _render(doc, pages=None)


class _MorePages(Exception):
    """The invoice does not fit on the one page it was drawn for."""


def _render(doc: Document, pages: int | None) -> bytes:
    """The A4, its footers saying "Pág. n/``pages``"; ``None``: fpdf2 fills the count in at the end.

    Most invoices fit on one page, and writing "Pág. 1/1" as plain text costs a twentieth of what
    fpdf2's cell() with its page-count placeholder costs; a longer invoice gives up at its second
    page and is drawn again the general way."""
    pdf = Canvas(WIDTH, HEIGHT, created=doc.created, title=f"{doc.tipo} {doc.comprobante_nro}", author=doc.issuer.razon_social)
    pdf.alias_nb_pages("{nb}")
    pdf.pages_known = pages
    columns = _columns(doc)
    y = _page(pdf, doc, columns)
    pdf.style(TABLE_SIZE)
    for line in doc.lines:
        cells = _cells(pdf, line, columns)
        height = _row_height(pdf, cells)
        if y + height > FOOTER_TOP - 2:
            y = _page(pdf, doc, columns)
        _draw_row(pdf, cells, columns, y)
        y += height
    pdf.line(LEFT, y, RIGHT, y)
    closing = _closing_height(pdf, doc)
    if y + 3 + closing > FOOTER_TOP - 2:
        y = _page(pdf, doc, None)
    _closing(pdf, doc, max(y + 3, FOOTER_TOP - 2 - closing))
    return bytes(pdf.output())


# --- every page ------------------------------------------------------------------------------------


def _page(pdf: Canvas, doc: Document, columns) -> float:
    """A new page with everything that repeats; returns where the items start."""
    if pdf.pages_known is not None and pdf.page_no() >= pdf.pages_known:
        raise _MorePages
    pdf.add_page()
    if doc.simulated:
        _watermark(pdf, doc.mark.text)
    pdf.set_draw_color(0, 0, 0)
    pdf.rect(LEFT, 8, RIGHT - LEFT, 7)
    pdf.style(11, bold=True)
    pdf.put(LEFT, 9.6, "ORIGINAL", align="C", width=RIGHT - LEFT)
    y = _header(pdf, doc, 15)
    if doc.simulated:
        y += pdf.mark_banner(LEFT, y + 1, RIGHT - LEFT, text=doc.mark.text) + 1
    if doc.periodo or doc.vencimiento_pago:
        y = _period(pdf, doc, y + 1)
    y = _buyer(pdf, doc, y + 1)
    if doc.asociados or doc.periodo_asociado or doc.foreign_currency:
        y = _extras(pdf, doc, y + 1)
    _footer(pdf, doc)
    if columns is None:
        return y + 2
    return _table_heading(pdf, columns, y + 2)


def _watermark(pdf: Canvas, mark: str) -> None:
    pdf.style(40 if len(mark) <= 30 else 35, bold=True, color=(246, 206, 206))
    with pdf.rotation(48, WIDTH / 2, HEIGHT / 2):
        w = pdf.width(mark)
        pdf.text(WIDTH / 2 - w / 2, HEIGHT / 2 + 5, mark)


def _header(pdf: Canvas, doc: Document, top: float) -> float:
    issuer = doc.issuer
    half = MIDDLE - LEFT - BOX / 2 - 4
    # Left: the issuer.
    y = top + 3
    if issuer.logo:
        try:
            info = pdf.image(io.BytesIO(issuer.logo), x=LEFT + 3, y=y, h=14, keep_aspect_ratio=True, w=half)
            y += info.rendered_height + 2
        except Exception:  # an unreadable logo is left out, never a failed document
            pass
    pdf.style(13 if len(issuer.razon_social) < 34 else 11, bold=True)
    for line in pdf.wrap(issuer.razon_social, half)[:2]:
        pdf.put(LEFT + 3, y, line, align="C", width=half)
        y += pdf.line_height(1.2)
    y += 2
    y = pdf.labelled(LEFT + 3, y, "Razón Social", issuer.razon_social, half)
    if issuer.domicilio:
        y = pdf.labelled(LEFT + 3, y, "Domicilio Comercial", issuer.domicilio, half)
    y = pdf.labelled(LEFT + 3, y, "Condición frente al IVA", doc.issuer_condicion, half)
    left_bottom = y
    # Right: the comprobante.
    x = MIDDLE + BOX / 2 + 4
    width = RIGHT - x - 2
    y = top + 3
    pdf.style(15 if len(doc.title) <= 16 else 10, bold=True)
    for line in pdf.wrap(doc.title, width)[:2]:
        pdf.put(x, y, line)
        y += pdf.line_height(1.2)
    y += 1.5
    pdf.style(8.5, bold=True)
    pdf.put(x, y, f"Punto de Venta: {doc.punto_venta}      Comp. Nro: {doc.numero}")
    y += pdf.line_height() + 0.5
    y = pdf.labelled(x, y, "Fecha de Emisión", day(doc.fecha), width)
    y += 1.5
    y = pdf.labelled(x, y, "CUIT", issuer.cuit, width)
    if issuer.iibb:
        y = pdf.labelled(x, y, "Ingresos Brutos", issuer.iibb, width)
    if issuer.inicio_actividades:
        y = pdf.labelled(x, y, "Fecha de Inicio de Actividades", day(issuer.inicio_actividades), width)
    bottom = max(left_bottom, y, top + BOX + 4) + 2
    pdf.rect(LEFT, top, RIGHT - LEFT, bottom - top)
    pdf.line(MIDDLE, top + BOX, MIDDLE, bottom)
    # The letter box, across the middle line.
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(MIDDLE - BOX / 2, top, BOX, BOX, style="DF")
    pdf.style(24, bold=True)
    pdf.put(MIDDLE - BOX / 2, top + 1.2, doc.letter, align="C", width=BOX)
    pdf.style(6.5, bold=True)
    pdf.put(MIDDLE - BOX / 2, top + BOX - 3.4, f"COD. {doc.codigo}", align="C", width=BOX)
    return bottom


def _period(pdf: Canvas, doc: Document, top: float) -> float:
    x, y = LEFT + 2, top + 1.5
    parts = []
    if doc.periodo:
        parts += [("Período Facturado Desde", day(doc.periodo[0])), ("Hasta", day(doc.periodo[1]))]
    if doc.vencimiento_pago:
        parts.append(("Fecha de Vto. para el pago", day(doc.vencimiento_pago)))
    for label, value in parts:
        pdf.style(8, bold=True)
        x += pdf.put_run(x, y, f"{label}: ")
        pdf.style(8)
        x += pdf.put_run(x, y, value) + 8
    bottom = y + pdf.line_height() + 1.2
    pdf.rect(LEFT, top, RIGHT - LEFT, bottom - top)
    return bottom


def _buyer(pdf: Canvas, doc: Document, top: float) -> float:
    buyer = doc.buyer
    split = LEFT + 84
    y = top + 1.5
    left_y = y
    if buyer.documento_tipo:
        left_y = pdf.labelled(LEFT + 2, left_y, buyer.documento_tipo, buyer.documento_nro, split - LEFT - 4)
    left_y = pdf.labelled(LEFT + 2, left_y, "Condición frente al IVA", buyer.condicion_iva, split - LEFT - 4)
    if buyer.condicion_venta:
        left_y = pdf.labelled(LEFT + 2, left_y, "Condición de venta", buyer.condicion_venta, split - LEFT - 4)
    right_y = pdf.labelled(split, y, "Apellido y Nombre / Razón Social", buyer.razon_social, RIGHT - split - 2)
    if buyer.domicilio:
        right_y = pdf.labelled(split, right_y, "Domicilio", buyer.domicilio, RIGHT - split - 2)
    bottom = max(left_y, right_y) + 1.2
    pdf.rect(LEFT, top, RIGHT - LEFT, bottom - top)
    return bottom


def _extras(pdf: Canvas, doc: Document, top: float) -> float:
    y = top + 1.5
    width = RIGHT - LEFT - 4
    for asociado in doc.asociados:
        y = pdf.labelled(LEFT + 2, y, "Comprobante asociado", asociado.describe(), width)
    if doc.periodo_asociado:
        desde, hasta = doc.periodo_asociado
        y = pdf.labelled(LEFT + 2, y, "Período asociado", f"desde {day(desde)} hasta {day(hasta)}", width)
    if doc.foreign_currency:
        text = f"{doc.moneda_nombre} ({doc.moneda})"
        pdf.style(8, bold=True)
        x = LEFT + 2 + pdf.put_run(LEFT + 2, y, "Moneda: ")
        pdf.style(8)
        x += pdf.put_run(x, y, text) + 10
        pdf.style(8, bold=True)
        x += pdf.put_run(x, y, "Cotización: ")
        pdf.style(8)
        pdf.put(x, y, number(doc.cotizacion))
        y += pdf.line_height()
    bottom = y + 1.2
    pdf.rect(LEFT, top, RIGHT - LEFT, bottom - top)
    return bottom


def _footer(pdf: Canvas, doc: Document) -> None:
    top = FOOTER_TOP
    pdf.set_draw_color(0, 0, 0)
    pdf.line(LEFT, top, RIGHT, top)
    size = 31.0
    pdf.qr(doc.qr_url, LEFT, top + 1, size)
    x = LEFT + size + 3
    pdf.style(11, bold=True, color=(20, 20, 20) if not doc.simulated else RED)
    pdf.put(x, top + 4, "ARCA" if not doc.simulated else doc.mark.authority)
    pdf.style(9, bold=True, italic=True)
    pdf.put(x, top + 10, "Comprobante Autorizado" if not doc.simulated else doc.mark.status)
    pdf.style(6.5, italic=True, color=GREY)
    note = "Esta Agencia no se responsabiliza por los datos ingresados en el detalle de la operación"
    for i, line in enumerate(pdf.wrap(note, 70)):
        pdf.put(x, top + 15 + i * 3, line)
    pdf.style(8.5, bold=True)
    pdf.put(RIGHT - 62, top + 4, "CAE N°:")
    pdf.put(RIGHT - 62, top + 9, "Fecha de Vto. de CAE:")
    pdf.style(8.5)
    pdf.put(RIGHT - 26, top + 4, doc.cae)
    pdf.put(RIGHT - 26, top + 9, day(doc.cae_vencimiento))
    pdf.style(8)
    if pdf.pages_known is not None:  # where cell() below puts its text
        pdf.show(RIGHT - 62 + pdf.c_margin, top + 16.5 + 0.3 * pdf.font_size, f"Pág. {pdf.page_no()}/{pdf.pages_known}")
    else:
        pdf.set_xy(RIGHT - 62, top + 14.5)
        pdf.cell(30, 4, f"Pág. {pdf.page_no()}/{{nb}}")  # cell() fills in the page count
    if doc.simulated:
        pdf.style(8, bold=True, color=RED)
        for i, line in enumerate(pdf.wrap(f"{doc.mark.text}. {doc.mark.note}", RIGHT - x - 64)):
            pdf.put(x, top + 26 + i * 3.5, line)
    pdf.style(8)


# --- the items table --------------------------------------------------------------------------------

# (heading, width, alignment, value of a line); the description's width is what is left.
def _columns(doc: Document) -> list[tuple[str, float, str, object]]:
    columns: list[tuple[str, float, str, object]] = [
        ("Código", 16, "L", lambda l: l.codigo),
        ("Producto / Servicio", 0, "L", None),
        ("Cantidad", 15, "R", lambda l: number(l.cantidad, 2, 4)),
        ("U. medida", 16, "L", lambda l: l.unidad),
        ("Precio Unit.", 21, "R", lambda l: number(l.precio_unitario, 2, 3)),
        ("% Bonif", 11, "R", lambda l: number(l.bonificacion_porcentaje, 2, 2)),
    ]
    if doc.discriminates_iva:
        columns += [
            ("Subtotal", 22, "R", lambda l: amount(l.subtotal)),
            ("Alíc. IVA", 14, "R", lambda l: l.alicuota),
            ("Subtotal c/IVA", 23, "R", lambda l: amount(l.subtotal_con_iva)),
        ]
    elif doc.shows_alicuota:
        columns += [("Alíc. IVA", 14, "R", lambda l: l.alicuota), ("Subtotal", 24, "R", lambda l: amount(l.subtotal))]
    else:
        columns += [("Subtotal", 26, "R", lambda l: amount(l.subtotal))]
    fixed = sum(c[1] for c in columns)
    return [(h, w or (RIGHT - LEFT - fixed), a, f) for h, w, a, f in columns]


def _table_heading(pdf: Canvas, columns, top: float) -> float:
    height = 6.0
    pdf.set_fill_color(215, 215, 215)
    pdf.rect(LEFT, top, RIGHT - LEFT, height, style="DF")
    pdf.style(TABLE_SIZE, bold=True)
    x = LEFT
    for heading, width, align, _ in columns:
        pdf.put(x + 1, top + (height - TABLE_SIZE * PT) / 2, heading, align=align, width=width - 2)
        x += width
    pdf.style(TABLE_SIZE)
    return top + height + 0.5


def _cells(pdf: Canvas, line: Line, columns) -> list[list[tuple[str, bool]]]:
    """Each column's lines of text; (text, italic). The description carries the item's leyenda."""
    cells = []
    for _, width, _, value in columns:
        if value is None:
            text = [(part, False) for part in pdf.wrap(line.descripcion, width - 2)]
            if line.leyenda:
                pdf.style(TABLE_SIZE - 0.5, italic=True)
                text += [(part, True) for part in pdf.wrap(line.leyenda, width - 2)]
                pdf.style(TABLE_SIZE)
            cells.append(text)
        else:
            cells.append([(value(line), False)])
    return cells


def _row_height(pdf: Canvas, cells) -> float:
    return max(len(c) for c in cells) * TABLE_SIZE * PT * 1.25 + ROW_PAD


def _draw_row(pdf: Canvas, cells, columns, top: float) -> None:
    x = LEFT
    step = TABLE_SIZE * PT * 1.25
    for lines, (_, width, align, _) in zip(cells, columns):
        for i, (text, italic) in enumerate(lines):
            if italic:
                pdf.style(TABLE_SIZE - 0.5, italic=True, color=GREY)
            pdf.put(x + 1, top + ROW_PAD / 2 + i * step, text, align=align, width=width - 2)
            if italic:
                pdf.style(TABLE_SIZE)
        x += width


# --- the last page's closing: leyendas, tributos, Ley 27.743, totals --------------------------------

SPLIT = LEFT + 108  # left: leyendas, tributos and Ley 27.743; right: the totals
TOTAL_STEP = 5.0


def _closing_height(pdf: Canvas, doc: Document) -> float:
    right = (len(doc.totals) + 1) * TOTAL_STEP + 4
    return max(right, _closing_left(pdf, doc, 0, draw=False))


def _closing(pdf: Canvas, doc: Document, top: float) -> None:
    _closing_left(pdf, doc, top, draw=True)
    y = top
    width = RIGHT - SPLIT
    pdf.rect(SPLIT, top, width, (len(doc.totals) + 1) * TOTAL_STEP + 3)
    y += 1.5
    for entry in doc.totals:
        pdf.style(8.5, bold=True)
        pdf.put(SPLIT + 2, y, f"{entry.label}: {_currency(doc)}", align="R", width=width - 32)
        pdf.style(8.5)
        pdf.put(RIGHT - 30, y, amount(entry.value), align="R", width=28)
        y += TOTAL_STEP
    pdf.style(10, bold=True)
    pdf.put(SPLIT + 2, y + 0.5, f"Importe Total: {_currency(doc)}", align="R", width=width - 32)
    pdf.put(RIGHT - 30, y + 0.5, amount(doc.total), align="R", width=28)
    pdf.style(8)


def _currency(doc: Document) -> str:
    return "$" if not doc.foreign_currency else doc.moneda


def _closing_left(pdf: Canvas, doc: Document, top: float, *, draw: bool) -> float:
    x, width = LEFT, SPLIT - LEFT - 4
    y = top
    if doc.tributos:
        if draw:
            pdf.style(7.5, bold=True)
            pdf.set_fill_color(215, 215, 215)
            pdf.rect(x, y, width, 4.5, style="F")
            for heading, at, w, align in _TRIBUTO_COLUMNS:
                pdf.put(x + at, y + 1, heading, align=align, width=w)
        y += 5
        pdf.style(7.5)
        for tributo in doc.tributos:
            if draw:
                pdf.put(x + 1, y, tributo.descripcion)
                pdf.put(x + 52, y, amount(tributo.base), align="R", width=20)
                pdf.put(x + 73, y, number(tributo.alicuota, 2, 4), align="R", width=10)
                pdf.put(x + 84, y, amount(tributo.importe), align="R", width=19)
            y += 3.8
        y += 2
    if doc.transparencia:
        height = 4.2 + len(doc.transparencia) * 3.8 + 1
        if draw:
            pdf.rect(x, y, width, height)
            pdf.style(7.5, bold=True)
            pdf.put(x + 2, y + 1, "Régimen de Transparencia Fiscal al Consumidor (Ley 27.743)")
            pdf.style(7.5)
            for i, entry in enumerate(doc.transparencia):
                pdf.put(x + 2, y + 4.8 + i * 3.8, f"{entry.label}: {_currency(doc)} {amount(entry.value)}")
        y += height + 2
    for leyenda in doc.leyendas:
        pdf.style(8, italic=True)
        for line in pdf.wrap(leyenda, width):
            if draw:
                pdf.put(x, y, line)
            y += pdf.line_height()
        y += 1
    return y - top


_TRIBUTO_COLUMNS = (
    ("Otros tributos", 1, 50, "L"),
    ("Base imponible", 52, 20, "R"),
    ("Alíc. %", 73, 10, "R"),
    ("Importe", 84, 19, "R"),
)
