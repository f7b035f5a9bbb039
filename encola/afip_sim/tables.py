"""AFIP's code tables as WSFEv1's FEParamGet* operations publish them (README §7).

Rows, descriptions, order and FchDesde are those AFIP's homologación answered in the recorded
conversations (reference/afip/recorded/wsfev1/test_main_parametros.yaml, July 2021), except where a
comment names a later change. Every row is (Id, Desc, FchDesde); FchHasta is always AFIP's "NULL".
"""

from __future__ import annotations

from decimal import Decimal

# FEParamGetTiposCbte, in AFIP's order. 51–54 were "M" until manual v4.1; AFIP renamed them
# "A con leyenda" (the 2026 sandbox answers so, README §7.1).
TIPOS_CBTE = [
    (1, "Factura A", "20100917"), (2, "Nota de Débito A", "20100917"), (3, "Nota de Crédito A", "20100917"),
    (6, "Factura B", "20100917"), (7, "Nota de Débito B", "20100917"), (8, "Nota de Crédito B", "20100917"),
    (4, "Recibos A", "20100917"), (5, "Notas de Venta al contado A", "20100917"),
    (9, "Recibos B", "20100917"), (10, "Notas de Venta al contado B", "20100917"),
    (63, "Liquidacion A", "20100917"), (64, "Liquidacion B", "20100917"),
    (34, "Cbtes. A del Anexo I, Apartado A,inc.f),R.G.Nro. 1415", "20100917"),
    (35, "Cbtes. B del Anexo I,Apartado A,inc. f),R.G. Nro. 1415", "20100917"),
    (39, "Otros comprobantes A que cumplan con R.G.Nro. 1415", "20100917"),
    (40, "Otros comprobantes B que cumplan con R.G.Nro. 1415", "20100917"),
    (60, "Cta de Vta y Liquido prod. A", "20100917"), (61, "Cta de Vta y Liquido prod. B", "20100917"),
    (11, "Factura C", "20110330"), (12, "Nota de Débito C", "20110330"), (13, "Nota de Crédito C", "20110330"),
    (15, "Recibo C", "20110330"), (49, "Comprobante de Compra de Bienes Usados a Consumidor Final", "20130401"),
    (51, "Factura A con leyenda Operación sujeta a retención", "20150522"),
    (52, "Nota de Débito A con leyenda Operación sujeta a retención", "20150522"),
    (53, "Nota de Crédito A con leyenda Operación sujeta a retención", "20150522"),
    (54, "Recibo A con leyenda Operación sujeta a retención", "20150522"),
    (201, "Factura de Crédito electrónica MiPyMEs (FCE) A", "20181226"),
    (202, "Nota de Débito electrónica MiPyMEs (FCE) A", "20181226"),
    (203, "Nota de Crédito electrónica MiPyMEs (FCE) A", "20181226"),
    (206, "Factura de Crédito electrónica MiPyMEs (FCE) B", "20181226"),
    (207, "Nota de Débito electrónica MiPyMEs (FCE) B", "20181226"),
    (208, "Nota de Crédito electrónica MiPyMEs (FCE) B", "20181226"),
    (211, "Factura de Crédito electrónica MiPyMEs (FCE) C", "20181226"),
    (212, "Nota de Débito electrónica MiPyMEs (FCE) C", "20181226"),
    (213, "Nota de Crédito electrónica MiPyMEs (FCE) C", "20181226"),
]
CLASS_A = {1, 2, 3, 4, 5, 34, 39, 60, 63, 201, 202, 203}
CLASS_B = {6, 7, 8, 9, 10, 35, 40, 61, 64, 206, 207, 208}
CLASS_C = {11, 12, 13, 15, 211, 212, 213}
CLASS_ALEY = {51, 52, 53, 54}
CLASS_49 = {49}
FCE = {201, 202, 203, 206, 207, 208, 211, 212, 213}
VALID_CBTE_TIPOS = CLASS_A | CLASS_B | CLASS_C | CLASS_ALEY | CLASS_49
NOTES = {2, 3, 7, 8, 52, 53}  # debit/credit notes: some IVA checks do not apply


def cbte_class(cbte_tipo: int) -> str:
    """"A", "B", "C", "ALEY" or "49"."""
    if cbte_tipo in CLASS_A:
        return "A"
    if cbte_tipo in CLASS_B:
        return "B"
    if cbte_tipo in CLASS_C:
        return "C"
    if cbte_tipo in CLASS_ALEY:
        return "ALEY"
    return "49"


