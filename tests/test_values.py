"""The value and target parsers (docs/domain.md §3, §8): table-driven cases and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perf_eval.values import (
    Comparator,
    Kind,
    find_year,
    label_key,
    normalize,
    parse_number,
    parse_rate,
    parse_target,
    parse_weight,
    qualitative_met,
    shown_tolerance,
)


@pytest.mark.parametrize(
    ("raw", "kind", "value"),
    [
        ("1,234.56", Kind.NUMBER, 1234.56),
        (" 0 ", Kind.NUMBER, 0.0),
        ("  0", Kind.NUMBER, 0.0),
        ("１２３", Kind.NUMBER, 123.0),
        ("125万元", Kind.NUMBER, 125.0),
        ("54人", Kind.NUMBER, 54.0),
        (959.93, Kind.NUMBER, 959.93),
        (0.0900000762939453, Kind.NUMBER, 0.0900000762939453),
        ("——", Kind.NOT_APPLICABLE, None),
        ("—", Kind.NOT_APPLICABLE, None),
        ("/", Kind.NOT_APPLICABLE, None),
        ("无", Kind.NOT_APPLICABLE, None),
        (None, Kind.BLANK, None),
        ("\u3000 ", Kind.BLANK, None),
        ("约50", Kind.INVALID, None),
        ("7.50.", Kind.INVALID, None),
        ("1_000", Kind.INVALID, None),
        ("nan", Kind.INVALID, None),
        ("Infinity", Kind.INVALID, None),
        ("٣٤", Kind.INVALID, None),
        (float("nan"), Kind.INVALID, None),
        (True, Kind.INVALID, None),
    ],
)
def test_parse_number(raw: object, kind: Kind, value: float | None) -> None:
    parsed = parse_number(raw)
    assert parsed.kind is kind
    assert parsed.value == value


@pytest.mark.parametrize(
    ("raw", "value", "decimals"),
    [
        ("95.10%", 0.951, 4),
        ("95.\n10%", 0.951, 4),
        ("100%", 1.0, 2),
        (0.951, 0.951, 3),
        ("1", 1.0, 0),
        (1, 1.0, 0),
        ("95.1", 0.951, 3),
        ("９５％", 0.95, 2),
    ],
)
def test_parse_rate(raw: object, value: float, decimals: int) -> None:
    parsed = parse_rate(raw)
    assert parsed.value == pytest.approx(value)
    assert parsed.decimals == decimals


def test_rate_compares_at_the_precision_shown() -> None:
    shown = parse_rate("95.10%")
    assert abs(136 / 143 - shown.value) <= shown_tolerance(shown, floor=0.00005)  # type: ignore[operator]
    assert not abs(0.9525 - shown.value) <= shown_tolerance(shown, floor=0.00005)  # type: ignore[operator]


def test_rate_with_a_unit_other_than_percent_is_invalid() -> None:
    assert parse_rate("95万元").kind is Kind.INVALID


@pytest.mark.parametrize(
    ("raw", "comparator", "value", "unit"),
    [
        ("≥54人", Comparator.GE, 54.0, "人"),
        ("≧6个", Comparator.GE, 6.0, "个"),
        (">=3次", Comparator.GE, 3.0, "次"),
        ("≤90万元", Comparator.LE, 90.0, "万元"),
        ("≦90万元", Comparator.LE, 90.0, "万元"),
        ("﹦100%", Comparator.EQ, 100.0, "%"),
        ("＝100%", Comparator.EQ, 100.0, "%"),
        ("8个", None, 8.0, "个"),
        ("125万元", None, 125.0, "万元"),
    ],
)
def test_parse_quantitative_target(raw: str, comparator: Comparator | None, value: float, unit: str) -> None:
    target = parse_target(raw)
    assert target.quantitative
    assert (target.comparator, target.value, target.unit) == (comparator, value, unit)


@pytest.mark.parametrize("raw", ["是否及时、准确", "基本及时到位", "公众满意度80%", "", "——"])
def test_parse_qualitative_target(raw: str) -> None:
    assert not parse_target(raw).quantitative


@pytest.mark.parametrize(
    ("target", "actual", "met"),
    [
        ("是否及时、准确", "及时、准确", True),
        ("是否及时、准确", "是", True),
        ("是否及时、准确", "否", False),
        ("是否及时", "未及时", False),
        ("基本及时到位", "基本及时到位", True),
        ("1.是否提高；\n\n2.是否优化；\n3.是否优化；", "1.提高；\n\n2.优化；\n3.优化；", True),
        ("1.是否起到促进作用；\n\n2.是否起到促进作用.", "1.促进；\n\n2.促进。", True),
        ("1.是否提高；2.是否规范；", "1.提高；2.未规范；", False),
        ("是否提高", "", None),
        ("是否提高", "有所变化", None),
    ],
)
def test_qualitative_met(target: str, actual: str, met: bool | None) -> None:
    assert qualitative_met(target, actual) is met


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("   1、公务用车购置和维护经费", "公务用车购置和维护经费"),
        ("       其中：公车购置", "公车购置"),
        ("（1）办公经费", "办公经费"),
        ("一、基本支出", "基本支出"),
        ("项目支出：", "项目支出"),
        ("2023年实际在职人数", "2023年实际在职人数"),
        ("绩\n效\n指\n标", "绩效指标"),
    ],
)
def test_label_key(text: str, key: str) -> None:
    assert label_key(text) == key


def test_weights_and_years() -> None:
    assert parse_weight("产出指标\n(40分)") == ("产出指标", 40.0)
    assert parse_weight("效益指标\n\n（30分）") == ("效益指标", 30.0)
    assert parse_weight("成本指标（22.5分）") == ("成本指标", 22.5)
    assert parse_weight("数量指标") == ("数量指标", None)
    assert find_year("2023年度部门（单位）整体支出绩效自评表") == 2023
    assert find_year("（２０２３年度）") == 2023
    assert find_year("部门整体支出绩效自评表") is None


# Properties ---------------------------------------------------------------

amounts = st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False)


@given(amounts)
def test_any_two_decimal_amount_round_trips_through_its_text_forms(amount: object) -> None:
    text = f"{amount:.2f}"
    grouped = f"{amount:,.2f}"
    full_width = text.translate(str.maketrans("0123456789.-", "０１２３４５６７８９．－"))
    for form in (text, f" {text} ", grouped, full_width, f"{text}万元"):
        parsed = parse_number(form)
        assert parsed.kind is Kind.NUMBER, form
        assert parsed.value == pytest.approx(float(text)), form


@given(st.text(alphabet=st.characters(categories=["Lo", "Lu", "Ll"]), min_size=1, max_size=8))
def test_words_are_never_numbers(word: str) -> None:
    parsed = parse_number(word)
    assert parsed.kind in (Kind.INVALID, Kind.NOT_APPLICABLE, Kind.BLANK)


@given(
    st.sampled_from(["≥", "≧", ">=", "≤", "≦", "<=", "=", "﹦", "＝"]),
    st.integers(0, 100000),
    st.sampled_from(["人", "个", "次", "万元", "%", ""]),
)
def test_targets_keep_comparator_value_and_unit(op: str, value: int, unit: str) -> None:
    target = parse_target(f"{op}{value}{unit}")
    assert target.value == value
    assert target.unit == unit
    assert target.comparator is not None


@given(st.text(max_size=30))
def test_parsers_never_raise(text: str) -> None:
    parse_number(text)
    parse_rate(text)
    parse_target(text)
    qualitative_met(text, text)
    assert normalize(text) == normalize(normalize(text))
