"""The figures a report states: label vocabulary and patterns, each figure with its place.

A *statement* is one number the text gives for one known quantity (`Field`), found where a
label of that quantity stands right before the number in the same clause: "共有编制人数37人",
"核定编制37名", "在编在岗36人", "支出959.93万元，其中：项目支出238.43万元". Amounts in 元 and
亿元 are turned into 万元, the forms' unit. A number whose label is not in the vocabulary, that
is qualified ("约", "近", "超过"), that speaks of another year ("上年", "2022年", "同比"), or
whose label fits more than one quantity ("预算资金" of the whole unit: 年初 or 全年?) is left
alone: nothing is guessed.

Money of a named project: the project names come from the 基础数据表 the report is paired
with. A clause (or else the sentence, or else the heading above it) naming exactly one of
them makes its 预算 / 支出 amounts that project's; a bare amount after the name
("1.财政管理专项65.86万元") counts as spending when the heading above says 支出.

Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from perf_eval.model import Place
from perf_eval.narrative.blocks import Block
from perf_eval.narrative.fields import Field, Measure, Statement, Statements, measure_of
from perf_eval.values import as_written, label_key, normalize

# --- the vocabulary ---------------------------------------------------------------------------

# The label must end the text before the number; these may stand between them.
_FILLER = re.compile(r"(?:合计|总计|共计|累计|总额|金额|为|是|达到|达|共|计|约定|:|：)+$")
_QUALIFIED = re.compile(r"(?:约|近|超过|逾|不足|不到|将近|大约|左右|以上|以下|多于|少于)$")
_OTHER_TIME = re.compile(r"上年(?!.*结转)|去年|上一年|上年度|同比|较|比上|增长|减少|下降|增加|下年|明年|预计")
_STAFF_VETO = re.compile(r"退休|离休|临聘|编外|聘用|借调|遗属|工勤|离退")
_PART_EDITIONS = re.compile(r"行政编制|事业编制|参公编制|全额|差额|自收自支")

# (field, pattern anchored at the end of the label text, words that veto it just before)
_UNIT_LABELS: tuple[tuple[Field, re.Pattern[str]], ...] = tuple(
    (field, re.compile(pattern + "$"))
    for field, pattern in (
        (Field.STAFF_AUTHORIZED, r"(?:核定|共有|现有|人员|总)?编制(?:人数|数|总数|人员)?"),
        (
            Field.STAFF_ACTUAL,
            r"(?:实有|实际在职|在职在编|在编在岗|在职|在岗|实有在职|现有在职|实际在岗)(?:人数|人员|职工|干部职工)?",
        ),
        (Field.EXECUTION_RATE, r"(?:预算|资金|全年|年度)?执行率"),
        (Field.INITIAL_BUDGET, r"年初(?:部门)?(?:批复)?预算(?:数|资金|总额|安排)?"),
        (Field.ANNUAL_BUDGET, r"(?:全年|调整后|全年调整|全年\(调整\)|全年调整后)(?:部门)?预算(?:数|资金|总额)?"),
        (Field.ANNUAL_BUDGET, r"(?:财政拨款|本年|全年|年度|本年度|部门|单位|总)收入(?:合计|总额)?"),
        (Field.PROJECTS_BUDGET, r"(?:年初)?预算项目支出(?:金额)?"),
        (Field.PROJECTS, r"项目支出"),
        (Field.BASIC, r"基本支出"),
        (Field.PERSONNEL, r"人员(?:经费|支出)"),
        (Field.PUBLIC, r"公用(?:经费|支出)"),
        (Field.THREE_PUBLIC, r"三公经费(?:支出|决算数?|开支)?"),
        (Field.CAR, r"公务用车购置(?:及|和)运行(?:维护)?(?:费|经费)?(?:支出)?|公务用车购置(?:和|及)维护经费"),
        (Field.CAR_PURCHASE, r"(?:公车|公务用车)购置(?:费|经费)?(?:支出)?"),
        (Field.CAR_RUNNING, r"(?:公车|公务用车)运行(?:维护)?(?:费|经费)?(?:支出)?"),
        (Field.ABROAD, r"(?:因公)?出国(?:\(境\)|境)?(?:经费|费用|费)(?:支出)?"),
        (Field.RECEPTION, r"公务接待(?:费|经费)?(?:支出)?"),
        (Field.CARRYOVER, r"上年(?:指标|资金)?结转(?:资金|指标)?"),
        (Field.EXECUTED, r"(?:财政拨款|本年|全年|年度|本年度|实际|总)(?:支出|执行数|执行)(?:数)?"),
        (Field.EXECUTED, r"^(?:支出|执行数|全年执行数)"),
        (
            Field.SCORE,
            r"(?:自评|综合|绩效|评价|最终)(?:总分|总得分)|(?:自评|综合|绩效|评价|总|最终)?(?:得分|评分|分数)",
        ),
    )
)
# A generic label after a more specific subject is that subject's ("“三公”经费：全年支出3.18万元").
_SUBJECT_BEFORE = re.compile(r"项目|基本|人员|公用|三公|接待|出国|用车|公车|专项|经费")

# Money of a project (the project's name removed from the label text first).
_PROJECT_LABELS: tuple[tuple[Field, re.Pattern[str]], ...] = tuple(
    (field, re.compile(pattern + "$"))
    for field, pattern in (
        (Field.PROJECT_CARRYOVER, r"(?:上年|以前年度)?(?:指标|资金)?结转(?:资金|指标)?"),
        (Field.PROJECT_ADDED, r"(?:年中)?(?:追加|调增)(?:预算|资金)?"),
        (Field.PROJECT_CUT, r"(?:年中)?调减(?:预算|资金)?"),
        (Field.PROJECT_BUDGET, r"(?:年初|全年)?(?:批复)?预算(?:资金|数|金额|安排)?"),
        (Field.PROJECT_FINAL, r"(?:实际|全年|累计)?(?:支出|执行|使用资金|执行数)(?:资金)?|项目支出"),
    )
)

_AMOUNT_UNITS = {"万元": 1.0, "万": 1.0, "元": 1e-4, "亿元": 1e4}
_COUNT_UNITS = ("人", "名")
_NUMBER = re.compile(
    r"(?<![0-9.])(?P<num>[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?)(?P<unit>亿元|万元|万|元|人|名|%|分|年|月|日|个|次|项|家|户|天|倍)?"
)
_GRADE = re.compile(
    r"(?:等级|等次|评价结果|自评结果|评定结果|结果)(?:为|是|评定为|评为)?[:：]?[“\"'「『]?(?P<grade>优秀|优|良好|良|中等|中|差)[”\"'」』]?(?![良好秀等])"
    r"|(?:评定为|评为)[“\"'「『]?(?P<grade2>优秀|优|良好|良|中等|中|差)[”\"'」』]?(?:等级|等次)"
)
_GRADE_WORDS = {"优秀": "优", "优": "优", "良好": "良", "良": "良", "中等": "中", "中": "中", "差": "差"}
_EXPLICIT_SPENDING = re.compile(r"(?:支出|执行数?|使用)(?:资金)?(?:为|了|共|计|合计)?[0-9]")
_SETTLED = re.compile(r"无结转(?:和|及)?结余|无结余|全部支出|全部使用完毕|已全部使用|已全部支出")
_SENTENCE_END = re.compile(r"(?<=[。！？!?])|\n")
_CLAUSE_END = re.compile(r"(?<=[；;])")
# A comma between digits groups thousands ("7,390,300元"); any other ends a piece.
_PIECE_END = re.compile(r"[，、；;。！？!?]|,(?![0-9]{3})")
_QUOTES = str.maketrans("", "", "“”‘’\"'「」『』《》")
_TOP_HEADING = re.compile(r"^[一二三四五六七八九十]+、")
# The context of a sub-heading under a project section that names no project of the forms.
UNNAMED_PROJECT = ""
_HEADING = re.compile(r"^(?:[一二三四五六七八九十]+、|[(（][一二三四五六七八九十0-9]+[)）]|[0-9]+[.、．](?![0-9]))")


@dataclass(frozen=True)
class _Span:
    start: int
    end: int


def _pieces(text: str, pattern: re.Pattern[str]) -> list[_Span]:
    spans: list[_Span] = []
    start = 0
    for match in pattern.finditer(text):
        end = match.end() if match.group(0) else match.start()
        if end > start:
            spans.append(_Span(start, end))
            start = end
    if start < len(text):
        spans.append(_Span(start, len(text)))
    return spans


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, as written; ends at 。！？ or a line break."""
    return [(s.start, s.end) for s in _pieces(text, _SENTENCE_END) if text[s.start : s.end].strip()]


