"""Consultas: the client's reads of its invoices (by fecha, number range, external_reference)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, func, select

from encola.store.rows import InvoiceRow, Page
from encola.store.schema import EMITTED, HIDDEN_STATES, invoices, pdvs


class ConsultaQueries:
    """Mixed into Store: read-only queries of the invoices."""

    def _page(self, where, pagina: int, limite: int) -> Page:
        with self.reading() as connection:
            total = connection.execute(select(func.count()).select_from(invoices).where(where)).scalar_one()
            rows = connection.execute(
                select(invoices)
                .where(where)
                .order_by(invoices.c.fecha.desc(), invoices.c.id.desc())
                .offset(pagina * limite)
                .limit(limite)
            ).all()
        return Page(total, [InvoiceRow.from_row(row) for row in rows])

    def search_by_fecha(self, pdv_id: int, fecha: date, pagina: int, limite: int) -> Page:
        """Consulta avanzada F: the PDV's invoices of one date, newest first."""
        return self._page(
            and_(invoices.c.pdv_id == pdv_id, invoices.c.fecha == fecha, invoices.c.state.not_in(HIDDEN_STATES)),
            pagina,
            limite,
        )

    def search_by_external_reference(self, pdv_id: int, reference: str, pagina: int, limite: int) -> Page:
        """Consulta avanzada EXT_REF."""
        return self._page(
            and_(
                invoices.c.pdv_id == pdv_id,
                invoices.c.external_reference == reference,
                invoices.c.state.not_in(HIDDEN_STATES),
            ),
            pagina,
            limite,
        )

    def search_by_external_references(self, pdv_id: int, references: list[str], pagina: int, limite: int) -> Page:
        """Consulta avanzada EXT_REF_LIST: the invoices of any of up to 100 references, newest first."""
        return self._page(
            and_(
                invoices.c.pdv_id == pdv_id,
                invoices.c.external_reference.in_(references),
                invoices.c.state.not_in(HIDDEN_STATES),
            ),
            pagina,
            limite,
        )

    def search_by_numbers(self, pdv_id: int, cbte_tipo: int, desde: int, hasta: int, pagina: int, limite: int) -> Page:
        """Consulta avanzada TN: one type's numbers in a range (only numbered invoices match)."""
        return self._page(
            and_(
                invoices.c.pdv_id == pdv_id,
                invoices.c.cbte_tipo == cbte_tipo,
                invoices.c.numero.between(desde, hasta),
                invoices.c.state.not_in(HIDDEN_STATES),
            ),
            pagina,
            limite,
        )

    def invoice_by_number(self, pdv_id: int, cbte_tipo: int, numero: int) -> InvoiceRow | None:
        """Consulta simple: one emitted comprobante by type and number."""
        with self.reading() as connection:
            row = connection.execute(
                select(invoices).where(
                    invoices.c.pdv_id == pdv_id,
                    invoices.c.cbte_tipo == cbte_tipo,
                    invoices.c.numero == numero,
                    invoices.c.state == EMITTED,
                )
            ).first()
        return InvoiceRow.from_row(row) if row else None

    def invoice(self, invoice_id: int) -> InvoiceRow:
        with self.reading() as connection:
            return InvoiceRow.from_row(connection.execute(select(invoices).where(invoices.c.id == invoice_id)).one())

    def queue_summary(self) -> list[dict]:
        """Counts per PDV and state (the dashboard)."""
        with self.reading() as connection:
            rows = connection.execute(
                select(pdvs.c.cuit, pdvs.c.punto_venta, invoices.c.state, func.count())
                .join(pdvs)
                .group_by(pdvs.c.cuit, pdvs.c.punto_venta, invoices.c.state)
                .order_by(pdvs.c.cuit, pdvs.c.punto_venta)
            ).all()
        return [dict(cuit=r[0], punto_venta=r[1], state=r[2], count=r[3]) for r in rows]


