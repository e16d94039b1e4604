"""What a command imports: checking one workbook loads what it needs and nothing of the other commands.

Every test runs `perf-eval` in a fresh interpreter and lists the modules it imported by the time it
exits; `benchmarks/run.py` measures what these imports cost.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLES = Path(__file__).parent.parent / "sample_workbooks"

# Run the command as the console script does, then report the imported modules on stderr's last line.
_PROBE = """
import atexit, json, sys
atexit.register(lambda: sys.stderr.write("\\nMODULES=" + json.dumps(sorted(sys.modules)) + "\\n"))
sys.argv = ["perf-eval", *sys.argv[1:]]
from perf_eval.cli import main
main()
"""

# Only `serve`, `scan` and the written reports (.docx) need these.
OTHER_COMMANDS = ("starlette", "uvicorn", "multipart", "docx", "perf_eval.serve", "perf_eval.scan")
# Typer imports its rich error and help panels (markdown-it, pygments) only to print them; perf-eval
# prints its own Chinese ones.
PANELS = ("typer.rich_utils", "markdown_it", "pygments", "rich.markdown", "rich.syntax", "rich.traceback")


def imported(*args: str, cwd: Path) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=cwd,
        timeout=120,
    )
    line = done.stderr.rstrip("\n").rsplit("\n", 1)[-1]
    assert line.startswith("MODULES="), done.stderr
    # What `import typer` loads by itself is typer's choice, not ours: older typer releases (down to the
    # declared floor) import their rich panels eagerly.
    return done, set(json.loads(line.removeprefix("MODULES="))) - _typer_itself()


@functools.cache
def _typer_itself() -> frozenset[str]:
    done = subprocess.run(
        [sys.executable, "-c", "import json, sys, typer; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return frozenset(json.loads(done.stdout))


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """The `names` (packages or modules) among `modules`."""
    return sorted(n for n in names if n in modules or any(m.startswith(n + ".") for m in modules))


@pytest.fixture
def seed(tmp_path: Path) -> Path:
    target = tmp_path / "自评表.xlsx"
    shutil.copy(SAMPLES / "lusong-2023-seed.xlsx", target)
    return target


def test_check_without_a_copy_reads_no_word_or_xml_library_and_no_output_writer(seed: Path) -> None:
    done, modules = imported("check", str(seed), "--no-annotate", "--format", "json", cwd=seed.parent)
    assert done.returncode == 1 and json.loads(done.stdout)["summary"]["errors"] > 0
    assert "perf_eval.rules.engine" in modules  # it did check
    # No table to print: no rich either; and no child process to start.
    heavy = (
        "openpyxl",
        "lxml",
        "xlrd",
        "rich",
        "multiprocessing",
        "perf_eval.outputs.annotate",
        "perf_eval.narrative.document",
        # The report's vocabulary and its ~40 patterns: only when a report is read.
        "perf_eval.narrative.statements",
    )
    assert loaded(modules, OTHER_COMMANDS + PANELS + heavy) == []


def test_check_with_its_annotated_copy_still_needs_no_report_reader_or_panels(seed: Path, tmp_path: Path) -> None:
    out = tmp_path / "副本"
    done, modules = imported("check", str(seed), "--out", str(out), cwd=seed.parent)
    assert done.returncode == 1 and list(out.glob("*.校验.xlsx"))
    assert "perf_eval.outputs.annotate.package" in modules  # the copy is the source's package, marked
    report_side = ("perf_eval.narrative.document", "perf_eval.narrative.annotate", "perf_eval.narrative.statements")
    # No spreadsheet library writes the copy of an .xlsx: openpyxl is for an .xls or an earlier copy.
    assert (
        loaded(modules, OTHER_COMMANDS + PANELS + report_side + ("openpyxl", "perf_eval.outputs.annotate.rewrite"))
        == []
    )


def test_a_usage_error_is_chinese_without_typer_panels(tmp_path: Path) -> None:
    done, modules = imported("check", "--no-such-option", cwd=tmp_path)
    assert done.returncode == 2
    assert "错误：没有 --no-such-option 这个选项" in done.stderr and "Traceback" not in done.stderr
    assert loaded(modules, (*PANELS, "pandas", "pandera")) == []
