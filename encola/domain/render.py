"""What intake stores for an accepted invoice, computed once so nothing is re-parsed later.

- :func:`afip_template`: the ``FECAEDetRequest`` fields that do not depend on the number or on
  the dates a queue operation may change (the engine adds CbteDesde/Hasta, CbteFch, FchVtoPago).
- :func:`consulta_view`: the invoice in the shape of TF's consultas (``08-…``), without the
  fields that change as the invoice moves through the queue (status, CAE, QR, number).
- :func:`accepted_response`: the immediate ``nuevo_encola`` answer (``00-…``).
"""

from __future__ import annotations

from decimal import Decimal

from encola.domain import tables as t
from encola.domain.fields import format_date, plain
from encola.domain.invoice import Invoice, Issuer
from encola.domain.totals import Totals


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _afip_date(value) -> str:
    return value.strftime("%Y%m%d")


def afip_template(invoice: Invoice, totals: Totals, issuer: Issuer) -> dict:
    cliente = invoice.cliente
    doc_tipo = t.DOCUMENTO_TIPOS[cliente.documento_tipo]
    doc_nro = int(cliente.documento_nro or 0)
    if doc_nro == 0:
        doc_tipo = t.DOCUMENTO_TIPOS["OTRO"]
    template: dict = {
        "CbteTipo": invoice.tipo.cbte_tipo,
        "PtoVta": issuer.punto_venta,
        "Concepto": invoice.concepto,
        "DocTipo": doc_tipo,
        "DocNro": doc_nro,
        "ImpTotal": _amount(totals.total),
        "ImpTotConc": _amount(totals.no_gravado),
        "ImpNeto": _amount(totals.neto_gravado),
        "ImpOpEx": _amount(totals.exento),
        "ImpIVA": _amount(totals.imp_iva),
        "ImpTrib": _amount(totals.imp_trib),
        "MonId": t.MONEDAS[invoice.moneda],
        "MonCotiz": str(invoice.cotizacion),
        "CondicionIVAReceptorId": t.CONDICIONES_IVA[cliente.condicion_iva_operacion],
        "Iva": [
            {"Id": g.afip_id, "BaseImp": _amount(g.base), "Importe": _amount(g.importe)} for g in totals.iva
        ],
        "Tributos": [
            {
                "Id": line.afip_id,
                "Desc": line.descripcion,
                "BaseImp": _amount(line.base),
                "Alic": _amount(line.alicuota),
                "Importe": _amount(line.importe),
            }
            for line in totals.tributos
        ],
        "CbtesAsoc": [
            {
                "Tipo": a.tipo.cbte_tipo,
                "PtoVta": a.punto_venta,
                "Nro": a.numero,
                "Cuit": a.cuit,
                **({"CbteFch": _afip_date(a.fecha)} if a.fecha else {}),
            }
            for a in invoice.asociados
        ],
        "Opcionales": [{"Id": o.id, "Valor": o.valor} for o in invoice.opcionales],
    }
    if invoice.periodo_asociado is not None:
        template["PeriodoAsoc"] = {
            "FchDesde": _afip_date(invoice.periodo_asociado.desde),
            "FchHasta": _afip_date(invoice.periodo_asociado.hasta),
        }
    if invoice.concepto != 1 and invoice.periodo_facturado is not None:
        template["FchServDesde"] = _afip_date(invoice.periodo_facturado.desde)
        template["FchServHasta"] = _afip_date(invoice.periodo_facturado.hasta)
    # FchVtoPago goes for services and for FCE facturas (AFIP requires it there).
    template["SendFchVtoPago"] = invoice.concepto != 1 or (invoice.tipo.fce and invoice.tipo.kind == t.Kind.FACTURA)
    if invoice.paga_misma_moneda:
        template["CanMisMonExt"] = invoice.paga_misma_moneda
    return template


