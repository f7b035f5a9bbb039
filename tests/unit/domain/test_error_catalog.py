"""``docs/errores.md`` lists exactly the codes of ``MESSAGES``, each with its current text."""

from __future__ import annotations

import re
from pathlib import Path

from encola.domain.errors import MESSAGES, err

DOC = Path(__file__).resolve().parents[3] / "docs" / "errores.md"
ROW = re.compile(r"^\| (TFC-\d{4}) \| (.*?) \| .* \|$", re.MULTILINE)


def documented() -> list[tuple[str, str]]:
    return ROW.findall(DOC.read_text(encoding="utf-8"))


def reported_code(key: str) -> str:
    """The code a ``MESSAGES`` key is reported under (``err`` folds TFC-8002-faltante into TFC-8002)."""
    return err(key, **_placeholders(MESSAGES[key])).code


def _placeholders(template: str) -> dict[str, str]:
    return {name: "x" for name in re.findall(r"{(\w+)}", template)}


def test_every_code_in_messages_is_documented():
    codes = {code for code, _ in documented()}
    assert sorted({reported_code(key) for key in MESSAGES} - codes) == []


def test_every_documented_code_exists_in_messages():
    codes = {reported_code(key) for key in MESSAGES}
    assert sorted({code for code, _ in documented()} - codes) == []


def test_every_message_is_documented_with_its_current_text():
    rows = set(documented())
    missing = [key for key, text in MESSAGES.items() if (reported_code(key), text) not in rows]
    assert missing == []


def test_no_code_is_documented_twice_with_the_same_text():
    rows = documented()
    assert len(rows) == len(set(rows)) == len(MESSAGES)


def test_the_codes_documented_by_tusfacturas_carry_their_texts_byte_for_byte():
    assert err("TFC-8002").text == "La external reference enviada, posee caracteres no validos."
    assert err("TFC-8004", letra="B").text == (
        "Para la condicion de IVA seleccionada no se permite realizar comprobantes de tipo B."
    )
    assert err("TFC-6001").text == (
        "Error al crear al cliente . No se podra generar el comprobante. Revise los datos enviados."
    )


def test_a_missing_external_reference_is_reported_under_tfc_8002():
    assert err("TFC-8002-faltante").code == "TFC-8002"
