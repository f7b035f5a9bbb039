"""From a stored invoice (its AFIP template, number and current dates) to a ``CaeDetail``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from encola.afip import AlicIva, CaeDetail, CbteAsoc, Opcional, PeriodoAsoc, StoredComprobante, Tributo
from encola.store.store import InvoiceRow


def _date(text: str | None) -> date | None:
    return datetime.strptime(text, "%Y%m%d").date() if text else None


def cae_detail(row: InvoiceRow, numero: int) -> CaeDetail:
    t = row.afip
    periodo = t.get("PeriodoAsoc")
    return CaeDetail(
        concepto=t["Concepto"],
        doc_tipo=t["DocTipo"],
        doc_nro=t["DocNro"],
        cbte_desde=numero,
        cbte_hasta=numero,
        cbte_fch=row.fecha,
        imp_total=Decimal(t["ImpTotal"]),
        imp_tot_conc=Decimal(t["ImpTotConc"]),
        imp_neto=Decimal(t["ImpNeto"]),
        imp_op_ex=Decimal(t["ImpOpEx"]),
        imp_trib=Decimal(t["ImpTrib"]),
        imp_iva=Decimal(t["ImpIVA"]),
        fch_serv_desde=_date(t.get("FchServDesde")),
        fch_serv_hasta=_date(t.get("FchServHasta")),
        fch_vto_pago=row.vencimiento if t.get("SendFchVtoPago") else None,
        mon_id=t["MonId"],
        mon_cotiz=Decimal(t["MonCotiz"]),
        can_mis_mon_ext=t.get("CanMisMonExt"),
        condicion_iva_receptor_id=t.get("CondicionIVAReceptorId"),
        cbtes_asoc=tuple(
            CbteAsoc(a["Tipo"], a["PtoVta"], a["Nro"], a.get("Cuit"), _date(a.get("CbteFch"))) for a in t["CbtesAsoc"]
        ),
        tributos=tuple(
            Tributo(x["Id"], Decimal(x["BaseImp"]), Decimal(x["Alic"]), Decimal(x["Importe"]), x.get("Desc"))
            for x in t["Tributos"]
        ),
        iva=tuple(AlicIva(x["Id"], Decimal(x["BaseImp"]), Decimal(x["Importe"])) for x in t["Iva"]),
        opcionales=tuple(Opcional(str(o["Id"]), o["Valor"]) for o in t["Opcionales"]),
        periodo_asoc=PeriodoAsoc(_date(periodo["FchDesde"]), _date(periodo["FchHasta"])) if periodo else None,
    )


def same_comprobante(sent: CaeDetail, stored: StoredComprobante) -> bool:
    """Whether AFIP's record under our number is the invoice we sent (reconciliation).

    Compares what identifies a comprobante to AFIP and the client: date, buyer and amounts. If
    anything differs, that number was used by someone else, and ours was never authorized.
    """
    return (
        stored.resultado in (None, "A")
        and stored.cbte_fch == sent.cbte_fch
        and stored.doc_tipo == sent.doc_tipo
        and int(stored.doc_nro) == int(sent.doc_nro)
        and stored.concepto == sent.concepto
        and Decimal(stored.imp_total) == sent.imp_total
        and Decimal(stored.imp_neto) == sent.imp_neto
        and Decimal(stored.imp_iva) == sent.imp_iva
        and (stored.mon_id or "PES") == sent.mon_id
    )