def consulta_view(invoice: Invoice, totals: Totals) -> dict:
    cliente = invoice.cliente
    detalle = []
    for item, line in zip(invoice.items, totals.line_totals):
        gross = item.cantidad * item.precio_unitario
        detalle.append(
            {
                "cantidad": plain(item.cantidad),
                "producto": {
                    "descripcion": item.descripcion,
                    "precio_unitario": plain(item.precio_unitario),
                    "alicuota": plain(item.alicuota),
                    "bonificacion": plain(gross - line if item.bonificacion_porcentaje else Decimal("0")),
                    "impuestos_internos_alicuota": plain(item.impuestos_internos_alicuota),
                    "precio_total": plain(line),
                    "unidad_medida": item.unidad_medida,
                    "codigo": item.codigo,
                },
                "bonificacion_porcentaje": plain(item.bonificacion_porcentaje),
                "leyenda": item.leyenda,
            }
        )
    internos = next((line for line in totals.tributos if line.afip_id == 4), None)
    view = {
        "cliente": {
            "documento_tipo": cliente.documento_tipo,
            "documento_nro": cliente.documento_nro + " ",
            "razon_social": cliente.razon_social,
            "email": cliente.email,
            "domicilio": cliente.domicilio,
            "provincia": cliente.provincia,
            "condicion_iva": cliente.condicion_iva,
            "condicion_pago": cliente.condicion_pago,
        },
        "comprobante": {
            "fecha": format_date(invoice.fecha),
            "tipo": invoice.tipo.name,
            "moneda": invoice.moneda,
            "idioma": invoice.idioma,
            "cotizacion": plain(invoice.cotizacion),
            "operacion": "V",
            "punto_venta": invoice.punto_venta,
            "numero": 0,
            "periodo_facturado_desde": format_date(invoice.periodo_facturado.desde) if invoice.periodo_facturado else "",
            "periodo_facturado_hasta": format_date(invoice.periodo_facturado.hasta) if invoice.periodo_facturado else "",
            "rubro": invoice.rubro,
            "rubro_grupo_contable": invoice.rubro_grupo_contable,
            "detalle": detalle,
            "bonificacion": plain(invoice.bonificacion),
            "leyenda_gral": invoice.leyenda_gral or " ",
            "percepciones_iibb": plain(totals.tributos_of(7)),
            "percepciones_iva": plain(totals.tributos_of(6)),
            "tributos": [
                {
                    "tipo": tr.tipo,
                    "tipo_descripcion": t.TRIBUTO_TIPO_DESCRIPCION[tr.tipo],
                    "regimen": tr.regimen,
                    "base_imponible": plain(tr.base_imponible),
                    "alicuota": plain(tr.alicuota),
                    "total": plain(tr.total),
                }
                for tr in invoice.tributos
            ],
            "exentos": plain(totals.exento),
            "nogravados": plain(totals.no_gravado),
            "impuestos_internos": plain(internos.importe) if internos else 0,
            "impuestos_internos_base": plain(internos.base) if internos else 0,
            "impuestos_internos_alicuota": plain(internos.alicuota) if internos else 0,
            "total": plain(totals.total),
            "external_reference": invoice.external_reference,
            "tags": list(invoice.tags),
            **invoice.extra,
        },
    }
    return view


def comprobante_nro(punto_venta: int, numero: int | None) -> str:
    """TF's "00010-00000000" form; the number is zero while the invoice is queued."""
    return f"{punto_venta:05d}-{(numero or 0):08d}"


def accepted_response(invoice: Invoice) -> dict:
    return {
        "error": "N",
        "errores": [],
        "error_cod": [],
        "error_details": [],
        "external_reference": invoice.external_reference,
        "requiere_fec": "NO",
        "observaciones": "",
        "tfc_generacion_tipo": 6,
        "rta": "El comprobante  se ha guardado correctamente ",
        "cae": " ",
        "vencimiento_cae": "01/01/2000",
        "vencimiento_pago": format_date(invoice.vencimiento),
        "comprobante_nro": comprobante_nro(invoice.punto_venta, 0),
        "comprobante_tipo": invoice.tipo.name,
        "afip_codigo_barras": "",
        "afip_qr": "",
        # "N" while queued, as the hosted service answers; consultas say "S" once the mail went out.
        "envio_x_mail": "N",
        "envio_x_mail_direcciones": "",
        "micrositios": {"cliente": "", "descarga": ""},
        "comprobante_pdf_url": "",
    }