# FEParamGetTiposDoc: 0–24 are the provincial identity cards, named after their province.
TIPOS_DOC = [
    (80, "CUIT", "20080725"), (86, "CUIL", "20080725"), (87, "CDI", "20080725"), (89, "LE", "20080725"),
    (90, "LC", "20080725"), (91, "CI Extranjera", "20080725"), (92, "en trámite", "20080725"),
    (93, "Acta Nacimiento", "20080725"), (95, "CI Bs. As. RNP", "20080725"), (96, "DNI", "20080725"),
    (94, "Pasaporte", "20080725"), (0, "CI Policía Federal", "20080725"), (1, "CI Buenos Aires", "20080725"),
    (2, "CI Catamarca", "20080725"), (3, "CI Córdoba", "20080725"), (4, "CI Corrientes", "20080728"),
    (5, "CI Entre Ríos", "20080728"), (6, "CI Jujuy", "20080728"), (7, "CI Mendoza", "20080728"),
    (8, "CI La Rioja", "20080728"), (9, "CI Salta", "20080728"), (10, "CI San Juan", "20080728"),
    (11, "CI San Luis", "20080728"), (12, "CI Santa Fe", "20080728"), (13, "CI Santiago del Estero", "20080728"),
    (14, "CI Tucumán", "20080728"), (16, "CI Chaco", "20080728"), (17, "CI Chubut", "20080728"),
    (18, "CI Formosa", "20080728"), (19, "CI Misiones", "20080728"), (20, "CI Neuquén", "20080728"),
    (21, "CI La Pampa", "20080728"), (22, "CI Río Negro", "20080728"), (23, "CI Santa Cruz", "20080728"),
    (24, "CI Tierra del Fuego", "20080728"), (99, "Doc. (Otro)", "20080728"),
]
# The manual also accepts 30 (Certificado de Migración), 31 (Fondo Común de Inversiones CNV, manual v4.5)
# and 88 (Usado por Anses para Padrón), which FEParamGetTiposDoc does not list: AFIP approved a
# DocTipo 30 in a recorded conversation (test_main_prueba_usados).
VALID_DOC_TIPOS = {d for d, _, _ in TIPOS_DOC} | {30, 31, 88}

# FEParamGetTiposIva: (Id as AFIP writes it, Desc, FchDesde); rates apart for the arithmetic rules.
TIPOS_IVA = [
    ("3", "0%", "20090220"), ("4", "10.5%", "20090220"), ("5", "21%", "20090220"), ("6", "27%", "20090220"),
    ("8", "5%", "20141020"), ("9", "2.5%", "20141020"),
]
IVA_RATES = {3: Decimal("0"), 4: Decimal("0.105"), 5: Decimal("0.21"), 6: Decimal("0.27"),
             8: Decimal("0.05"), 9: Decimal("0.025")}

TIPOS_CONCEPTO = [(1, "Producto", "20100917"), (2, "Servicios", "20100917"), (3, "Productos y Servicios", "20100917")]

TIPOS_TRIBUTO = [
    (1, "Impuestos nacionales", "20100917"), (2, "Impuestos provinciales", "20100917"),
    (3, "Impuestos municipales", "20100917"), (4, "Impuestos Internos", "20100917"), (99, "Otro", "20100917"),
    (5, "IIBB", "20170719"), (6, "Percepción de IVA", "20170719"), (7, "Percepción de IIBB", "20170719"),
    (8, "Percepciones por Impuestos Municipales", "20170719"), (9, "Otras Percepciones", "20170719"),
    (13, "Percepción de IVA a no Categorizado", "20170719"),
]
VALID_TRIBUTOS = {t for t, _, _ in TIPOS_TRIBUTO}

