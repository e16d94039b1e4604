from perf_eval.cli import main

main()
