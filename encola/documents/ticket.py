"""The 80 mm ticket: one long page, as tall as its content (the same layout run twice: once to
measure, once to draw on a page of that height)."""

from __future__ import annotations

from encola.documents.canvas import GREY, RED, Canvas
from encola.documents.model import Document
from encola.documents.text import amount, day, number

WIDTH = 80.0
MARGIN = 4.0
INNER = WIDTH - 2 * MARGIN
QR_SIZE = 36.0
MEASURE_HEIGHT = 5000.0


def render(doc: Document) -> bytes:
    height = _layout(_canvas(doc, MEASURE_HEIGHT), doc, draw=False) + MARGIN
    pdf = _canvas(doc, height)
    _layout(pdf, doc, draw=True)
    return bytes(pdf.output())


def _canvas(doc: Document, height: float) -> Canvas:
    pdf = Canvas(WIDTH, height, created=doc.created, title=f"{doc.tipo} {doc.comprobante_nro}", author=doc.issuer.razon_social)
    pdf.add_page()
    return pdf


class _Flow:
    """Lines one under the other; with ``draw`` off it only advances (the measuring pass)."""

    def __init__(self, pdf: Canvas, draw: bool):
        self.pdf, self.draw, self.y = pdf, draw, MARGIN

    def text(self, text: str, size: float = 7.5, *, bold=False, italic=False, align="L", color=(0, 0, 0), right: str = ""):
        self.pdf.style(size, bold=bold, italic=italic, color=color)
        lines = self.pdf.wrap(text, INNER - (self.pdf.width(right) + 2 if right else 0)) or [""]
        step = self.pdf.line_height(1.3)
        for i, line in enumerate(lines):
            if self.draw:
                self.pdf.put(MARGIN, self.y, line, align=align, width=INNER)
                if right and i == 0:
                    self.pdf.put(MARGIN, self.y, right, align="R", width=INNER)
            self.y += step

    def pair(self, label: str, value: str, size: float = 7.5, *, bold=False):
        self.text(label, size, bold=bold, right=value)

    def rule(self, gap: float = 1.2):
        self.y += gap
        if self.draw:
            self.pdf.dashed(MARGIN, self.y, WIDTH - MARGIN)
        self.y += gap

    def banner(self, text: str):
        if self.draw:
            self.y += self.pdf.mark_banner(MARGIN, self.y, INNER, size=8, text=text)
        else:
            self.y += 8 * 25.4 / 72 * 1.7
        self.y += 1

    def space(self, mm: float):
        self.y += mm


def _layout(pdf: Canvas, doc: Document, *, draw: bool) -> float:
    f = _Flow(pdf, draw)
    issuer, buyer = doc.issuer, doc.buyer
    if doc.simulated:
        f.banner(doc.mark.text)
    f.text(issuer.razon_social, 10, bold=True, align="C")
    if issuer.domicilio:
        f.text(issuer.domicilio, align="C")
    f.text(f"CUIT: {issuer.cuit}", align="C")
    if issuer.iibb:
        f.text(f"Ingresos Brutos: {issuer.iibb}", align="C")
    if issuer.inicio_actividades:
        f.text(f"Inicio de actividades: {day(issuer.inicio_actividades)}", align="C")
    f.text(doc.issuer_condicion, align="C")
    f.rule()
    f.text(f"{doc.title} {doc.letter}", 11, bold=True, align="C")
    f.text(f"COD. {doc.codigo} — ORIGINAL", 7.5, bold=True, align="C")
    f.pair(f"P.V. {doc.punto_venta}  Nro. {doc.numero}", f"Fecha: {day(doc.fecha)}", bold=True)
    if doc.periodo:
        f.text(f"Período facturado: {day(doc.periodo[0])} al {day(doc.periodo[1])}")
    if doc.vencimiento_pago:
        f.text(f"Vto. para el pago: {day(doc.vencimiento_pago)}")
    for asociado in doc.asociados:
        f.text(f"Comprobante asociado: {asociado.describe()}")
    if doc.periodo_asociado:
        f.text(f"Período asociado: {day(doc.periodo_asociado[0])} al {day(doc.periodo_asociado[1])}")
    f.rule()
    f.text(buyer.razon_social or "Consumidor Final", bold=True)
    if buyer.documento_tipo:
        f.text(f"{buyer.documento_tipo}: {buyer.documento_nro}")
    f.text(f"Condición frente al IVA: {buyer.condicion_iva}")
    if buyer.domicilio:
        f.text(f"Domicilio: {buyer.domicilio}")
    if buyer.condicion_venta:
        f.text(f"Condición de venta: {buyer.condicion_venta}")
    f.rule()
    heading = "Cant. x Precio unit." + (" (% IVA)" if doc.shows_alicuota else "")
    f.pair(heading, "Subtotal", 7, bold=True)
    f.text("Código  Descripción", 7, bold=True)
    f.space(0.6)
    for line in doc.lines:
        unit = f" {line.unidad}" if line.unidad else ""
        qty = f"{number(line.cantidad, 2, 4)}{unit} x {number(line.precio_unitario, 2, 3)}"
        if line.alicuota:
            qty += f" ({line.alicuota})"
        f.pair(qty, amount(line.subtotal))
        f.text(f"{line.codigo}  {line.descripcion}" if line.codigo else line.descripcion)
        if line.bonificacion_porcentaje:
            f.text(f"Bonificación {number(line.bonificacion_porcentaje, 0, 2)}%", 7, italic=True)
        if line.leyenda:
            f.text(line.leyenda, 7, italic=True, color=GREY)
        if doc.discriminates_iva:
            f.pair("", f"c/IVA {amount(line.subtotal_con_iva)}", 6.5, bold=False)
        f.space(0.8)
    f.rule()
    currency = "$" if not doc.foreign_currency else doc.moneda
    for entry in doc.totals:
        if entry.value or entry.label != "Importe Otros Tributos":
            f.pair(entry.label, f"{currency} {amount(entry.value)}")
    for tributo in doc.tributos:
        f.pair(f"  {tributo.descripcion} ({number(tributo.alicuota, 0, 4)}%)", amount(tributo.importe), 7)
    f.space(0.5)
    f.pair("TOTAL", f"{currency} {amount(doc.total)}", 11, bold=True)
    if doc.foreign_currency:
        f.text(f"Moneda: {doc.moneda_nombre} ({doc.moneda})")
        f.text(f"Cotización: {number(doc.cotizacion)}")
    if doc.transparencia:
        f.rule()
        f.text("Régimen de Transparencia Fiscal al Consumidor (Ley 27.743)", 7, bold=True)
        for entry in doc.transparencia:
            f.pair(entry.label, f"{currency} {amount(entry.value)}", 7)
    for leyenda in doc.leyendas:
        f.space(0.8)
        f.text(leyenda, 7, italic=True)
    f.rule()
    f.pair("CAE N°", doc.cae, 8, bold=True)
    f.pair("Fecha de Vto. de CAE", day(doc.cae_vencimiento), 8, bold=True)
    f.space(1.5)
    if draw:
        pdf.qr(doc.qr_url, (WIDTH - QR_SIZE) / 2, f.y, QR_SIZE)
    f.space(QR_SIZE + 1)
    if not doc.simulated:
        f.text("Comprobante Autorizado por ARCA", 7, italic=True, align="C")
    else:
        f.space(1)
        f.banner(doc.mark.text)
        f.text(doc.mark.note, 6.5, italic=True, align="C", color=RED)
    return f.y
