"""AFIP's FECAESolicitar validations, as pure functions over a parsed detail.

A detail is a dict keyed by AFIP's own field names (see `wire.parse_detail`).
Every failing check yields an `Obs` (code, message); the detail is then
rejected. Messages follow AFIP's style (no accents); where no literal answer
has been observed, the manual's wording is used.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from encola.afip_sim import tables

Obs = tuple[int, str]
ZERO = Decimal("0")
CENT = Decimal("0.01")

MSG_SEQUENCE = (
    "El numero o fecha del comprobante no se corresponde con el proximo a autorizar. "
    "Consultar metodo FECompUltimoAutorizado."
)
_RANGE_PRODUCTOS = (
    "Campo CbteFch Debe estar comprendido  en el  rango  N-5 y N+5 siendo N la fecha de envio del pedido  "
    "de autorizacion para 1 - Productos"
)
_RANGE_SERVICIOS = (
    "Campo CbteFch Debe estar comprendido  en el  rango  N-10 y N+10 siendo N la fecha de envio del pedido  "
    "de autorizacion para {concepto}"
)
_CONCEPTOS = {2: "2 - Servicios", 3: "3 - Productos y Servicios"}


def header_errors(cant_reg: int, details: int, pto_vta: int, cbte_tipo: int, max_records: int,
                  *, point_of_sale: Obs | None = None) -> list[Obs]:
    """Errors of the FeCabReq that reject the whole request; `point_of_sale`: the registry's 10005, if any."""
    if not 1 <= cant_reg <= 9998:
        return [(10001, "Cantidad de registros de detalle del comprobante o lote de comprobantes de ingreso "
                        "<CantReg> debe estar comprendido entre 1 y 9998.")]
    if cant_reg != details:
        return [(10002, f"Campo CantReg debe ser igual a lo informado en detalle. Informado: {cant_reg}, Enviado:{details}")]
    limit = 1 if cbte_tipo in tables.FCE else max_records
    if details > limit:
        return [(10003, "La cantidad de registros en detalle debe ser menor igual al valor permitido. Consulte metodo "
                        "FECompTotXRequest para obtener cantidad maxima de registros por cada requerimiento. Para "
                        "comprobantes del tipo MiPyMEs (FCE), la cantidad habilitada es 1 comprobante por request")]
    if not 1 <= pto_vta <= 99998:
        return [(10004, "Campo <PtoVta> debe estar comprendido entre 1 y 99998.")]
    if point_of_sale is not None:
        return [point_of_sale]
    if cbte_tipo <= 0:
        return [(10006, "Campo CbteTipo debe ser un valor numerico mayor a 0.")]
    if cbte_tipo not in tables.VALID_CBTE_TIPOS:
        return [(10007, "Campo CbteTipo invalido. Consultar metodo FEParamGetTiposCbte.")]
    return []


def parse_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        return None


def close(a: Decimal, b: Decimal, items: int = 1) -> bool:
    """AFIP's tolerance: absolute error <= 0.01 x items, or relative error <= 0.01 %."""
    diff = abs(a - b)
    if diff <= CENT * max(items, 1):
        return True
    return b != 0 and diff / abs(b) <= Decimal("0.0001")


def check_detail(d: dict, cbte_tipo: int, emitter_cuit: int, today: date) -> list[Obs]:
    """Every exclusionary observation for one detail (empty: it may be authorized)."""
    klass = tables.cbte_class(cbte_tipo)
    obs: list[Obs] = []
    obs += _numbers(d, klass)
    obs += _document(d, klass, emitter_cuit)
    obs += _dates(d, cbte_tipo, today)
    obs += _amounts(d, klass)
    obs += _iva(d, cbte_tipo, klass)
    obs += _tributos(d)
    obs += _currency(d)
    obs += _condicion_iva(d, klass)
    return obs


def _numbers(d: dict, klass: str) -> list[Obs]:
    out = []
    if d["Concepto"] not in (1, 2, 3):
        out.append((10030, "El campo <Concepto> es obligatorio y debe corresponder con algun valor devuelto por el "
                           "metodo FEParamGetTiposConcepto 1 Productos 2 Servicios 3 Productos y Servicios"))
    desde, hasta = d["CbteDesde"], d["CbteHasta"]
    if not 1 <= desde <= 99999999:
        out.append((10008, "Campo <CbteDesde> se encuentre entre 1 y 99999999."))
    if not 1 <= hasta <= 99999999:
        out.append((10010, "Campo <CbteHasta> se encuentre entre 1 y 99999999."))
    if klass == "B" and hasta < desde:
        out.append((10011, "Campo <CbteHasta> sea mayor o igual a <CbteDesde> para comprobantes tipo B."))
    if klass != "B" and hasta != desde:
        out.append((10012, "Para comprobantes clase A, C, A con leyenda operacion sujeta a retencion, 49 - Bienes "
                           "Usados y comprobantes MiPyMEs (FCE) el campo CbteDesde debe ser igual al campo CbteHasta"))
    return out


