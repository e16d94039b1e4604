"""The catalogue: stable, documented, tested and listed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from test_golden import MANIFEST
from test_narrative import REPORT_MANIFEST
from test_rules import FAILING

from perf_eval.rules.catalogue import all_rules

DOMAIN_IDS = {
    *(f"F0{i}" for i in range(1, 7)),
    *(f"B{i:02d}" for i in range(1, 12)),
    *(f"S{i:02d}" for i in range(1, 15)),
    "X01",
    "X02",
}


def test_ids_unique_well_formed_and_cover_the_domain_catalogue() -> None:
    ids = [r.id for r in all_rules()]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[FBSXN][0-9]{2}", i) for i in ids)
    assert DOMAIN_IDS <= set(ids)


def test_every_rule_is_documented_with_examples_and_a_chinese_message() -> None:
    for rule in all_rules():
        assert rule.summary, rule.id
        assert "\n不通过" in rule.doc and "\n通过：" in rule.doc, rule.id
        assert re.search(r"[\u4e00-\u9fff]", rule.title), rule.id
        assert re.search(r"[\u4e00-\u9fff]", rule.template), rule.id
        assert re.fullmatch(r"[a-z_]+\.[a-z_]+", rule.name), rule.id


def test_every_rule_has_cases() -> None:
    inline = {case.rule for case in FAILING}
    broken = {case["rule"] for case in MANIFEST} | {e["rule"] for case in REPORT_MANIFEST for e in case["expect"]}
    # Rules whose failing case is the seed itself are covered by SEED_WARNINGS in test_rules.
    seed = {"B08", "S10", "S13"}
    # X00 (a form checked without its partner) is given by the checker: tests/test_cli.py checks it.
    checker = {"X00"}
    missing = {r.id for r in all_rules()} - inline - broken - seed - checker
    assert not missing


def test_every_rule_says_how_to_fix_it_in_chinese() -> None:
    for rule in all_rules():
        assert re.search(r"[\u4e00-\u9fff]", rule.fix), rule.id
        assert not re.search(r"[A-Za-z]{4,}", rule.fix.replace("Excel", "").replace("WPS", "")), rule.id


def test_every_rule_is_listed_by_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "perf_eval", "rules"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=True,
        cwd=Path(__file__).parent.parent,
    ).stdout
    for rule in all_rules():
        assert rule.id in out


def test_rule_names_are_unique() -> None:
    names = [r.name for r in all_rules()]
    assert len(names) == len(set(names))
