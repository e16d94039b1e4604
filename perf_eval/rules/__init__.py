"""The rule catalogue and its engine.

Importing this package registers every rule: each module below declares its
rules with `catalogue.rule`, and `catalogue.all_rules()` lists them.
"""

from perf_eval.rules import basic, cross, narrative, self_eval, structure

__all__ = ["basic", "cross", "narrative", "self_eval", "structure"]
