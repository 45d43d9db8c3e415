"""Tables of the benchmark service (all prefixed `benchmark_`)."""

from __future__ import annotations

from shared.jobs import JobBase


class BenchmarkJob(JobBase, table=True):
    __tablename__ = "benchmark_job"