def _project_keys(projects: Iterable[str]) -> dict[str, str]:
    """Matching key → the form's project label: "党建经费项目" also matches "党建经费"."""
    keys: dict[str, str] = {}
    for label in projects:
        key = label_key(label).translate(_QUOTES)
        for variant in {key, re.sub(r"(?:项目|专项资金|经费项目)$", "", key)}:
            if len(variant) >= 2:
                keys.setdefault(variant, label)
    return keys


def _named_projects(text: str, keys: dict[str, str]) -> list[tuple[int, int, str]]:
    """Mentions of projects in `text` (normalized): the longest name wins where names overlap."""
    found: list[tuple[int, int, str]] = []
    for key in sorted(keys, key=len, reverse=True):
        for match in re.finditer(re.escape(key), text):
            if any(s < match.end() and match.start() < e for s, e, _ in found):
                continue
            found.append((match.start(), match.end(), keys[key]))
    return sorted(found)


def _one_project(text: str, keys: dict[str, str]) -> str | None:
    names = {label for *_, label in _named_projects(text, keys)}
    return names.pop() if len(names) == 1 else None


def find_statements(blocks: Sequence[Block], *, year: int | None, projects: Iterable[str] = ()) -> Statements:
    """Every statement of the report's blocks (see the module docstring for what counts)."""
    keys = _project_keys(projects)
    # A table row names its subject in one cell ("国有资产管理 | 预算40万元，实际支出85.74万元").
    rows: dict[tuple[int, int | None], list[str]] = {}
    for block in blocks:
        if block.table is not None:
            rows.setdefault((block.table, block.row), []).append(normalize(block.text).translate(_QUOTES))
    grid = _Grid(blocks)
    items: list[Statement] = []
    settled: set[int] = set()
    heading_project: str | None = None
    heading_spending = False
    project_section = False  # under a top-level heading about projects ("三、项目支出情况")
    for block in blocks:
        flat = normalize(block.text).translate(_QUOTES)
        if _SETTLED.search(flat):
            settled.add(block.order)
        # A heading, or a run-in heading ("（一）审计业务经费。年初预算40万元…"): its project is the
        # paragraph's and the next paragraphs', until the next heading.
        lead = _HEADING.sub("", flat).split("。", 1)[0] if block.table is None and _HEADING.match(flat) else None
        if lead is not None and len(lead) <= 30 and not _NUMBER.search(lead):
            if _TOP_HEADING.match(flat):
                project_section = "项目" in lead
            heading_project = _one_project(lead, keys)
            if heading_project is None and project_section and not _TOP_HEADING.match(flat):
                # A project the forms do not name (or no 基础数据表 to name it): its money is
                # that project's, never the unit's — left alone.
                heading_project = UNNAMED_PROJECT
            if _is_heading(flat):
                heading_spending = "支出" in flat and "预算" not in flat
        context = heading_project
        if block.table is not None:
            context = _one_project("|".join(rows[(block.table, block.row)]), keys)
            cell = grid.figure(block)
            if cell is not None:
                items.extend(_cell_statements(block, cell, grid, year=year, project=context, keys=keys))
                continue
        for start, end in sentences(block.text):
            sentence = block.text[start:end].strip()
            place = Place(block.order, sentence, block.paragraph, block.table, block.row, block.column)
            sentence_project = _one_project(normalize(sentence).translate(_QUOTES), keys)
            for clause in _pieces(sentence, _CLAUSE_END):
                clause_text = sentence[clause.start : clause.end]
                flat_clause = normalize(clause_text).translate(_QUOTES)
                mentioned = _named_projects(flat_clause, keys)
                project = (
                    _one_project(flat_clause, keys)
                    or (sentence_project if not mentioned else None)
                    or (context if not mentioned else None)
                )
                if len({label for *_, label in mentioned}) > 1:
                    project = None
                items.extend(
                    _clause_statements(
                        clause_text,
                        place=place,
                        year=year,
                        project=project,
                        keys=keys if project else {},
                        # "审计信息化建设经费15万元，已支出13.2万元": the bare amount is not the spending.
                        bare_is_spending=(heading_spending or "支出" in flat_clause)
                        and not _EXPLICIT_SPENDING.search(flat_clause),
                        in_table=block.table is not None,
                    )
                )
    return Statements(tuple(items), frozenset(settled))


