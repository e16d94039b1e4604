#!/usr/bin/env python3
"""Build the sample written reports (附件1 绩效自评报告, .docx) from literal text.

Run ``python sample_workbooks/build_reports.py [OUTPUT_DIR]``; without an argument the files go to
``sample_workbooks/reports/``:

- ``lusong-2023-report.docx``: a report of 株洲市芦淞区财政局 for 2023 in our own words, stating
  the figures its real report states, as that report states them: 编制人数 37 while the 基础数据表
  says 36 (the one disagreement), and the same amounts, projects and carry-overs.
- ``lusong-2023-consistent.docx``: the same report stating 编制 36: agrees with
  ``lusong-2023-seed.xlsx`` and ``lusong-2023-corrected.xlsx``.
- ``lusong-2023-phrasing.docx``: consistent, every figure in other words (核定编制…名, 在编在岗,
  amounts in 元 with thousands separators, 执行率, 三公经费 and its parts, a table cell).
- ``broken/N0x-….docx``: the consistent report with one figure changed so that one rule fires once.
- ``manifest.json``: for each file, the workbook it is checked with and the findings expected
  (rule, paragraph or table cell, the clause quoted, the form cell compared with).

Output is byte-identical from run to run (fixed document properties and zip timestamps).
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import docx
from docx.shared import Pt

UNIT = "株洲市芦淞区财政局"
FIXED_TIME = datetime(2024, 3, 1, 9, 0, 0)


@dataclass(frozen=True)
class Para:
    text: str
    heading: bool = False
    center: bool = False


@dataclass(frozen=True)
class Table:
    rows: tuple[tuple[str, ...], ...]


Item = Para | Table


def base_report(*, authorized: str = "共有编制人数37人") -> list[Item]:
    """The seed unit's report: our words, the real report's figures."""
    return [
        Para("附件1"),
        Para("2023年度部门（单位）整体支出", center=True),
        Para("绩效自评报告", center=True),
        Para(f"部门（单位）名称：{UNIT}"),
        Para(f"2023年度{UNIT}整体支出绩效自评报告", heading=True, center=True),
        Para("一、部门（单位）基本情况", heading=True),
        Para("（一）单位概况", heading=True),
        Para(
            f"{UNIT}是区人民政府的工作部门，机构规格为正科级，{authorized}，实有人数36人。"
            "机关内设办公室、预算股、国库股、业务综合股等4个股室，下设区财政投资评审中心等4个事业单位。"
        ),
        Para("（二）年度绩效目标", heading=True),
        Para(
            "全年目标是绩效目标管理和绩效自评全覆盖，把评价结果用到2024年度的预算编制中；"
            "健全预算单位内部控制，防范财政、债务和平台公司管理中的风险；依法组织预算编制、执行和决算。"
        ),
        Para("二、一般公共预算支出情况", heading=True),
        Para("（一）基本支出情况", heading=True),
        Para("1.2023年预算资金739.03万元。"),
        Para("2.2023年度单位一般公共预算财政拨款收入959.93万元。"),
        Para(
            "3.2023年度单位一般公共预算财政拨款支出959.93万元。其中：项目支出238.43万元，"
            "基本支出721.5万元，其中：人员经费620.03万元，公用经费101.47万元。"
        ),
        Para("（二）项目支出情况", heading=True),
        Para(
            "1.财政管理专项65.86万元；2.财政信息化建设19.99万元；3.党建经费4.37万元；4.国有资产管理85.74万元；"
            "5.经济表彰支出0.56万元；6.评审中心经费58.67万元；7.综合治税信息建设3.24万元。"
        ),
        Para("三、政府性基金预算支出情况", heading=True),
        Para("无。"),
        Para("四、资金使用及绩效情况", heading=True),
        Para("（一）整体支出绩效情况", heading=True),
        Para(
            "我局围绕稳收入、保支出、盘存量、防风险开展工作，优先保障工资、运转和基本民生支出，"
            "盘活闲置资产和存量资金，逐步置换高息债务，较好地完成了年初确定的任务。"
        ),
        Para("（二）项目支出绩效情况", heading=True),
        Para("1.财政管理专项项目", heading=True),
        Para(
            "财政管理专项项目上年指标结转10.86万元，年初预算55万元，年中未调整预算，实际支出65.86万元，"
            "本年无结转结余。资金用于预算绩效管理、内控检查、财会监督和相关培训。"
        ),
        Para("2.财政信息化建设项目", heading=True),
        Para(
            "财政信息化建设项目年初预算30万元，实际支出19.99万元，结余指标统筹用于政采云等信息化支出，"
            "主要用于财政业务系统和设备的运行维护。"
        ),
        Para("3.党建经费项目", heading=True),
        Para("党建经费由以前年度结转指标安排，实际支出4.37万元，用于党建宣传、党务公开栏和党报党刊订阅。"),
        Para("4.国有资产管理项目", heading=True),
        Para(
            "国有资产管理项目预算资金40万元，实际支出85.74万元，超出部分为上级转移支付资金，"
            "用于资产系统维护、资产报表编报和委托第三方清查。"
        ),
        Para("5.经济表彰项目", heading=True),
        Para("经济表彰项目由上级转移支付安排，实际支出0.56万元，用于表彰大会的筹备。"),
        Para("6.评审中心经费项目", heading=True),
        Para("评审中心经费项目由上级转移支付安排，实际支出58.67万元，用于评审咨询和临聘人员工资。"),
        Para("7.综合治税信息建设项目", heading=True),
        Para("综合治税信息建设项目由以前年度结转指标安排，实际支出3.24万元，用于财税综合信息平台维护。"),
        Para("五、存在的问题及原因分析", heading=True),
        Para("一是绩效管理意识有待加强；二是部分绩效指标设置笼统、偏于保守，缺乏可量化的指标值。"),
        Para("六、自评结论及结果应用", heading=True),
        Para("经自评，本单位2023年度整体支出绩效自评得分96分，等级为“优”。评价结果将作为下一年度预算安排的参考。"),
    ]


def phrasing_report() -> list[Item]:
    """Consistent with the seed workbook; every figure worded differently from `base_report`."""
    return [
        Para("附件1"),
        Para(f"{UNIT}2023年度整体支出绩效自评报告", heading=True, center=True),
        Para("一、单位基本情况", heading=True),
        Para(f"{UNIT}核定编制36名，在编在岗36人，离退休人员18人。"),
        Para("二、预算收支情况", heading=True),
        Para("本单位年初预算资金7,390,300元，全年预算数959.93万元。"),
        Para("全年支出合计9,599,300.00元，预算执行率为100%。"),
        Para("2023年三公经费支出0万元，其中公务用车购置及运行维护费0万元，因公出国（境）费0万元，公务接待费0万元。"),
        Para("三、项目情况", heading=True),
        Table(
            (
                ("项目", "说明"),
                ("国有资产管理", "预算40万元，实际支出85.74万元"),
                ("财政信息化建设", "年初预算30万元，实际支出19.99万元"),
            )
        ),
        Para("四、评价结论", heading=True),
        Para("综合得分为96分，评价等级：优。"),
    ]


def _one_paragraph_rate(rate: str) -> list[Item]:
    """`phrasing_report` with its budget, spending and rate in one paragraph, the rate written as `rate`."""
    items = phrasing_report()
    budget = next(i for i, item in enumerate(items) if isinstance(item, Para) and "全年预算数" in item.text)
    spent = items[budget + 1]
    assert isinstance(spent, Para) and "执行率为100%" in spent.text
    merged = Para(
        f"本单位年初预算资金7,390,300元，全年预算数959.93万元，全年支出合计9,599,300.00元，预算执行率为{rate}。"
    )
    return [*items[:budget], merged, *items[budget + 2 :]]


@dataclass(frozen=True)
class Expect:
    rule: str
    where: str  # "第5段" / "表1第2行第2列"
    quote: str
    cell: str | None  # the form cell compared with ("附件2!B4"), None for N00/N06


@dataclass(frozen=True)
class Sample:
    name: str
    items: list[Item]
    workbook: str | None
    change: str
    expect: tuple[Expect, ...] = ()
    also_with: tuple[str, ...] = field(default=())


def _replace(items: Sequence[Item], old: str, new: str) -> list[Item]:
    out: list[Item] = []
    hits = 0
    for item in items:
        if isinstance(item, Para) and old in item.text:
            hits += 1
            out.append(Para(item.text.replace(old, new), item.heading, item.center))
        else:
            out.append(item)
    if hits != 1:
        raise ValueError(f"{old!r} found {hits} times")
    return out


def samples() -> list[Sample]:
    consistent = base_report(authorized="共有编制人数36人")
    return [
        Sample(
            "lusong-2023-report",
            base_report(),
            "lusong-2023-seed.xlsx",
            "the real report's figures: 编制人数 37 against the 基础数据表's 36",
            (Expect("N01", "第8段", "共有编制人数37人", "附件2!B4"),),
            ("lusong-2023-corrected.xlsx",),
        ),
        Sample(
            "lusong-2023-consistent",
            consistent,
            "lusong-2023-corrected.xlsx",
            "编制人数 36: every figure agrees",
            (),
            ("lusong-2023-seed.xlsx",),
        ),
        Sample("lusong-2023-phrasing", phrasing_report(), "lusong-2023-seed.xlsx", "other phrasings, all agreeing"),
        Sample(
            "lusong-2023-one-paragraph",
            _one_paragraph_rate("100%"),
            "lusong-2023-seed.xlsx",
            "other phrasings, with budget, spending and 执行率 100% in one paragraph: all agreeing",
        ),
        Sample(
            "broken/N00-unpaired",
            _replace(consistent, f"名称：{UNIT}", "名称：株洲市芦淞区审计局"),
            "lusong-2023-corrected.xlsx",
            "the cover names another unit (and the title is this unit's): the cover wins, no forms",
            (Expect("N00", "", "", None),),
        ),
        Sample(
            "broken/N01-staff",
            _replace(consistent, "实有人数36人", "实有人数35人"),
            "lusong-2023-corrected.xlsx",
            "实有人数 35 against 实际在职人数 36",
            (Expect("N01", "第8段", "实有人数35人", "附件2!D4"),),
        ),
        Sample(
            "broken/N02-funds",
            _replace(
                consistent,
                "2023年度单位一般公共预算财政拨款收入959.93万元",
                "2023年度单位一般公共预算财政拨款收入995.93万元",
            ),
            "lusong-2023-corrected.xlsx",
            "收入 995.93 against 全年预算数 959.93",
            (Expect("N02", "第14段", "2.2023年度单位一般公共预算财政拨款收入995.93万元", "附件3!E5"),),
        ),
        Sample(
            "broken/N03-spending",
            _replace(
                _replace(consistent, "人员经费620.03万元", "人员经费623.03万元"),
                "公用经费101.47万元",
                "公用经费98.47万元",
            ),
            "lusong-2023-corrected.xlsx",
            "公用经费 98.47 against 101.47 (人员经费 raised by 3 so the paragraph still adds up)",
            (Expect("N03", "第15段", "公用经费98.47万元", "附件2!F20"),),
        ),
        Sample(
            "broken/N04-project",
            _replace(consistent, "实际支出85.74万元，超出部分", "实际支出58.74万元，超出部分"),
            "lusong-2023-corrected.xlsx",
            "国有资产管理 实际支出 58.74 against its 2023年决算数 85.74",
            (Expect("N04", "第31段", "实际支出58.74万元", "附件2!F14"),),
        ),
        Sample(
            "broken/N05-score",
            _replace(consistent, "自评得分96分", "自评得分98分"),
            "lusong-2023-corrected.xlsx",
            "自评得分 98 against 总分 96",
            (Expect("N05", "第41段", "本单位2023年度整体支出绩效自评得分98分", "附件3!H32"),),
        ),
        Sample(
            "broken/N06-rate",
            _one_paragraph_rate("96%"),
            "lusong-2023-seed.xlsx",
            "one paragraph: 全年预算数 959.93, 支出 959.93 (in 元), 执行率 96%: the rate is not 支出 ÷ 预算 (N06)"
            " nor the 自评表's 100% (N02)",
            (Expect("N02", "第6段", "预算执行率为96%", "附件3!H5"), Expect("N06", "第6段", "预算执行率为96%", None)),
        ),
        Sample(
            "broken/N06-arithmetic",
            _replace(consistent, "上年指标结转10.86万元", "上年指标结转12.86万元"),
            "lusong-2023-corrected.xlsx",
            "结转 12.86 + 年初预算 55 ≠ 实际支出 65.86 although nothing was left over",
            (Expect("N06", "第25段", "实际支出65.86万元", None),),
        ),
    ]


def render(items: Sequence[Item]) -> bytes:
    document = docx.Document()
    style = document.styles["Normal"]
    style.font.size = Pt(12)
    style.font.name = "Noto Serif CJK SC"
    for item in items:
        if isinstance(item, Table):
            table = document.add_table(rows=len(item.rows), cols=len(item.rows[0]))
            table.style = "Table Grid"
            for r, row in enumerate(item.rows):
                for c, text in enumerate(row):
                    table.cell(r, c).text = text
            continue
        paragraph = document.add_paragraph()
        run = paragraph.add_run(item.text)
        run.bold = item.heading
        if item.center:
            paragraph.alignment = 1
    props = document.core_properties
    props.author = "perf-eval samples"
    props.title = "绩效自评报告（样例）"
    props.created = props.modified = FIXED_TIME
    props.last_modified_by = "perf-eval samples"
    props.revision = 1
    buffer = io.BytesIO()
    document.save(buffer)
    return _fixed_zip(buffer.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same entries with fixed timestamps, so the output is byte-identical run to run."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, source.read(info))
    return out.getvalue()


def build(folder: Path) -> list[dict[str, object]]:
    manifest: list[dict[str, object]] = []
    for sample in samples():
        target = folder / f"{sample.name}.docx"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(render(sample.items))
        manifest.append(
            {
                "file": f"{sample.name}.docx",
                "workbook": sample.workbook,
                "also_with": list(sample.also_with),
                "change": sample.change,
                "expect": [{"rule": e.rule, "where": e.where, "quote": e.quote, "cell": e.cell} for e in sample.expect],
            }
        )
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return manifest


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "reports")
