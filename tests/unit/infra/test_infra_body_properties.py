"""Properties of the body reader: any bytes give a dict or a BodyError, and a dict it gives can
be stored and answered (UTF-8 encodable, no NUL, no noncharacter, shallow enough)."""

from __future__ import annotations

import json

from hypothesis import example, given
from hypothesis import strategies as st

from encola import jsontext
from encola.api.body import MAX_DEPTH, BodyError, parse_json_object

any_text = st.text(st.characters(codec=None, exclude_categories=()) | st.sampled_from(["\ud800", "\x00", "\ufffe", "\U0010ffff"]))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=20,
)


def depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def strings(value: object) -> list[str]:
    """Every key and string of a parsed body: what may be echoed in an answer or stored as text."""
    if isinstance(value, dict):
        return [text for k, v in value.items() for text in [k, *strings(v)]]
    if isinstance(value, list):
        return [text for v in value for text in strings(v)]
    return [value] if isinstance(value, str) else []


def parse(raw: bytes) -> dict | BodyError:
    try:
        return parse_json_object(raw)
    except BodyError as refused:
        return refused


@given(st.binary(max_size=300))
@example(b'{"a": "\\ud800"}')
@example(b'{"a": 1' + b"0" * 5000 + b"}")
@example(b"[" * 50_000)
def test_any_bytes_give_a_dict_or_a_tf_error(raw):
    result = parse(raw)
    assert isinstance(result, (dict, BodyError))
    if isinstance(result, BodyError):
        assert result.error.code.startswith("TFC-10")


@given(st.dictionaries(any_text, json_values, max_size=5))
def test_what_the_reader_accepts_can_be_answered_and_stored(value):
    sent = json.dumps(value, ensure_ascii=True)
    result = parse(sent.encode())
    if isinstance(result, BodyError):
        assert result.error.code in ("TFC-1016", "TFC-1001")
        return
    # Not ``value`` itself: two code points of a surrogate pair, escaped, are one character in JSON.
    assert result == json.loads(sent)
    texts = strings(result)
    jsontext.dumps(texts)  # orjson refuses a lone surrogate: what answered 503 in issue 8
    assert not any("\x00" in t or "\ufffe" in t for t in texts)
    assert depth(result) <= MAX_DEPTH


@given(st.sampled_from(["\ud800", "\udfff", "\x00", "\ufffe", "\uffff", "\ufdd0", "\U0001ffff", "\U0010fffe"]), any_text, any_text)
def test_a_refused_character_anywhere_in_a_string_is_refused_up_front(bad, before, after):
    for body in ({"k": before + bad + after}, {before + bad + after: 1}, {"l": [{"k": [before + bad]}]}):
        result = parse(json.dumps(body, ensure_ascii=True).encode())
        assert isinstance(result, BodyError) and result.error.code == "TFC-1016"
        jsontext.dumps({"errores": [result.error.text]})  # the message itself never echoes the character