# --- tables laid out as label | figure --------------------------------------------------------

# A cell holding only a figure ("36", "959.93", "36人", "98.5%"), or only a grade word.
_BARE_FIGURE = re.compile(r"(?P<num>[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?)(?P<unit>亿元|万元|万|元|人|名|%|分)?")
_BARE_GRADE = re.compile(r"(?P<grade>优秀|优|良好|良|中等|中|差)(?:等|级|等级|等次)?")
# The unit of a column or row, in its label: "年初预算数（万元）", "金额(元)", "单位：万元".
_LABEL_UNIT = re.compile(r"\((?P<a>亿元|万元|元|人|名|%|分)\)|单位[:：](?P<b>亿元|万元|元|人|名)")
# A column header that names no quantity of its own: the row's label says what the figure is.
_GENERIC_HEADER = re.compile(r"(?:金额|数额|数值|数据|数量|内容|情况|值|合计|本年数?|本年度|本期数?|数)?")
# A row label that names no quantity: the column header says what the figure is.
_GENERIC_ROW = re.compile(r"(?:项目|内容|指标|名称|类别|科目|单位|部门|合计)?")


class _Grid:
    """The cells of the report's tables, by place: (table, row, column) → the cell's text (normalized)."""

    def __init__(self, blocks: Sequence[Block]) -> None:
        self.cells: dict[tuple[int, int, int], str] = {}
        self.written: dict[tuple[int, int, int], str] = {}  # as written, to quote
        for block in blocks:
            if block.table is not None and block.row is not None and block.column is not None:
                key = (block.table, block.row, block.column)
                self.cells[key] = self.cells.get(key, "") + normalize(block.text).translate(_QUOTES)
                self.written[key] = (self.written.get(key, "") + " " + as_written(block.text)).strip()

    def figure(self, block: Block) -> str | None:
        """The cell's text when the whole cell is one figure (or grade) and nothing else."""
        if block.table is None or block.row is None or block.column is None:
            return None
        text = self.cells.get((block.table, block.row, block.column), "")
        if normalize(block.text).translate(_QUOTES) != text:
            return None  # a cell of several paragraphs is read as text
        return text if _BARE_FIGURE.fullmatch(text) or _BARE_GRADE.fullmatch(text) else None

    def _is_label(self, text: str) -> bool:
        return bool(text) and not _BARE_FIGURE.fullmatch(text) and not _BARE_GRADE.fullmatch(text)

    def row_label(self, table: int, row: int, column: int) -> tuple[str, str] | None:
        """The nearest label to the left in the row (figures between are skipped): normalized, as written."""
        for left in range(column - 1, 0, -1):
            text = self.cells.get((table, row, left), "")
            if self._is_label(text):
                return text, self.written[(table, row, left)]
        return None

    def header(self, table: int, row: int, column: int) -> tuple[str, str] | None:
        """The nearest label above in the column (figures between are skipped): normalized, as written."""
        for up in range(row - 1, 0, -1):
            text = self.cells.get((table, up, column), "")
            if self._is_label(text):
                return text, self.written[(table, up, column)]
        return None


