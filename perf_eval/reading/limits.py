"""What a safe read may cost, and how a refusal is worded: the types the safety layer shares.

`safety` (routing, opening, isolation) and `preflight` (the zip and XML scan)
both use these; neither imports the other at module level.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

from perf_eval.errors import PerfEvalError

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

# One template per failure; `code` keys are stable, the words are Chinese
# because the reason is shown to the people who submitted the file.
REASONS: dict[str, str] = {
    "missing": "文件不存在或无法访问",
    "permission": "没有读取该文件的权限",
    "io": "读取文件失败（{detail}）",
    "symlink": "是符号链接，已跳过（请提交文件本身）",
    "directory": "是文件夹，不是文件",
    "not_regular": "不是普通文件（如管道或设备文件）",
    "changed": "文件在读取过程中被修改或删除",
    "empty": "文件为空（0 字节）",
    "text": "这是 CSV/文本文件，不是 Excel 工作簿",
    "html": "这是 HTML 网页，不是 Excel 工作簿（网页系统导出的 .xls 常是这样，请用 Excel 另存为 .xlsx）",
    "xml_2003": "这是 Excel 2003 XML 表格，不是 .xlsx/.xls 工作簿，请用 Excel 打开后另存为 .xlsx",
    "xml_other": "这是 XML 文件，不是 Excel 工作簿",
    "pdf": "这是 PDF 文件，不是 Excel 工作簿",
    "image": "这是图片文件，不是 Excel 工作簿",
    "archive": "这是 {kind} 压缩包，不是 Excel 工作簿",
    "unknown_format": "无法识别的文件格式，不是 Excel 工作簿",
    "other_office": "这是{kind}，不是 Excel 工作簿",
    "xlsb": "这是 .xlsb 二进制工作簿，暂不支持，请用 Excel 另存为 .xlsx",
    "encrypted": "工作簿设有密码保护（已加密），请去除密码后再提交",
    "cfb_corrupt": "旧版 Office 文件（OLE 复合文档）已损坏或不完整",
    "xls_corrupt": "旧版 .xls 工作簿已损坏，无法读取（{detail}）",
    "zip_corrupt": "压缩包已损坏或不完整",
    "zip_entry_corrupt": "压缩包已损坏：{part} 解压失败或校验不符",
    "not_workbook": "压缩包不是 Excel 工作簿（缺少 xl/workbook.xml）",
    "too_many_entries": "压缩包条目过多（{count} 个，上限 {limit} 个），已拒绝",
    "duplicate_entry": "压缩包中有重复的条目名（{part}），已拒绝",
    "entry_encrypted": "压缩包条目 {part} 已加密，请去除密码后再提交",
    "unsupported_compression": "压缩包条目 {part} 使用了不支持的压缩方式",
    "overlap": "压缩包结构异常（条目互相重叠），疑似压缩炸弹，已拒绝",
    "bomb_size": "疑似压缩炸弹：{part} 解压后超过 {limit}",
    "bomb_ratio": "疑似压缩炸弹：{part} 的压缩比异常（超过 {ratio} 倍）",
    "bomb_total": "疑似压缩炸弹：解压总量超过 {limit}",
    "doctype": "含有 DOCTYPE/ENTITY 声明（XML 实体攻击，位于 {part}），已拒绝",
    "xml_invalid": "{part} 不是有效的 XML（第 {line} 行第 {column} 列）",
    "xml_encoding": "{part} 使用了无法识别的字符编码",
    "xml_too_deep": "{part} 的 XML 嵌套过深（超过 {limit} 层），已拒绝",
    "xml_token": "{part} 含有超长的 XML 标记（超过 {limit}），已拒绝",
    "too_many_cells": "单元格过多（超过 {limit:,} 个），已拒绝",
    "too_many_strings": "共享字符串过多（超过 {limit:,} 个），已拒绝",
    "used_range": "工作表 {sheet} 的使用范围过大（{range}，{cells:,} 个单元格）",
    "merged": "工作表 {sheet} 的合并单元格面积过大（累计超过 {limit:,} 个单元格）",
    "cell_text": "{where}的文本过长（超过 {limit:,} 个字符）",
    "cell_ref": "工作表 {sheet} 有无效的单元格地址（{ref}）",
    "no_sheets": "工作簿中没有工作表",
    "duplicate_sheet": "工作簿中有重复的工作表名（{sheet}）",
    "missing_part": "压缩包不完整：缺少工作表 {sheet} 的数据（{part}）",
    "timeout": "读取超时（超过 {seconds:g} 秒）",
    "cpu": "读取超时（CPU 时间超过 {seconds:g} 秒）",
    "crashed": "读取时内存超限或读取程序崩溃",
}


class UnreadableWorkbook(PerfEvalError):
    """A file that is not a workbook we can read safely; `reason` is one Chinese line."""

    def __init__(self, reason: str, code: str = "unreadable") -> None:
        super().__init__(reason, code)
        self.reason = reason
        self.code = code

    def __str__(self) -> str:
        return self.reason

    @classmethod
    def of(cls, code: str, **params: Any) -> UnreadableWorkbook:
        return cls(REASONS[code].format(**params), code)


def shown(name: str, limit: int = 60) -> str:
    """A name from the file (entry, sheet) made safe for a one-line message."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in name)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def size_text(n: int) -> str:
    for unit, factor in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= factor and n % factor == 0:
            return f"{n // factor} {unit}"
    return f"{n:,} 字节"


