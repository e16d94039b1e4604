"""The case-file format: malformed files are refused when loaded, and a case reads in Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest

from perf_eval.rules import examples
from perf_eval.rules.examples import CaseFileError

GOOD_CASE = """
[[cases]]
name = "total_not_the_sum"
desc = "三公经费 2023年预算数填 1"
base = "lusong-2023-corrected.xlsx"
expect = [{ cell = "附件2!D6", severity = "error" }]

[cases.set."附件2"]
"三公经费 / 2023年预算数" = 1
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_well_formed_file_loads(tmp_path: Path) -> None:
    cases = examples.parse(
        _write(tmp_path, "B03.toml", 'rule = "B03"\nparameters = ["tolerance.amount"]\n' + GOOD_CASE)
    )
    (case,) = cases.cases
    assert (case.rule, case.passing, case.set, case.id) == (
        "B03",
        False,
        {"附件2": {"三公经费 / 2023年预算数": 1}},
        "B03-fail-total_not_the_sum",
    )


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("B03.toml", 'rule = "B04"\nparameters = []\n' + GOOD_CASE, "does not match the file name"),
        ("B03.toml", 'rule = "B03"\nparameters = ["tolerance.amout"]\n' + GOOD_CASE, "unknown profile keys"),
        ("B03.toml", 'rule = "B03"\nparameters = []\n' + GOOD_CASE.replace("desc", "descr"), "unknown keys"),
        ("B03.toml", 'rule = "B03"\nparameters = []\n' + GOOD_CASE.replace("附件2!D6", "附件2!6D"), "is not Sheet!A1"),
        ("B03.toml", 'rule = "B03"\nparameters = []\n' + GOOD_CASE.replace('"error"', '"fatal"'), "severity"),
        ("B03.toml", 'rule = "B03"\nparameters = []\n' + GOOD_CASE * 2, "not unique"),
        ("B03.toml", 'rule = "B03"\nparameters = []\n' + GOOD_CASE.replace("= 1\n", "= true\n"), "a number or a text"),
        ("B03.toml", 'rule = "B03"\nparameters = []\n' + GOOD_CASE.replace("total_not", "Total not"), "snake_case"),
        ("B03.toml", 'rule = "B03"\n' + GOOD_CASE, "missing keys"),
        ("B03.toml", 'rule = "B03"\nparameters = [\n', "B03.toml"),
    ],
)
def test_a_malformed_file_is_refused_with_its_name_and_problem(
    tmp_path: Path, name: str, text: str, problem: str
) -> None:
    with pytest.raises(CaseFileError, match=problem) as caught:
        examples.parse(_write(tmp_path, name, text))
    assert str(caught.value).startswith(name)


def test_a_case_reads_as_what_was_set_and_what_results() -> None:
    cases = examples.load("B05")
    assert cases is not None
    assert examples.case_lines(cases.cases[0]) == [
        "不通过：2022年决算数 项目支出填 324.12，所列 7 个项目合计 200.16（芦淞区财政局 2023 年报送表中的真实错误）",
        "  样表 lusong-2023-corrected.xlsx：附件2「项目支出 / 2022年决算数」改为 324.12",
        "  结果：B05（错误）于 附件2!B12",
    ]
    assert examples.case_lines(cases.cases[2])[2] == "  结果：不报 B05；F03（错误）于 附件2!F12；不报 X01"


def test_values_are_shown_as_a_clerk_writes_them() -> None:
    assert [examples.shown(v) for v in (324.12, 37, "95.10%", "", "=F7+F10+F11")] == [
        "324.12",
        "37",
        "“95.10%”",
        "空",
        "公式 =F7+F10+F11（未保存计算结果）",
    ]