def _document(d: dict, klass: str, emitter_cuit: int) -> list[Obs]:
    out = []
    doc_tipo, doc_nro = d["DocTipo"], d["DocNro"]
    if klass in ("A", "ALEY") and doc_tipo != 80:
        out.append((10013, "Para comprobantes clase A y A con leyenda operacion sujeta a retencion el campo DocTipo "
                           "debe tener valor 80 (CUIT)"))
    elif doc_tipo not in tables.VALID_DOC_TIPOS:
        out.append((10015, f"El campo DocTipo ({doc_tipo}) no es valido. Consultar metodo FEParamGetTiposDoc."))
    elif klass == "B" and doc_tipo == 99 and doc_nro != 0:
        out.append((10015, "Para comprobantes tipo B con DocTipo igual a 99, el campo DocNro debera ser cero (0)."))
    if doc_nro == emitter_cuit:
        out.append((10069, "El N° de documento del receptor del comprobante no puede ser igual al del emisor."))
    return out


def _dates(d: dict, cbte_tipo: int, today: date) -> list[Obs]:
    out = []
    concepto = d["Concepto"]
    fch = parse_date(d.get("CbteFch")) or today
    days = 5 if concepto == 1 else 10
    if not today - timedelta(days=days) <= fch <= today + timedelta(days=days):
        message = _RANGE_PRODUCTOS if concepto == 1 else _RANGE_SERVICIOS.format(concepto=_CONCEPTOS.get(concepto, concepto))
        out.append((10016, message))
    desde, hasta, vto = (d.get(k) for k in ("FchServDesde", "FchServHasta", "FchVtoPago"))
    if concepto in (2, 3) and not (desde and hasta and vto):
        out.append((10049, "Los campos <FchServDesde>, <FchServHasta>, <FchVtoPago>, es obligatorio cuando el campo "
                           "<Concepto> es igual a 2 o 3. Si se informa debera tener el siguiente formato yyyymmdd."))
    elif desde or hasta:
        if not desde:
            out.append((10031, "El campo <FchServDesde> es obligatorio si se informa <FchServHasta> y/o <FchVtoPago>."))
        if not hasta:
            out.append((10033, "El campo <FchServHasta> es obligatorio si se informa <FchServDesde> y/o <FchVtoPago>."))
        if not vto:
            out.append((10035, "El campo <FchVtoPago> es obligatorio si se informa <FchServDesde> y/o <FchServHasta>."))
    d_desde, d_hasta, d_vto = parse_date(desde), parse_date(hasta), parse_date(vto)
    for name, raw, parsed in (("FchServDesde", desde, d_desde), ("FchServHasta", hasta, d_hasta), ("FchVtoPago", vto, d_vto)):
        if raw and parsed is None:
            out.append((10049, f"El campo <{name}> debe tener el formato yyyymmdd."))
    if d_desde and d_hasta and d_desde > d_hasta:
        out.append((10032, "El campo <FchServDesde> no puede ser posterior al campo <FchServHasta>."))
    if d_vto and d_vto < fch:
        out.append((10036, "El campo <FchVtoPago> no puede ser anterior a la fecha del comprobante."))
    return out


def _amounts(d: dict, klass: str) -> list[Obs]:
    out = []
    total, conc, neto, opex, trib, iva = (d[k] for k in ("ImpTotal", "ImpTotConc", "ImpNeto", "ImpOpEx", "ImpTrib", "ImpIVA"))
    for code, name, value in ((10065, "ImpTotal", total), (10043, "ImpTotConc", conc), (10045, "ImpNeto", neto),
                              (10044, "ImpOpEx", opex), (10046, "ImpTrib", trib), (10047, "ImpIVA", iva)):
        if value < 0:
            out.append((code, f"El campo <{name}> no puede ser menor a cero (0)."))
    if klass == "C":
        for code, name, value in ((10043, "ImpTotConc", conc), (10044, "ImpOpEx", opex), (10047, "ImpIVA", iva)):
            if value != 0:
                out.append((code, f"Para comprobantes tipo C el campo <{name}> debe ser igual a cero (0)."))
        expected = neto + trib
        formula = "ImpNeto + ImpTrib"
    else:
        expected = conc + neto + opex + trib + iva
        formula = "ImpTotConc + ImpNeto + ImpOpEx + ImpTrib + ImpIVA"
    if not close(total, expected):
        out.append((10048, f"El campo 'Importe Total' ImpTotal, debe ser igual a la suma de {formula}."))
    return out