def _label_unit(label: str) -> tuple[str, str]:
    """The label without its unit, and the unit ("" when it names none)."""
    match = _LABEL_UNIT.search(label)
    if match is None:
        return label, ""
    return (label[: match.start()] + label[match.end() :]).strip(":："), match.group("a") or match.group("b")


def _cell_statements(
    block: Block, cell: str, grid: _Grid, *, year: int | None, project: str | None, keys: dict[str, str]
) -> list[Statement]:
    """The statement of a figure alone in its cell, labelled by its row and/or its column.

    "编制数 | 36" (the label to the left), "年初预算数（万元）" above "959.93" (a header row), and
    "党建经费 | 10" under "预算数（万元）" (both: the row names the project, the column the amount).
    """
    assert block.table is not None and block.row is not None and block.column is not None
    row_label = grid.row_label(block.table, block.row, block.column)
    header = grid.header(block.table, block.row, block.column)
    row_text, row_unit = _label_unit(label_key(row_label[0])) if row_label else ("", "")
    head_text, head_unit = _label_unit(label_key(header[0])) if header else ("", "")
    if _mentions_other_year(head_text, year):
        return []  # a column of another year ("2022年", "上年数")
    this_year = re.fullmatch(r"(?:(20[0-9]{2})年度?|本年度?)(?:决算)?数?", head_text)
    shown = [row_label[1]] if row_label else []
    if row_label and header and not (_GENERIC_HEADER.fullmatch(head_text) or this_year):
        if _GENERIC_ROW.fullmatch(row_text):
            row_text, shown = "", []
        shown.append(header[1])
        label = row_text + head_text
    elif row_label:
        label = row_text
    else:
        label = "" if this_year else head_text
        shown = [header[1]] if header else []
    if not label:
        return []
    place = Place(block.order, block.text.strip(), block.paragraph, block.table, block.row, block.column)
    clause = f"{' / '.join(shown)}：{block.text.strip()}"
    grade = _BARE_GRADE.fullmatch(cell)
    if grade:
        if re.search(r"(?:等级|等次|评价结果|自评结果|评定结果)$", label):
            word = grade.group("grade")
            return [Statement(Field.GRADE, None, word, 0.0, clause, place, grade=_GRADE_WORDS[word])]
        return []
    figure = _BARE_FIGURE.fullmatch(cell)
    assert figure is not None
    unit = figure.group("unit") or row_unit or head_unit
    if _mentions_other_year(label, year):
        return []
    in_project = project if project is not None and _named_projects(label, keys) else None
    found = _statement(label, figure.group("num"), unit, year, in_project, keys if in_project else {}, False, True)
    if found is None:
        return []
    field, value, tolerance = found
    text = figure.group(0) if figure.group("unit") else f"{figure.group('num')}{unit}"
    return [
        Statement(
            field, value, text, tolerance, clause, place, in_project if field.value.startswith("project_") else None
        )
    ]