@dataclass(frozen=True)
class Limits:
    """Every limit on an input file, in one place.

    Defaults follow docs/reliability.md, defence 2 (Apache POI's where it has one:
    min inflate ratio 0.01, 1,000 entries, no DTDs). No SpreadsheetML part
    needs a DOCTYPE, so it is always refused and has no switch.
    """

    # Zip container.
    max_entries: int = 1_000
    max_entry_bytes: int = 512 * MiB  # uncompressed, counted while inflating
    min_inflate_ratio: float = 0.01  # compressed / uncompressed
    ratio_exempt_bytes: int = 100 * KiB  # small entries may compress better
    max_total_bytes: int = 1 * GiB  # bytes actually inflated, all entries
    # XML parts.
    max_xml_depth: int = 64
    # Bytes of one unfinished tag, comment or PI; a legitimate one is a few
    # KiB. It also bounds expat 2.5's re-scan of a growing token.
    max_xml_token_bytes: int = 1 * MiB
    # Cells (whole workbook), from real <c> elements.
    max_cells: int = 5_000_000
    # A workbook with more shared strings than the cell limit is not a form.
    max_shared_strings: int = 5_000_000
    # Per sheet, rows x columns counted from A1 to the farthest real cell
    # (never from <dimension>): readers allocate from A1.
    max_used_range_cells: int = 20_000_000
    max_merged_cells: int = 1_000_000  # merged areas summed over the workbook
    max_cell_chars: int = 32_767  # Excel's own limit for one cell
    # Child process of `run_isolated`.
    child_memory_bytes: int = 1 * GiB  # RLIMIT_AS
    child_cpu_seconds: int = 30  # RLIMIT_CPU
    child_wall_seconds: float = 60.0


DEFAULT_LIMITS = Limits()


class WorkbookFormat(Enum):
    OOXML = "ooxml"  # .xlsx / .xlsm: a zip of XML parts
    XLS = "xls"  # legacy BIFF inside an OLE compound file


SheetState = Literal["visible", "hidden", "veryHidden"]


@dataclass(frozen=True)
class SheetFacts:
    """What the pre-flight learned about one sheet.

    `formula_cells_without_value` lists A1 refs of cells with a formula and no
    cached value (rule F04): calamine drops them and openpyxl's data_only reads
    None. `used_range` is "A1:C10" from real cells ("" for an empty sheet).
    """

    name: str
    state: SheetState
    formula_cells_without_value: tuple[str, ...]
    cells: int
    used_range: str
    # (A1, "#DIV/0!") of cells whose saved value is an Excel error: calamine reads them as blank.
    error_values: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class WorkbookFacts:
    sheets: tuple[SheetFacts, ...]  # in workbook order
    has_macros: bool
    external_links: int
    drawings: tuple[str, ...]  # sheet names holding images, charts or shapes
    defined_names: int
