"""What a check produces: the terminal tables, the JSON text, the annotated copy, the scan's summaries.

`terminal` (rich tables), `json_report` (the JSON contract as text), `annotate` (the
annotated copy, one module per concern), `summary_view` and `summary_xlsx`
(summary.xlsx of a folder scan). The light ones (terminal, JSON, summary view)
import no openpyxl; a contract in pyproject.toml keeps them so.
"""