def _is_heading(flat: str) -> bool:
    return len(flat) <= 30 and bool(_HEADING.match(flat)) and not _NUMBER.search(_HEADING.sub("", flat).rstrip("。"))


def _clause_statements(
    clause: str,
    *,
    place: Place,
    year: int | None,
    project: str | None,
    keys: dict[str, str],
    bare_is_spending: bool,
    in_table: bool,
) -> list[Statement]:
    out: list[Statement] = []
    for piece in _pieces(clause, _PIECE_END):
        piece_text = clause[piece.start : piece.end]
        quoted = piece_text.strip().rstrip("，,、；;。！？!?")
        out.extend(_piece_statements(quoted, place, year, project, keys, bare_is_spending, in_table))
    grade = _GRADE.search(normalize(clause).translate(_QUOTES))
    if grade:
        word = grade.group("grade") or grade.group("grade2")
        out.append(
            Statement(Field.GRADE, None, word, 0.0, clause.strip().rstrip("。；;"), place, grade=_GRADE_WORDS[word])
        )
    return out


def _piece_statements(
    piece: str,
    place: Place,
    year: int | None,
    project: str | None,
    keys: dict[str, str],
    bare_is_spending: bool,
    in_table: bool,
) -> list[Statement]:
    flat = normalize(piece).translate(_QUOTES)
    out: list[Statement] = []
    previous_end = 0
    for match in _NUMBER.finditer(flat):
        label_text = flat[previous_end : match.start()]
        previous_end = match.end()
        unit = match.group("unit") or ""
        if unit in ("年", "月", "日", "个", "次", "项", "家", "户", "天", "倍"):
            continue
        statement = _statement(label_text, match.group("num"), unit, year, project, keys, bare_is_spending, in_table)
        if statement is not None:
            field, value, tolerance = statement
            out.append(
                Statement(
                    field,
                    value,
                    match.group(0),
                    tolerance,
                    piece,
                    place,
                    project if field.value.startswith("project_") else None,
                )
            )
    return out


