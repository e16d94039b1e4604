"""Which layout family a form belongs to, recognised from its labels (never from positions).

A national project form (财预〔2020〕10号); A′ the same with 年度指标值 split into 指标性质 | 指标值 | 度量单位;
B Sichuan 部门预算项目支出绩效自评表; C 衔接资金 绩效目标自评表; D the 20-point execution form (Hubei,
Yunnan); E the national 部门整体支出绩效自评表 (Hunan 附件3); F Chongqing 部门整体绩效自评表; G a
section-scored 评分表; H old Hunan (投入/过程/产出/效果); I the city 项目决策/管理/产出/效益 form; J a
budget-system export (Hebei 预算项目绩效自评表). docs/forms.md describes each.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from perf_eval.model import FormKind
from perf_eval.values import label_key

FAMILIES = ("A", "A′", "B", "C", "D", "E", "F", "G", "H", "I", "J")
FAMILY_ZH = {
    "A": "全国项目支出绩效自评表（财预〔2020〕10号）",
    "A′": "全国项目支出绩效自评表（指标值拆分为指标性质/指标值/度量单位）",
    "B": "四川部门预算项目支出绩效自评表",
    "C": "衔接资金/专项资金绩效目标自评表",
    "D": "执行率20分的项目/部门整体自评表（湖北、云南等）",
    "E": "全国部门整体支出绩效自评表",
    "F": "重庆部门整体绩效自评表",
    "G": "分部分计分的部门整体评分表",
    "H": "湖南旧版（2014—2019）自评表",
    "I": "项目决策/管理/产出/效益四级评分的项目自评表",
    "J": "预算管理系统导出的预算项目绩效自评表",
}
_SECTION_WEIGHT = re.compile(r"^[一二三四五六七八九十]+、.*[(（][0-9]+分[)）]$")


def recognise(texts: Iterable[str], title: str, kind: FormKind) -> str | None:
    """The family of a 自评表 from the text of its cells (normalized), its title and its kind."""
    if kind is FormKind.BASIC_DATA:
        return None
    raw = list(texts)
    keys = {label_key(t) for t in raw}

    def has(*labels: str) -> bool:
        return any(key.startswith(label) for key in keys for label in labels)

    if has("单项指标折算得分", "权重占比", "预算执行进度", "单项指标实际完成值"):
        return "J"
    if has("得分系数", "自评总分", "是否核心指标", "执行率权重"):
        return "F"
    if has("参考分值") or (has("项目决策") and has("项目管理")):
        return "I"
    if has("评分标准", "指标解释") and any(_SECTION_WEIGHT.match(t) for t in raw):
        return "G"
    if any("20分*执行率" in k or "分*执行率" in k for k in keys) or (
        has("年初目标值") and not has("分值", "权重", "指标权重")
    ):
        return "D"
    if has("调整后预算数", "预算执行数") or (has("权重") and has("完成值") and has("指标性质")):
        return "B"
    if "绩效目标自评表" in title or has("年初设定目标", "全年实际值"):
        return "C"
    if has("投入") and has("过程") and has("自评得分", "得分"):
        return "H"
    if kind is FormKind.DEPT_SELF_EVAL:
        return "E"
    if has("指标性质") and has("度量单位", "计量单位"):
        return "A′"
    return "A"
