"""Bulk collection: thousands of meters read concurrently into a durable store.

=============  ================================================================
module         owns
=============  ================================================================
``inputs``     the meters file (CSV), the keys file (TOML, :class:`KeyRing`:
               never in logs, reprs or the store) and the :class:`ReadPlan`
``engine``     shards, :func:`read_shard` (one asyncio loop per worker),
               :func:`run_bulk` (worker processes, resume, the summary)
``store``      the SQLite store (readings, sessions, runs, counters, profiles)
               that ``dlmsfast bulk`` and ``dlmsfast listen`` write
``export``     readings out as CSV or Parquet
=============  ================================================================

::

    from dlmsfast.bulk import KeyRing, ReadPlan, read_meters, run_bulk
    summary = run_bulk(read_meters("meters.csv"), KeyRing.load("keys.toml"),
                       ReadPlan(), "readings.db")
    print(summary.succeeded, summary.failures)
"""
from .engine import (BulkSummary, EngineSettings, Shard, ShardResult, WorkerFailure, read_shard,
                     run_bulk)
from .inputs import KeyRing, MeterRow, PlanObject, ReadPlan, read_meters

__all__ = ["BulkSummary", "EngineSettings", "KeyRing", "MeterRow", "PlanObject", "ReadPlan",
           "Shard", "ShardResult", "WorkerFailure", "read_meters", "read_shard", "run_bulk"]
