"""The TFC error catalog: every rule's stable code and Spanish message.

Validation never raises for bad input: it returns a list of :class:`Error`, so one answer
reports everything at once (the TF envelope's ``errores`` / ``error_details``). Where the
TusFacturas docs show a code and text for a case (TFC-8002, TFC-8004, TFC-6001), the text
is theirs, byte for byte; the rest are encola's and listed in ``docs/errores.md``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Error:
    code: str
    text: str


MESSAGES: dict[str, str] = {
    # The request as a whole
    "TFC-1001": "El request enviado no es un JSON valido: {detalle}.",
    "TFC-1002": "El request enviado debe ser un objeto JSON.",
    "TFC-1003": "El request enviado no esta codificado en UTF-8.",
    "TFC-1004": "El request enviado supera el tamaño maximo permitido de {limite} bytes.",
    "TFC-1005": "Las credenciales de acceso (usertoken, apikey, apitoken) no son validas.",
    "TFC-1006": "Debe enviar sus credenciales de acceso: usertoken, apikey y apitoken.",
    "TFC-1007": "El punto de venta asociado a sus credenciales no se encuentra activo.",
    "TFC-1008": "La suscripcion de su espacio de trabajo no se encuentra vigente y activa.",
    "TFC-1009": "Su espacio de trabajo no posee cupo de facturacion disponible ({usados} de {cupo} comprobantes en el mes).",
    "TFC-1010": "El metodo solicitado ({ruta}) no existe.",
    "TFC-1011": "El metodo {ruta} solo acepta requests POST.",
    "TFC-1012": "Su CUIT + PDV no posee una direccion de webhook definida. Los comprobantes no se pueden enviar a la cola de procesamiento.",
    "TFC-1013": "Debe enviar el bloque {bloque} como un objeto JSON.",
    "TFC-1014": "El servicio no se encuentra disponible en este momento. Intente nuevamente en unos segundos.",
    "TFC-1015": "Se excedio el tiempo de espera para leer el request.",
    "TFC-1016": "El request enviado contiene un caracter no permitido (NUL, sustituto UTF-16 sin par o no-caracter Unicode) en {campo}.",
    "TFC-1017": "El request no se recibio completo dentro de los {segundos} segundos permitidos.",
    "TFC-1018": "Se excedio el limite de solicitudes permitido ({limite}). Intente nuevamente en {segundos} segundos.",
    "TFC-1019": "Demasiados intentos de autenticacion fallidos desde su direccion. Intente nuevamente en {segundos} segundos.",
    # The comprobante block
    "TFC-2001": "El campo fecha es requerido y debe tener el formato dd/mm/aaaa.",
    "TFC-2002": "El campo tipo es requerido.",
    "TFC-2003": "El tipo de comprobante enviado ({tipo}) no es valido.",
    "TFC-2004": "No se pueden enviar comprobantes de tipo {tipo} a la cola de procesamiento.",
    "TFC-2005": "El campo operacion debe ser V: la cola de procesamiento solo admite comprobantes de venta.",
    "TFC-2006": "El campo idioma debe ser 1 (Español) o 2 (Ingles).",
    "TFC-2007": "El punto de venta enviado ({enviado}) no corresponde al de sus credenciales ({esperado}).",
    "TFC-2035": "El campo punto_venta es requerido y debe ser un numero entero de hasta 5 digitos.",
    "TFC-2008": "La moneda enviada ({moneda}) no es valida.",
    "TFC-2009": "El campo cotizacion es requerido para monedas distintas al peso argentino y debe ser un numero mayor a cero.",
    "TFC-2010": "Los comprobantes enviados a la cola de procesamiento deben tener el campo numero en cero (0).",
    "TFC-2011": "El campo {campo} debe tener el formato dd/mm/aaaa.",
    "TFC-2012": "Los campos periodo_facturado_desde y periodo_facturado_hasta son requeridos al facturar servicios.",
    "TFC-2013": "El campo {campo} es requerido (maximo 255 caracteres).",
    "TFC-2015": "Debe enviar al menos un concepto en el bloque detalle.",
    "TFC-2016": "El maximo de conceptos permitidos por comprobante es de 130. Se enviaron {cantidad}.",
    "TFC-2017": "Puede enviar hasta 50 tags por comprobante, cada uno de hasta 255 caracteres.",
    "TFC-2018": "La fecha del comprobante ({fecha}) es anterior a la permitida por AFIP para este concepto ({minima}).",
    "TFC-2019": "La fecha de vencimiento del pago ({vencimiento}) no puede ser anterior a la fecha del comprobante ({fecha}).",
    "TFC-2020": "Los campos abono_frecuencia (de 1 a 120 meses), abono_hasta (mm/aaaa) y abono_actualiza_precios (S o N) son requeridos para un abono.",
    "TFC-2021": "El periodo facturado es invalido: la fecha desde ({desde}) es posterior a la fecha hasta ({hasta}).",
    "TFC-2022": "Las notas de credito y debito requieren comprobantes_asociados o comprobantes_asociados_periodo.",
    "TFC-2023": "El comprobante asociado en la posicion {posicion} es invalido: {detalle}.",
    "TFC-2024": "El bloque comprobantes_asociados_periodo requiere fecha_desde y fecha_hasta (dd/mm/aaaa), desde anterior o igual a hasta.",
    "TFC-2025": "El campo total es requerido y debe ser un numero con hasta 2 decimales.",
    "TFC-2026": "El total enviado ({enviado}) no coincide con las sumatorias finales ({esperado}) del detalle, los impuestos, tributos y bonificaciones.",
    "TFC-2027": "El campo {campo} debe ser un numero mayor o igual a cero.",
    "TFC-2028": "El tributo en la posicion {posicion} es invalido: {detalle}.",
    "TFC-2029": "El bloque rg_especiales es invalido: {detalle}.",
    "TFC-2030": "El bloque pagos es invalido: {detalle}.",
    "TFC-2031": "El bloque datos_informativos es invalido: {detalle}.",
    "TFC-2032": "Un emisor con condicion de IVA {condicion} no puede emitir comprobantes de tipo {letra}.",
    "TFC-2034": "Puede enviar hasta 7 tributos por comprobante.",
    "TFC-2036": "El importe {campo} ({importe}) supera el maximo que admite AFIP: 13 digitos enteros.",
    "TFC-2037": "El campo {campo} admite hasta {maximo} caracteres (se enviaron {largo}).",
    "TFC-2038": "La cotizacion enviada ({cotizacion}) no es valida para la moneda {moneda}: AFIP rechaza una cotizacion inferior al 2% de la oficial.",
    # The cliente block
    "TFC-3001": "El tipo de documento enviado no es valido.",
    "TFC-3002": "El numero de documento enviado no es valido: {detalle}.",
    "TFC-3003": "El campo razon_social del cliente es requerido (maximo 255 caracteres).",
    "TFC-3004": "El campo domicilio del cliente es requerido (maximo 255 caracteres).",
    "TFC-3005": "La provincia del cliente no es valida.",
    "TFC-3006": "El campo envia_por_mail del cliente debe ser S o N.",
    "TFC-3007": "La condicion de pago del cliente no es valida.",
    "TFC-3008": "Si la condicion de pago es Otra (214) debe enviar condicion_pago_otra (maximo 100 caracteres).",
    "TFC-3009": "La condicion de IVA del cliente no es valida.",
    "TFC-3010": "El email del cliente no es valido (hasta 15 direcciones separadas por coma).",
    "TFC-3011": "El campo codigo del cliente admite hasta 20 caracteres.",
    "TFC-3012": "El campo {campo} del cliente debe ser S o N.",
    "TFC-3013": "La condicion de IVA de la operacion (condicion_iva_operacion) no es valida.",
    "TFC-3014": "Los comprobantes de tipo {letra} requieren un cliente identificado con CUIT.",
    "TFC-3015": "El campo {campo} del cliente debe ser un numero entero mayor o igual a cero.",
    "TFC-3016": "Un comprobante B por {total} pesos requiere identificar al cliente (documento_tipo distinto de OTRO): AFIP lo exige desde {limite} pesos (RG 5700).",
    # The detalle block
    "TFC-4001": "El concepto {posicion} del detalle debe ser un objeto JSON.",
    "TFC-4002": "El concepto {posicion} del detalle debe tener una cantidad mayor a cero.",
    "TFC-4003": "El concepto {posicion} del detalle debe incluir el bloque producto.",
    "TFC-4004": "El concepto {posicion} del detalle debe tener una descripcion de hasta 255 caracteres.",
    "TFC-4005": "El concepto {posicion} del detalle debe tener un precio_unitario_sin_iva numerico.",
    "TFC-4006": "La alicuota de IVA del concepto {posicion} no es valida ({alicuota}). Valores permitidos: 27, 21, 10.5, 5, 2.5, 0, -1, -2.",
    "TFC-4007": "Los comprobantes de tipo C no llevan IVA: la alicuota del concepto {posicion} debe ser 0.",
    "TFC-4008": "La unidad de medida del concepto {posicion} no es valida.",
    "TFC-4009": "La bonificacion_porcentaje del concepto {posicion} debe estar entre 0 y 100.",
    "TFC-4010": "La unidad_bulto del concepto {posicion} debe ser un numero entero mayor o igual a 1.",
    "TFC-4011": "La leyenda del concepto {posicion} admite hasta 1000 caracteres.",
    "TFC-4012": "El campo {campo} del concepto {posicion} debe ser S o N.",
    "TFC-4013": "El concepto {posicion} percibe RG5329: debe enviar actualiza_precio en S.",
    "TFC-4014": "El codigo del producto del concepto {posicion} admite hasta 20 caracteres.",
    "TFC-4015": "La impuestos_internos_alicuota del concepto {posicion} debe ser un numero mayor o igual a cero.",
    # Documented by TusFacturas
    "TFC-6001": "Error al crear al cliente . No se podra generar el comprobante. Revise los datos enviados.",
    "TFC-8002": "La external reference enviada, posee caracteres no validos.",
    "TFC-8002-faltante": "Cuando se envia un comprobante a la cola, debes enviar una referencia externa en el campo external_reference.",
    "TFC-8004": "Para la condicion de IVA seleccionada no se permite realizar comprobantes de tipo {letra}.",
    # encola's own queue rules
    "TFC-8010": "Ya existe un comprobante con la external_reference {external_reference} en la cola ({estado}). Eliminelo o envie otra referencia.",
    # Instant emission (facturacion/nuevo)
    "TFC-8011": "El punto de venta posee comprobantes en la cola de procesamiento: no se pueden emitir comprobantes instantaneos hasta que se procesen. Envie este comprobante a la cola (nuevo_encola).",
    "TFC-8012": "La fecha del comprobante ({fecha}) debe ser la fecha del dia ({hoy}) para la facturacion instantanea.",
    "TFC-8013": "{mensaje}",
    "TFC-8014": "AFIP no emitio el comprobante: {detalle}. No se guardo ningun comprobante: puede enviarlo nuevamente.",
    "TFC-8015": "AFIP no confirmo el resultado del comprobante dentro de los {segundos} segundos de espera. encola lo verificara con AFIP y nunca lo emitira dos veces: el resultado se informara por webhook (si envio external_reference) y por consulta_avanzada.",
    # Queue management and consultas
    "TFC-7001": "No se han encontrado comprobantes.",
    "TFC-7002": "El comprobante {comprobante} no se ha podido eliminar.",
    "TFC-7003": "El campo busqueda_tipo debe ser F, TN, EXT_REF o EXT_REF_LIST.",
    "TFC-7004": "El campo limite debe ser un numero entero entre 1 y 1000.",
    "TFC-7005": "El campo pagina debe ser un numero entero entre 0 y {maximo}.",
    "TFC-7006": "El campo {campo} es requerido para la consulta.",
    "TFC-7007": "El comprobante ya fue emitido y no se puede modificar.",
    "TFC-7008": "El comprobante no se encuentra procesado con error: no es necesario reenviarlo.",
    "TFC-7009": "El comprobante se esta emitiendo en este momento; intente nuevamente en unos segundos.",
    "TFC-7010": "El campo {campo} debe ser un numero entero entre {minimo} y {maximo}.",
    "TFC-7011": "El campo external_reference_list debe ser una lista de entre 1 y 100 external_reference validas.",
    # Lotes
    "TFC-9001": "Esta enviando {cantidad} requests, cuando el limite permitido es 100. El lote no se procesara.",
    "TFC-9002": "No has enviado ningun request a procesar en el bloque de requests.",
    "TFC-9003": "El request enviado en el orden {orden} (comenzando en 0) incluye un comprobante con un external_reference no valido.  Este request no se procesara.",
    "TFC-9004": "El request enviado en el orden {orden} (comenzando en 0) no es un objeto JSON.  Este request no se procesara.",
    "TFC-9005": "El lote no se procesara ya que contiene errores en todos sus requests. Se enviaron a procesar: {enviados} requests y se aceptaron procesar: 0. ",
    "TFC-9006": "El lote se procesara parcialmente ya que contiene errores en alguno de sus requests. Se enviaron a procesar: {enviados} requests y se aceptaron procesar: {aceptados}. ",
    # Points of sale
    "TFC-5001": "El campo operacion debe ser A (alta) o M (modificacion).",
    "TFC-5002": "El CUIT enviado no es valido: debe tener 11 digitos, sin puntos ni guiones.",
    "TFC-5003": "El punto de venta debe ser un numero entero entre 1 y 99998.",
    "TFC-5004": "El punto de venta {punto_venta} ya existe para el CUIT {cuit}.",
    "TFC-5005": "La direccion de webhook no es valida: {detalle}.",
    "TFC-5006": "La direccion de webhook apunta a una red privada o local ({host}), lo que no esta permitido.",
    "TFC-5007": "La condicion de IVA del punto de venta debe ser RI, M o E.",
    "TFC-5008": "El campo conceptos_tipo debe ser P, S o PS.",
    "TFC-5009": "El campo razon_social es requerido (maximo 255 caracteres).",
    "TFC-5010": "El webhook_token admite entre 8 y 255 caracteres imprimibles.",
    "TFC-5011": "El campo {campo} debe ser S o N.",
    "TFC-5012": "El CUIT {cuit} no esta habilitado en su cuenta: solicite al administrador que lo agregue.",
    "TFC-5013": "El campo direccion admite hasta 255 caracteres imprimibles.",
    "TFC-5014": "El campo iibb admite hasta 64 caracteres imprimibles (el numero de Ingresos Brutos o Exento).",
    "TFC-5015": "El campo fecha_inicio debe tener el formato dd/mm/aaaa y no ser posterior a hoy.",
    "TFC-5016": "El logo debe ser una imagen PNG o JPEG de hasta {maximo} KiB y {pixeles} pixeles de lado: {detalle}.",
    "TFC-5017": "La direccion de email para respuestas (reply-to) no es valida.",
}


def err(code: str, **fields: object) -> Error:
    """The catalog's error for ``code``; TFC-8002-faltante is reported as TFC-8002, as TF does."""
    return Error(code.split("-faltante")[0], MESSAGES[code].format(**fields))
