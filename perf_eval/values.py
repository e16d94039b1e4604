"""Reading the values people type into these forms (docs/domain.md §3 and §8).

Pure functions, no I/O. Every parser keeps *blank*, *not applicable* and
*invalid* apart from zero, because a blank total is F02, "——" is not
applicable, and "约50" is F03.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

# U+3000 and friends are removed by NFKC + str.split(); zero-width ones are not.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff\u00ad"), None)
NOT_APPLICABLE = frozenset({"——", "—", "-", "--", "/", "无", "－", "―", "N/A", "NA", "不适用"})
_NUMBERING = re.compile(
    r"^(?:其中[:：]?|[（(]?[0-9一二三四五六七八九十]+[)）、.．]|[0-9]+[、.．](?![0-9])|[一二三四五六七八九十]+、)+"
)
# A plain decimal: "1234.56", "-3", ".5" -- no exponents, "_", "nan" or "inf".
_DECIMAL = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
_GROUPED = re.compile(r"^[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?$")
# Units that may follow an amount or a count: "125万元", "54人", "8个".
_UNIT_TAIL = re.compile(r"^(?P<num>[+-]?[0-9.,]+)(?P<unit>[^0-9.,%]{1,8})$")
_COMPARATORS = {
    "≥": "ge",
    ">=": "ge",
    "≧": "ge",
    "⩾": "ge",
    "不低于": "ge",
    "不少于": "ge",
    ">": "gt",
    "≤": "le",
    "<=": "le",
    "≦": "le",
    "⩽": "le",
    "不高于": "le",
    "不超过": "le",
    "<": "lt",
    "=": "eq",
    "﹦": "eq",
    "＝": "eq",
    "==": "eq",
}
_COMPARATOR_RE = re.compile("^(" + "|".join(sorted(map(re.escape, _COMPARATORS), key=len, reverse=True)) + ")")
_WEIGHT = re.compile(r"[(（]([0-9]+(?:\.[0-9]+)?)分[)）]")
_NEGATIVE_WORDS = ("否", "未", "没有", "不", "无")
_QUALIFIERS = ("基本", "初步", "有所", "部分", "较为", "略有", "逐步", "大体", "总体")


def normalize(text: object) -> str:
    """NFKC, and every kind of whitespace (also U+3000 and newlines inside labels) removed."""
    if text is None:
        return ""
    return _normalized(text if type(text) is str else str(text))


# A form repeats its labels, and the reading and the rules normalize the same texts many times.
@lru_cache(maxsize=16384)
def _normalized(text: str) -> str:
    value = "".join(unicodedata.normalize("NFKC", text).translate(_INVISIBLE).split())
    # Removing a space can bring a combining mark next to a letter ("R ̧"): compose again.
    return value if value.isascii() else unicodedata.normalize("NFKC", value)


def as_written(text: object) -> str:
    """A cell's text as the clerk typed it, runs of whitespace (newlines too) collapsed to one space."""
    if text is None:
        return ""
    if isinstance(text, float) and text.is_integer():
        return str(int(text))
    return " ".join(str(text).translate(_INVISIBLE).split())


def label_key(text: object) -> str:
    """A label ready for matching: normalized, numbering ("1、", "(1)", "一、") and "其中：" stripped."""
    return _label_key(normalize(text))


@lru_cache(maxsize=16384)
def _label_key(key: str) -> str:
    return _NUMBERING.sub("", key).rstrip(":：")


class Kind(StrEnum):
    NUMBER = "number"
    BLANK = "blank"
    NOT_APPLICABLE = "not_applicable"
    INVALID = "invalid"
    # A formula cell the spreadsheet never calculated: no value to check (F04).
    UNCACHED = "uncached"


@dataclass(frozen=True)
class Number:
    """A parsed number field.

    `decimals` is the precision the filer showed (for "compare at the precision
    shown"); `unit` is what followed the number ("万元", "人", "%").
    """

    kind: Kind
    value: float | None = None
    decimals: int = 0
    unit: str = ""
    text: str = ""

    @property
    def ok(self) -> bool:
        return self.kind is Kind.NUMBER

    @property
    def or_zero(self) -> float:
        """Blank and not-applicable parts count as 0 in sums (docs/domain.md §4)."""
        return self.value if self.value is not None else 0.0


BLANK = Number(Kind.BLANK)


def _decimals_of(text: str) -> int:
    return len(text.split(".", 1)[1]) if "." in text else 0


def _float_decimals(value: float) -> int:
    # Excel float residue (0.0900000762939453): count digits of the value
    # rounded to 6 places, which is more than any form shows.
    text = f"{round(value, 6):.6f}".rstrip("0")
    return _decimals_of(text)


def parse_number(raw: object) -> Number:
    """An amount, count or score: 1,234.56 / " 0 " / "１２３" / "125万元" / "——" / "约50" (invalid)."""
    if raw is None:
        return BLANK
    if isinstance(raw, bool):
        return Number(Kind.INVALID, text=str(raw))
    if isinstance(raw, int | float):
        if isinstance(raw, float) and not math.isfinite(raw):
            return Number(Kind.INVALID, text=str(raw))
        return Number(Kind.NUMBER, float(raw), _float_decimals(float(raw)), text=str(raw))
    if isinstance(raw, dt.date | dt.time | dt.timedelta):
        return Number(Kind.INVALID, text=str(raw))
    text = normalize(raw)
    if not text:
        return BLANK
    if text in NOT_APPLICABLE:
        return Number(Kind.NOT_APPLICABLE, text=text)
    unit = ""
    body = text
    if body.endswith("%"):
        body, unit = body[:-1], "%"
    else:
        tail = _UNIT_TAIL.match(body)
        if tail:
            body, unit = tail.group("num"), tail.group("unit")
    if _GROUPED.match(body):
        body = body.replace(",", "")
    if not _DECIMAL.match(body):
        return Number(Kind.INVALID, text=text)
    return Number(Kind.NUMBER, float(body), _decimals_of(body), unit, text)


