"""Properties of the simulator's rules and of its points-of-sale control input (Hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from encola.afip_sim import rules, tables
from encola.afip_sim.points_of_sale import PointOfSale, RegistrationError, cae_error, parse_registration

TODAY = date(2026, 11, 23)
EMITTER = 20123456786


def detail(**changes) -> dict:
    """A parsed FECAEDetRequest (AFIP's names, as wire.parse_detail gives them) of a valid Factura B."""
    d = {
        "Concepto": 1, "DocTipo": 96, "DocNro": 30111222, "CbteDesde": 1, "CbteHasta": 1, "CbteFch": "20261123",
        "ImpTotal": Decimal("121"), "ImpTotConc": Decimal("0"), "ImpNeto": Decimal("100"), "ImpOpEx": Decimal("0"),
        "ImpTrib": Decimal("0"), "ImpIVA": Decimal("21"), "FchServDesde": None, "FchServHasta": None,
        "FchVtoPago": None, "MonId": "PES", "MonCotiz": Decimal("1"), "CanMisMonExt": None,
        "CondicionIVAReceptorId": 5, "Iva": [{"Id": 5, "BaseImp": Decimal("100"), "Importe": Decimal("21")}],
    }
    d.update(changes)
    return d


def amounts(neto: Decimal) -> dict:
    iva = (neto * Decimal("0.21")).quantize(Decimal("0.01"))
    return {"ImpNeto": neto, "ImpIVA": iva, "ImpTotal": neto + iva, "Iva": [{"Id": 5, "BaseImp": neto, "Importe": iva}]}


def codes(d: dict, cbte_tipo: int = 6, **kw) -> set[int]:
    return {code for code, _ in rules.check_detail(d, cbte_tipo, EMITTER, TODAY, **kw)}


netos = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999"), places=2)
limits = st.decimals(min_value=Decimal("1000"), max_value=Decimal("20000000"), places=0)


@given(neto=netos, limit=limits)
def test_an_unidentified_buyer_is_refused_exactly_from_the_limit(neto, limit):
    d = detail(DocTipo=99, DocNro=0, **amounts(neto))
    refused = 10015 in codes(d, consumidor_final_limit=limit)
    assert refused == (d["ImpTotal"] >= limit)
    assert 10015 not in codes(detail(**amounts(neto)), consumidor_final_limit=limit)  # identified: always fine


@given(neto=netos, units=st.integers(min_value=2, max_value=500), limit=limits)
def test_a_b_range_is_for_unidentified_buyers_below_the_limit_per_unit(neto, units, limit):
    d = detail(DocTipo=99, DocNro=0, CbteHasta=units, **amounts(neto))
    found = codes(d, consumidor_final_limit=limit)
    assert (10014 in found) == (d["ImpTotal"] / units >= limit)
    assert 10015 not in found
    assert 10015 in codes(detail(CbteHasta=units, **amounts(neto)), consumidor_final_limit=limit)  # a DNI on a range


@given(mon_id=st.sampled_from(sorted(set(tables.COTIZACIONES) - {"PES"})),
       factor=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("10"), places=4))
def test_a_foreign_rate_must_lie_between_2_and_400_percent_of_afips(mon_id, factor):
    official = tables.COTIZACIONES[mon_id]
    cotiz = (official * factor).quantize(Decimal("0.000001"))
    refused = 10119 in codes(detail(MonId=mon_id, MonCotiz=cotiz))
    assert refused == (cotiz > 0 and not official * Decimal("0.02") <= cotiz <= official * 4)


@given(offset=st.integers(min_value=-5, max_value=5), concepto=st.sampled_from([1, 2, 3]))
def test_only_products_dated_ahead_into_another_month_are_10152(offset, concepto):
    day = TODAY + timedelta(days=offset)
    changes = {"CbteFch": day.strftime("%Y%m%d"), "Concepto": concepto}
    if concepto != 1:
        changes |= {"FchServDesde": "20261101", "FchServHasta": "20261123", "FchVtoPago": "20261230"}
    assert (10152 in codes(detail(**changes))) == (concepto == 1 and day > TODAY and day.month != TODAY.month)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=10,
)
registrations = st.fixed_dictionaries(
    {"cuit": st.one_of(st.integers(), st.text(max_size=12), st.none()),
     "punto_venta": st.one_of(st.integers(min_value=-5, max_value=100005), st.text(max_size=6), st.booleans())},
    optional={"emision_tipo": st.one_of(st.sampled_from(["CAE", "CAEA", "cae", ""]), json_values),
              "bloqueado": json_values, "fch_baja": st.one_of(st.none(), st.text(max_size=9), st.just("20261201"))},
)


@given(body=st.one_of(json_values, registrations))
def test_a_registration_body_is_a_valid_point_of_sale_or_a_clear_refusal(body):
    try:
        pos = parse_registration(body)
    except RegistrationError as exc:
        assert str(exc)
        return
    assert isinstance(pos, PointOfSale)
    assert 10**10 <= pos.cuit < 10**11 and 1 <= pos.nro <= 99998 and pos.emision_tipo in ("CAE", "CAEA")
    assert isinstance(pos.bloqueado, bool)
    assert pos.as_json()["punto_venta"] == pos.nro


@given(emision_tipo=st.sampled_from(["CAE", "CAEA"]), bloqueado=st.booleans(),
       baja=st.one_of(st.none(), st.integers(min_value=-30, max_value=30)))
def test_only_an_active_cae_point_of_sale_may_ask_for_a_cae(emision_tipo, bloqueado, baja):
    fch_baja = None if baja is None else (TODAY + timedelta(days=baja)).strftime("%Y%m%d")
    pos = PointOfSale(EMITTER, 1, emision_tipo, bloqueado, fch_baja)
    allowed = emision_tipo == "CAE" and not bloqueado and (baja is None or baja > 0)
    assert (cae_error(pos, TODAY) is None) == allowed
    assert cae_error(None, TODAY)[0] == 10005
