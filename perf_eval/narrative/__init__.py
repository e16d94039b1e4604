"""The written self-evaluation report (附件1 自评报告, a Word document) checked against its forms.

- `document` reads a .docx (a .doc/.wps through LibreOffice) into numbered blocks of text;
- `statements` finds the figures the text states, each with its place and sentence;
- `rules` registers the N rules that compare them with the forms (and with each other);
- `check` pairs reports with the workbooks of their unit and year and runs the rules;
- `annotate` writes a copy of the report with a Word comment at each statement found wrong.

Importing this package (and `rules`) loads no Word library: python-docx is imported only
when a report is read or annotated.
"""
