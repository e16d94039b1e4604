"""The one family of errors perf-eval raises for its users.

Every error a user can cause (a file that cannot be read, a profile with a wrong key, an
output folder that cannot be written, a scan already running, an upload refused) is a
`PerfEvalError`: its `reason` is one Chinese line the caller shows as it is, adding the file
name where it has one. Anything else that escapes is a bug. The CLI turns a `PerfEvalError`
into its message and exit code 2; the service into a JSON error with a Chinese message.
"""

from __future__ import annotations


class PerfEvalError(Exception):
    """A problem the user can act on; `reason` is Chinese."""

    def __init__(self, reason: str, *args: object) -> None:
        super().__init__(reason, *args)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason
