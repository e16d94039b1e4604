"""Test modules import openpyxl before perf_eval: keep it off lxml as perf_eval/__init__.py does."""

import os

os.environ.setdefault("OPENPYXL_LXML", "False")