def parse_rate(raw: object) -> Number:
    """A rate as a fraction: "95.10%" -> 0.951, 0.951 -> 0.951, "1" -> 1.0, "95.1" -> 0.951.

    A bare number above 2 is read as a percentage typed without "%" (nobody
    executes 200% of a budget, and nobody writes 1.5 meaning 1.5%).
    `decimals` counts the fraction's decimals, so "95.10%" has 4.
    """
    number = parse_number(raw)
    if not number.ok or number.value is None:
        return number
    if number.unit == "%" or (number.unit == "" and abs(number.value) > 2):
        return Number(Kind.NUMBER, number.value / 100, number.decimals + 2, "%", number.text)
    if number.unit:
        return Number(Kind.INVALID, text=number.text)
    return number


def shown_tolerance(number: Number, *, floor: float) -> float:
    """Half a unit of the last decimal the filer showed, never below `floor`."""
    return max(floor, 0.5 * 10 ** (-number.decimals)) if number.ok else floor


class Comparator(StrEnum):
    GE = "ge"
    GT = "gt"
    LE = "le"
    LT = "lt"
    EQ = "eq"


@dataclass(frozen=True)
class Target:
    """A 年度指标值: quantitative (comparator + number + unit) or qualitative text.

    `comparator` is None when the filer wrote a bare number ("8个"); the
    scorer then decides by indicator type.
    """

    text: str
    comparator: Comparator | None = None
    value: float | None = None
    unit: str = ""

    @property
    def quantitative(self) -> bool:
        return self.value is not None


def parse_target(raw: object) -> Target:
    """ "≥54人" / "≦90万元" / "﹦100%" / "8个" / "是否及时、准确" / "公众满意度80%"."""
    text = normalize(raw)
    if not text or text in NOT_APPLICABLE:
        return Target(text)
    comparator: Comparator | None = None
    body = text
    match = _COMPARATOR_RE.match(body)
    if match:
        comparator = Comparator(_COMPARATORS[match.group(1)])
        body = body[match.end() :]
    number = parse_number(body)
    if number.ok and number.value is not None:
        value = number.value
        return Target(text, comparator, value, number.unit)
    return Target(text, comparator)


def split_items(text: str) -> list[str]:
    """ "1.提高；2.优化" -> ["提高", "优化"]: numbered sub-indicators in one cell."""
    parts = re.split(r"[;；]|(?<=[。.])(?=[0-9]+[.、．])|(?=(?<![0-9])[0-9]+[.、．](?![0-9]))", text)
    items = [_NUMBERING.sub("", p).strip("。.;；,，") for p in parts]
    return [item for item in items if item]


def _qualitative_item_met(target: str, actual: str) -> bool | None:
    if not actual or actual in NOT_APPLICABLE:
        return None
    if actual.startswith(_NEGATIVE_WORDS) and not actual.startswith("无差错"):
        return False
    if actual in {"是", "达到", "达标", "完成", "已完成", "符合", "满足", "良好", "较好"}:
        return True
    wanted = target.removeprefix("是否").removeprefix("能否")
    if actual == wanted or actual == target:
        return True
    # "基本持续提升" against "是否持续提升" is a qualified answer: whether that meets the target is the
    # evaluator's call, not ours.
    if actual.startswith(_QUALIFIERS) and not wanted.startswith(_QUALIFIERS):
        return None
    # "是否起到促进作用" is met by "促进": the actual names the wanted effect.
    if actual in wanted or wanted in actual:
        return True
    return None


def qualitative_met(target: str, actual: str) -> bool | None:
    """Whether a qualitative target was met; None when it cannot be told from the words.

    Numbered sub-indicators are compared item by item: all met -> True,
    any clearly missed -> False.
    """
    target_items = split_items(normalize(target))
    actual_items = split_items(normalize(actual))
    if not actual_items:
        return None
    if len(target_items) != len(actual_items):
        if len(actual_items) == 1:
            return _qualitative_item_met(normalize(target), actual_items[0])
        return None
    verdicts = [_qualitative_item_met(t, a) for t, a in zip(target_items, actual_items, strict=True)]
    if any(v is False for v in verdicts):
        return False
    if all(v is True for v in verdicts):
        return True
    return None


def parse_weight(text: object) -> tuple[str, float | None]:
    """ "产出指标\\n(40分)" -> ("产出指标", 40.0); "数量指标" -> ("数量指标", None)."""
    key = normalize(text)
    match = _WEIGHT.search(key)
    name = _WEIGHT.sub("", key)
    return name, float(match.group(1)) if match else None


_YEAR = re.compile(r"(20[0-9]{2}|19[0-9]{2})年")


def find_year(text: object) -> int | None:
    """The first "2023年" in a header or title."""
    match = _YEAR.search(normalize(text))
    return int(match.group(1)) if match else None
