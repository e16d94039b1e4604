"""`perf-eval serve`: the upload-time check as a web page and an HTTP API.

Layers, each its own module:

- `work`: what a worker process does for one upload (check, annotate, findings workbook);
- `checks`: those tasks run in `perf_eval.scan.pool` workers, with their memory, CPU and
  wall-clock limits, and a bound on how many may wait (never an unbounded queue);
- `store`: the private folder of results, their ids and expiry;
- `upload`: the multipart body streamed to disk, refused as soon as it is too big;
- `app`: the Starlette application: routes, the guard (Host, Origin, token), JSON errors.

Only `app` imports Starlette; the command in `perf_eval.cli` imports it lazily.
"""
