"""Benchmarks of the hub: throughput against the wire limit and the API quota, inventory at 50,000
SKUs, the dispatcher at 2,000 connections, the admin on 1,000,000 orders, end-to-end latency.

Not part of the test suite (pytest.ini collects `tests/` only). Run them with `scripts/bench`
(see benchmarks/README.md); `benchmarks.run` orchestrates, each measurement runs in a process of
its own against a database of its own (`benchmarks.infra`), Django-side work is in
`benchmarks.bench_*` (called through `benchmarks.driver`), the bare HTTP scripts that give the wire
limit are in `benchmarks.wire` (no Django, no database).
"""