# FEParamGetTiposMonedas: AFIP's 50 currencies in AFIP's order.
MONEDAS = [
    ("PES", "Pesos Argentinos", "20090403"), ("DOL", "Dólar Estadounidense", "20090403"),
    ("002", "Dólar Libre EEUU", "20090416"), ("007", "Florines Holandeses", "20090403"),
    ("010", "Pesos Mejicanos", "20090403"), ("011", "Pesos Uruguayos", "20090403"),
    ("014", "Coronas Danesas", "20090403"), ("015", "Coronas Noruegas", "20090403"),
    ("016", "Coronas Suecas", "20090403"), ("018", "Dólar Canadiense", "20090403"),
    ("019", "Yens", "20090403"), ("021", "Libra Esterlina", "20090403"),
    ("023", "Bolívar Venezolano", "20090403"), ("024", "Corona Checa", "20090403"),
    ("025", "Dinar Yugoslavo", "20090403"), ("026", "Dólar Australiano", "20090403"),
    ("027", "Dracma Griego", "20090403"), ("028", "Florín (Antillas Holandesas)", "20090403"),
    ("029", "Güaraní", "20090403"), ("031", "Peso Boliviano", "20090403"),
    ("032", "Peso Colombiano", "20090403"), ("033", "Peso Chileno", "20090403"),
    ("034", "Rand Sudafricano", "20090403"), ("036", "Sucre Ecuatoriano", "20090403"),
    ("051", "Dólar de Hong Kong", "20090403"), ("052", "Dólar de Singapur", "20090403"),
    ("053", "Dólar de Jamaica", "20090403"), ("054", "Dólar de Taiwan", "20090403"),
    ("055", "Quetzal Guatemalteco", "20090403"), ("056", "Forint (Hungría)", "20090403"),
    ("057", "Baht (Tailandia)", "20090403"), ("059", "Dinar Kuwaiti", "20090403"),
    ("012", "Real", "20090403"), ("030", "Shekel (Israel)", "20090403"),
    ("035", "Nuevo Sol Peruano", "20090403"), ("060", "Euro", "20090403"),
    ("040", "Lei Rumano", "20090415"), ("042", "Peso Dominicano", "20090415"),
    ("043", "Balboas Panameñas", "20090415"), ("044", "Córdoba Nicaragüense", "20090415"),
    ("045", "Dirham Marroquí", "20090415"), ("046", "Libra Egipcia", "20090415"),
    ("047", "Riyal Saudita", "20090415"), ("061", "Zloty Polaco", "20090415"),
    ("062", "Rupia Hindú", "20090415"), ("063", "Lempira Hondureña", "20090415"),
    ("064", "Yuan (Rep. Pop. China)", "20090415"), ("009", "Franco Suizo", "20091110"),
    ("041", "Derechos Especiales de Giro", "20100125"), ("049", "Gramos de Oro Fino", "20100125"),
]
VALID_MONEDAS = {m for m, _, _ in MONEDAS}

# FEParamGetTiposOpcional: Id is a string on the wire.
TIPOS_OPCIONAL = [
    ("2", "RG Empresas Promovidas - Indentificador de proyecto vinculado a Régimen de Promoción Industrial", "20100917"),
    ("91", "RG Bienes Usados 3411 - Nombre y Apellido o Denominación del vendedor del bien usado.", "20130401"),
    ("92", "RG Bienes Usados 3411 - Nacionalidad del vendedor del bien usado.", "20130401"),
    ("93", "RG Bienes Usados 3411 - Domicilio del vendedor del bien usado.", "20130401"),
    ("5", "Excepcion computo IVA Credito Fiscal", "20141016"),
    ("61", "RG 3668 Impuesto al Valor Agregado - Art.12 IVA Firmante Doc Tipo", "20141016"),
    ("62", "RG 3668 Impuesto al Valor Agregado - Art.12 IVA Firmante Doc Nro", "20141016"),
    ("7", "RG 3668 Impuesto al Valor Agregado - Art.12 IVA Carácter del Firmante", "20141016"),
    ("10", "RG 3.368 Establecimientos de educación pública de gestión privada - Actividad Comprendida", "20150605"),
    ("1011", "RG 3.368 Establecimientos de educación pública de gestión privada - Tipo de Documento", "20150605"),
    ("1012", "RG 3.368 Establecimientos de educación pública de gestión privada - Número de Documento", "20150605"),
    ("11", "RG 2.820 Operaciones económicas vinculadas con bienes inmuebles - Actividad Comprendida", "20150605"),
    ("12", "RG 3.687 Locación temporaria de inmuebles con fines turísticos - Actividad Comprendida", "20150605"),
    ("13", "RG 2.863 Representantes de Modelos", "20160101"),
    ("14", "RG 2.863 Agencias de publicidad", "20160101"),
    ("15", "RG 2.863 Personas físicas que desarrollen actividad de modelaje", "20160101"),
    ("17", "RG 4004-E Locación de inmuebles destino 'casa-habitación'. Dato 2 (dos) = facturación directa / "
           "Dato 1 (uno) = facturación a través de intermediario", "20170309"),
    ("1801", "RG 4004-E Locación de inmuebles destino 'casa-habitación'. Clave Única de Identificación Tributaria (CUIT).",
     "20170309"),
    ("1802", "RG 4004-E Locación de inmuebles destino 'casa-habitación'. Apellido y nombres, denominación y/o razón social.",
     "20170309"),
    ("2101", "Factura de Crédito Electrónica MiPyMEs (FCE) - CBU del Emisor", "20181226"),
    ("2102", "Factura de Crédito Electrónica MiPyMEs (FCE) - Alias del Emisor", "20181226"),
    ("22", "Factura de Crédito Electrónica MiPyMEs (FCE) - Anulación", "20181226"),
    ("23", "Factura de Crédito Electrónica MiPyMEs (FCE) - Referencia Comercial", "20190308"),
    ("27", "Factura de Credito Electronica MiPyMEs (FCE) - Transferencia", "20201126"),
]
VALID_OPCIONALES = {o for o, _, _ in TIPOS_OPCIONAL}

