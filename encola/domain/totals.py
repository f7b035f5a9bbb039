"""Totals and IVA of an invoice, computed the way AFIP checks them.

Line totals are ``cantidad × precio × (1 − bonificación %)`` rounded half-even to cents. Lines are
grouped by alícuota; the global ``bonificacion`` (an amount without IVA) is spread over the groups
in proportion to their bases, the last group taking the remainder so the parts add up exactly;
then each group's IVA is its base times its rate, rounded half-even. AFIP receives only these
group totals (WSFEv1 has no item detail), so computing them here once means the numbers we send
always satisfy AFIP's arithmetic (``ImpTotal = ImpTotConc + ImpNeto + ImpOpEx + ImpTrib + ImpIVA``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

from encola.domain.fields import money
from encola.domain.invoice import Invoice, Item
from encola.domain.tables import (
    ALICUOTA_EXENTO,
    ALICUOTA_NO_GRAVADO,
    ALICUOTAS_IVA,
    TRIBUTO_TIPO_DESCRIPCION,
)

# Amounts arrive below 10^15 (fields.MAX_MAGNITUDE) with any number of decimals: a product of two,
# times a rate, rounded to cents, needs far more than the default context's 28 digits (quantize
# would raise). With 100 nothing here can overflow; validation then refuses what AFIP cannot take.
PRECISION = 100
ZERO = Decimal("0")
HUNDRED = Decimal("100")
IMPUESTOS_INTERNOS_TRIBUTO_ID = 4


@dataclass(frozen=True)
class IvaGroup:
    afip_id: int
    rate: Decimal
    base: Decimal
    importe: Decimal


@dataclass(frozen=True)
class TributoLine:
    afip_id: int
    descripcion: str
    base: Decimal
    alicuota: Decimal
    importe: Decimal


@dataclass(frozen=True)
class Totals:
    neto_gravado: Decimal  # AFIP ImpNeto
    iva: tuple[IvaGroup, ...]  # AFIP Iva array (empty for class C)
    exento: Decimal  # AFIP ImpOpEx
    no_gravado: Decimal  # AFIP ImpTotConc
    tributos: tuple[TributoLine, ...]  # AFIP Tributos, impuestos internos included
    line_totals: tuple[Decimal, ...]

    @property
    def imp_iva(self) -> Decimal:
        return sum((g.importe for g in self.iva), ZERO)

    @property
    def imp_trib(self) -> Decimal:
        return sum((t.importe for t in self.tributos), ZERO)

    @property
    def total(self) -> Decimal:
        return self.neto_gravado + self.imp_iva + self.exento + self.no_gravado + self.imp_trib

    def tributos_of(self, afip_id: int) -> Decimal:
        return sum((t.importe for t in self.tributos if t.afip_id == afip_id), ZERO)


def line_total(item: Item) -> Decimal:
    gross = item.cantidad * item.precio_unitario
    return money(gross * (HUNDRED - item.bonificacion_porcentaje) / HUNDRED)


def _spread(amount: Decimal, bases: list[Decimal]) -> list[Decimal]:
    """Split ``amount`` over ``bases`` proportionally, in cents, summing exactly to ``amount``."""
    whole = sum(bases, ZERO)
    if not bases or amount == ZERO or whole == ZERO:
        return [ZERO] * len(bases)
    shares = [money(amount * base / whole) for base in bases[:-1]]
    return shares + [amount - sum(shares, ZERO)]


def compute(invoice: Invoice) -> Totals:
    with localcontext() as context:
        context.prec = PRECISION
        return _compute(invoice)


def _compute(invoice: Invoice) -> Totals:
    lines = tuple(line_total(item) for item in invoice.items)
    class_c = invoice.tipo.letter == "C"

    # Bases per bucket: an IVA rate, "exento" or "no gravado". Class C has no IVA: all is net.
    buckets: dict[Decimal, Decimal] = {}
    for item, amount in zip(invoice.items, lines):
        key = ZERO if class_c else item.alicuota
        buckets[key] = buckets.get(key, ZERO) + amount

    keys = sorted(buckets, reverse=True)
    discounts = _spread(invoice.bonificacion, [buckets[k] for k in keys])
    after = {k: buckets[k] - d for k, d in zip(keys, discounts)}

    exento = after.pop(ALICUOTA_EXENTO, ZERO)
    no_gravado = after.pop(ALICUOTA_NO_GRAVADO, ZERO)
    if class_c:
        return Totals(
            neto_gravado=after.get(ZERO, ZERO) + exento + no_gravado,
            iva=(),
            exento=ZERO,
            no_gravado=ZERO,
            tributos=_tributos(invoice, lines),
            line_totals=lines,
        )
    iva = tuple(
        IvaGroup(ALICUOTAS_IVA[rate], rate, base, money(base * rate / HUNDRED))
        for rate, base in after.items()
    )
    return Totals(
        neto_gravado=sum((g.base for g in iva), ZERO),
        iva=iva,
        exento=exento,
        no_gravado=no_gravado,
        tributos=_tributos(invoice, lines),
        line_totals=lines,
    )


def _tributos(invoice: Invoice, lines: tuple[Decimal, ...]) -> tuple[TributoLine, ...]:
    result = [
        TributoLine(t.tipo, TRIBUTO_TIPO_DESCRIPCION[t.tipo], t.base_imponible, t.alicuota, money(t.total))
        for t in invoice.tributos
    ]
    internos = impuestos_internos(invoice, lines)
    if internos is not None:
        result.append(internos)
    return tuple(result)


def impuestos_internos(invoice: Invoice, lines: tuple[Decimal, ...]) -> TributoLine | None:
    """The comprobante's impuestos internos: the amount sent, or the items' rates applied to their lines."""
    if invoice.impuestos_internos is not None and invoice.impuestos_internos > ZERO:
        base = invoice.impuestos_internos_base or ZERO
        rate = invoice.impuestos_internos_alicuota or ZERO
        return TributoLine(IMPUESTOS_INTERNOS_TRIBUTO_ID, "Impuestos internos", base, rate, money(invoice.impuestos_internos))
    taxed = [(item, amount) for item, amount in zip(invoice.items, lines) if item.impuestos_internos_alicuota > ZERO]
    if not taxed:
        return None
    importe = sum((money(amount * item.impuestos_internos_alicuota / HUNDRED) for item, amount in taxed), ZERO)
    base = sum((amount for _, amount in taxed), ZERO)
    rates = {item.impuestos_internos_alicuota for item, _ in taxed}
    rate = rates.pop() if len(rates) == 1 else ZERO
    return TributoLine(IMPUESTOS_INTERNOS_TRIBUTO_ID, "Impuestos internos", base, rate, importe)
