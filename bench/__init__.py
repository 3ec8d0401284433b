"""Benchmarks: `python -m bench [SUITE ...] [--sizes 10000,100000]` (or `make bench`).

Each suite returns a markdown section that is written into docs/benchmarks.md between
`<!-- bench:NAME -->` and `<!-- /bench:NAME -->`. Suites are registered in
`bench.suites.SUITES`.
"""