# FEParamGetTiposPaises (Id short, Desc; no dates on the wire). AFIP's country codes (the ones
# WSFEX also uses). No recorded answer exists, so this is a selection: the Americas, the main
# trading partners and "otros"; the full list is AFIP's to publish. Documented in docs/afip.md.
PAISES = [
    (200, "ARGENTINA"), (202, "BOLIVIA"), (203, "BRASIL"), (204, "CANADA"), (205, "COLOMBIA"), (206, "COSTA RICA"),
    (207, "CUBA"), (208, "CHILE"), (210, "ECUADOR"), (211, "EL SALVADOR"), (212, "ESTADOS UNIDOS"),
    (213, "GUATEMALA"), (215, "HAITI"), (216, "HONDURAS"), (217, "JAMAICA"), (218, "MEXICO"), (219, "NICARAGUA"),
    (220, "PANAMA"), (221, "PARAGUAY"), (222, "PERU"), (223, "PUERTO RICO"), (225, "URUGUAY"),
    (226, "VENEZUELA"), (310, "CHINA"), (320, "JAPON"), (410, "ESPAÑA"), (412, "FRANCIA"), (417, "ITALIA"),
    (426, "REINO UNIDO"), (438, "ALEMANIA"),
]

# FEParamGetActividades (RG 5259): a represented CUIT's activities from AFIP's registry (Id = the
# NAES code, Orden = 1 for the main one). The simulator has no registry: every CUIT answers these.
ACTIVIDADES = [
    (620100, 1, "SERVICIOS DE CONSULTORES EN INFORMÁTICA Y SUMINISTROS DE PROGRAMAS DE INFORMÁTICA"),
    (474010, 2, "VENTA AL POR MENOR DE EQUIPOS, PERIFÉRICOS, ACCESORIOS Y PROGRAMAS DE INFORMÁTICA"),
    (702099, 3, "SERVICIOS DE ASESORAMIENTO, DIRECCIÓN Y GESTIÓN EMPRESARIAL N.C.P."),
]

# FEParamGetCotizacion: the simulator's official rates (pesos per unit), fixed so that runs are
# reproducible. Of today's order (late 2025), not the recorded 2021 ones (DOL 101.202): 10119 refuses
# a MonCotiz outside 2 %-400 % of these, and today's clients send today's dollar (TF's docs: 1234.55).
COTIZACIONES = {
    "PES": Decimal("1"), "DOL": Decimal("1450"), "002": Decimal("1450"), "060": Decimal("1680.25"),
    "012": Decimal("270.4"), "021": Decimal("1905.6"), "019": Decimal("9.42"), "018": Decimal("1032.7"),
    "009": Decimal("1801.3"), "033": Decimal("1.52"), "011": Decimal("36.25"), "029": Decimal("0.205"),
    "064": Decimal("203.8"),
}

# id, description, classes it may be used with (README §7.6)
CONDICIONES_IVA = [
    (1, "IVA Responsable Inscripto", ("A", "ALEY", "C")),
    (4, "IVA Sujeto Exento", ("B", "C")),
    (5, "Consumidor Final", ("B", "C", "49")),
    (6, "Responsable Monotributo", ("A", "ALEY", "C")),
    (7, "Sujeto No Categorizado", ("B", "C")),
    (8, "Proveedor del Exterior", ("B", "C")),
    (9, "Cliente del Exterior", ("B", "C")),
    (10, "IVA Liberado – Ley N° 19.640", ("B", "C")),
    (13, "Monotributista Social", ("A", "ALEY", "C")),
    (15, "IVA No Alcanzado", ("B", "C")),
    (16, "Monotributo Trabajador Independiente Promovido", ("A", "ALEY", "C")),
]
CONDICION_CLASSES = {i: set(classes) for i, _, classes in CONDICIONES_IVA}
