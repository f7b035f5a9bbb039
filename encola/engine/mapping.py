"""From a stored invoice (its AFIP template, number and current dates) to a ``CaeDetail``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from encola.afip import (
    Actividad, AlicIva, CaeDetail, CbteAsoc, Comprador, Opcional, PeriodoAsoc, StoredComprobante, Tributo,
)
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
        compradores=tuple(
            Comprador(int(c["DocTipo"]), int(c["DocNro"]), Decimal(str(c["Porcentaje"]))) for c in t.get("Compradores", ())
        ),
        actividades=tuple(Actividad(int(a["Id"])) for a in t.get("Actividades", ())),
    )


def same_comprobante(sent: CaeDetail, stored: StoredComprobante) -> bool:
    """Whether AFIP's record under our number is the invoice we sent (reconciliation).

    Every field FECompConsultar returns that encola sent is compared (see ``differences``): if
    anything differs, that number was used by someone else, and ours was never authorized.
    """
    return stored.resultado in (None, "A") and not differences(sent, stored)


def differences(sent: CaeDetail, stored: StoredComprobante) -> list[str]:
    """The names of the fields where AFIP's record differs from what we sent.

    A field AFIP leaves out of its answer is not held against the record (AFIP omits empty
    arrays and optional values); one it returns must equal ours. Amounts compare as decimals,
    arrays as multisets (AFIP does not promise their order).
    """
    out = []

    def check(name: str, ours, theirs) -> None:
        if theirs is not None and ours != theirs:
            out.append(name)

    for name in ("cbte_fch", "concepto", "doc_tipo", "cbte_desde", "cbte_hasta", "fch_serv_desde", "fch_serv_hasta",
                 "fch_vto_pago", "condicion_iva_receptor_id"):
        check(name, getattr(sent, name), getattr(stored, name))
    check("doc_nro", int(sent.doc_nro), int(stored.doc_nro))
    for name in ("imp_total", "imp_tot_conc", "imp_neto", "imp_op_ex", "imp_trib", "imp_iva"):
        check(name, _money(getattr(sent, name)), _money(getattr(stored, name)))
    check("mon_id", sent.mon_id, stored.mon_id)
    check("mon_cotiz", Decimal(sent.mon_cotiz), None if stored.mon_cotiz is None else Decimal(stored.mon_cotiz))
    # Not sent and "N" mean the same to AFIP (RG 5616: only S changes anything).
    check("can_mis_mon_ext", sent.can_mis_mon_ext or "N", stored.can_mis_mon_ext)
    check("periodo_asoc", sent.periodo_asoc, stored.periodo_asoc)
    arrays = {
        "cbtes_asoc": lambda a: (a.tipo, a.pto_vta, a.nro, _cuit(a.cuit), a.cbte_fch),
        "tributos": lambda t: (int(t.id), _money(t.base_imp), _money(t.alic), _money(t.importe)),
        "iva": lambda a: (int(a.id), _money(a.base_imp), _money(a.importe)),
        "opcionales": lambda o: (str(o.id), o.valor),
        "compradores": lambda c: (c.doc_tipo, int(c.doc_nro), _money(c.porcentaje)),
        "actividades": lambda a: int(a.id),
    }
    for name, key in arrays.items():
        theirs = getattr(stored, name)
        if theirs:
            check(name, sorted(map(key, getattr(sent, name)), key=repr), sorted(map(key, theirs), key=repr))
    return out


def _money(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


def _cuit(value) -> int | None:
    return int(value) if value not in (None, "") and str(value).isdigit() else None