def _statement(
    label_text: str,
    number: str,
    unit: str,
    year: int | None,
    project: str | None,
    keys: dict[str, str],
    bare_is_spending: bool,
    in_table: bool,
) -> tuple[Field, float, float] | None:
    label = _FILLER.sub("", label_text)
    if _QUALIFIED.search(label) or _mentions_other_year(label, year):
        return None
    value = float(number.replace(",", ""))
    decimals = len(number.split(".", 1)[1]) if "." in number else 0
    half = 0.5 * 10 ** (-decimals)
    field = _unit_field(label)
    if project is not None and field is Field.EXECUTION_RATE:
        return None  # a project's 执行率: no form field holds it (the unit's is another figure)
    if project == UNNAMED_PROJECT and (field is None or _is_money(field)):
        return None
    if project is not None and (field is None or _is_money(field)):
        field = _project_field(label, keys, bare_is_spending)
    if field is None:
        return None
    measure = measure_of(field)
    if measure is Measure.AMOUNT:
        if unit in _AMOUNT_UNITS:
            factor = _AMOUNT_UNITS[unit]
        elif unit == "" and in_table:
            factor = 1.0  # a table in the report restates the forms, in 万元
        else:
            return None
        return field, value * factor, half * factor
    if measure is Measure.COUNT:
        return (field, value, half) if unit in (*_COUNT_UNITS, "") else None
    if measure is Measure.RATE:
        return (field, value / 100, half / 100) if unit == "%" else None
    if measure is Measure.SCORE:
        return (field, value, half) if unit in ("分", "") else None
    return None


def _mentions_other_year(label: str, year: int | None) -> bool:
    if _OTHER_TIME.search(label):
        return True
    years = {int(y) for y in re.findall(r"(20[0-9]{2})年", label)}
    return bool(years) and year is not None and years != {year}


def _unit_field(label: str) -> Field | None:
    for field, pattern in _UNIT_LABELS:
        match = pattern.search(label)
        if match is None:
            continue
        before = label[: match.start()]
        if field in (Field.STAFF_AUTHORIZED, Field.STAFF_ACTUAL) and (
            _STAFF_VETO.search(label) or _PART_EDITIONS.search(label)
        ):
            return None
        if field in _GENERIC and _SUBJECT_BEFORE.search(before):
            return None
        if field is Field.ANNUAL_BUDGET and re.search(r"非税|基金|专户|其他|结转", label):
            return None
        if field is Field.SCORE and re.search(r"指标|分值", label):
            return None
        return field
    return None


_GENERIC = frozenset({Field.EXECUTED, Field.ANNUAL_BUDGET, Field.INITIAL_BUDGET, Field.EXECUTION_RATE})


def _project_field(label: str, keys: dict[str, str], bare_is_spending: bool) -> Field | None:
    rest = label
    mentions = _named_projects(label, keys)
    if mentions:
        rest = label[mentions[-1][1] :]
    rest = re.sub(r"^(?:项目|专项|专项资金|经费)+", "", rest) if mentions else rest
    rest = _FILLER.sub("", rest)
    if not rest:
        return Field.PROJECT_FINAL if mentions and bare_is_spending else None
    for field, pattern in _PROJECT_LABELS:
        if pattern.search(rest):
            return field
    return None


def _is_money(field: Field) -> bool:
    return measure_of(field) is Measure.AMOUNT