def _iva(d: dict, cbte_tipo: int, klass: str) -> list[Obs]:
    alics = d.get("Iva")
    if klass == "C":
        return [(10071, "Si el tipo de comprobante es C, el array de IVA no debe informarse.")] if alics else []
    out = []
    neto, imp_iva = d["ImpNeto"], d["ImpIVA"]
    if not alics:
        if neto > 0:
            out.append((10070, "Si el importe neto es mayor a cero, es obligatorio informar el array de iva."))
        elif imp_iva > 0:
            out.append((10018, "Si <ImpIVA> es mayor a 0 el objeto <IVA> y <AlicIva> son obligatorios."))
        return out
    ids = [a["Id"] for a in alics]
    if any(i not in tables.IVA_RATES for i in ids):
        out.append((10019, "El campo Id en AlicIVA debe ser un valor devuelto por el metodo FEParamGetTiposIva."))
    if len(set(ids)) != len(ids):
        out.append((10022, "El campo Id en AlicIVA no debe repetirse. Debera totalizarse por alicuota."))
    if imp_iva == 0 and any(i != 3 for i in ids):
        out.append((10018, "Si <ImpIVA> es igual a 0 los objetos <IVA> y <AlicIva> solo deben informarse con Id = 3 (iva 0)"))
    if not close(sum((a["Importe"] for a in alics), ZERO), imp_iva, len(alics)):
        out.append((10023, "La suma de los campos <importe> en <IVA> debe ser igual al valor ingresado en ImpIVA."))
    if cbte_tipo not in tables.NOTES:
        if not close(sum((a["BaseImp"] for a in alics), ZERO), neto, len(alics)):
            out.append((10061, "La suma de los campos <BaseImp> en <AlicIva> debe ser igual al valor ingresado en ImpNeto."))
        for a in alics:
            rate = tables.IVA_RATES.get(a["Id"])
            if rate is not None and not close(a["Importe"], a["BaseImp"] * rate):
                out.append((10051, "Los importes informados en AlicIVA se deben corresponder segun el tipo de iva seleccionado."))
                break
    return out


def _tributos(d: dict) -> list[Obs]:
    tributos = d.get("Tributos")
    imp_trib = d["ImpTrib"]
    if not tributos:
        if imp_trib > 0:
            return [(10024, "Si ImpTrib es mayor a 0 el objeto <Tributos> y <Tributo> son obligatorios.")]
        return []
    out = []
    if imp_trib == 0:
        out.append((10024, "Si ImpTrib es igual a cero el objeto <Tributos> y <Tributo> no deben enviarse."))
    if any(t["Id"] not in tables.VALID_TRIBUTOS for t in tributos):
        out.append((10025, "El campo <Id> en <Tributo> es obligatorio y debe ser alguno de los devueltos por el metodo FEParamGetTiposTributos"))
    if any(t["Id"] == 99 and not t.get("Desc") for t in tributos):
        out.append((10042, "El campo <Desc> en Tributo es obligatorio cuando se informe <Id> = 99."))
    if not close(sum((t["Importe"] for t in tributos), ZERO), imp_trib, len(tributos)):
        out.append((10029, "La suma de los importes en <Tributo> debe ser igual al valor ingresado en <ImpTrib>"))
    return out


def _currency(d: dict) -> list[Obs]:
    mon_id, cotiz = d.get("MonId"), d.get("MonCotiz")
    if mon_id not in tables.VALID_MONEDAS:
        return [(10037, "El campo <MonId> es obligatorio y debe corresponder a algun valor devuelto por el metodo FEParamGetTiposMonedas")]
    if mon_id == "PES" and cotiz != 1:
        return [(10039, "El campo <MonCotiz> es obligatorio , e igual a 1 cuando se trate de <MonId>=PES")]
    if mon_id != "PES" and d.get("CanMisMonExt") != "S" and (cotiz is None or cotiz <= 0):
        return [(10038, "El campo <MonCotiz> es obligatorio si no informa el campo CanMisMonExt = S, y de informarse debe ser mayor a 0.")]
    return []


def _condicion_iva(d: dict, klass: str) -> list[Obs]:
    condicion = d.get("CondicionIVAReceptorId")
    if condicion is None:
        return [(10246, "Campo Condicion Frente al IVA del receptor es obligatorio conforme a lo reglamentado por la "
                        "Resolucion General N° 5616.")]
    if condicion not in tables.CONDICION_CLASSES:
        return [(10242, "El campo Condicion IVA receptor no es un valor valido. Consular metodo FEParamGetCondicionIvaReceptor")]
    if klass not in tables.CONDICION_CLASSES[condicion]:
        return [(10243, f"El campo Condicion IVA receptor ({condicion}) no es valido para la clase de comprobante "
                        f"informado. Consultar metodo FEParamGetCondicionIvaReceptor")]
    return []
