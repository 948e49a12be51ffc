"""Shared test helpers: the published vectors live beside the project root."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# CI runs the property tests with a fixed seed: a run that lands must not hinge on
# the examples drawn that day. Locally every run draws new examples.
settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
if os.environ.get("CI"):
    settings.load_profile("ci")

VECTORS_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "vectors"


def load_vectors(name: str) -> list[dict]:
    """The records of ``../shared/vectors/<name>.json``; skips when the folder is absent."""
    path = VECTORS_DIR / f"{name}.json"
    if not path.is_file():
        # Called while collecting (parametrize) as well as inside tests: a module
        # built on the vectors is skipped whole, with the reason, in a clone
        # that has no ../shared beside it.
        pytest.skip(
            f"test vectors not found at {path} (clone without ../shared/vectors)",
            allow_module_level=True,
        )
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def feed_in_chunks(splitter, stream: bytes, chunk_sizes: list[int]) -> list:
    """Feed ``stream`` to a splitter in chunks of the given sizes (cycled); all it returns."""
    got: list = []
    pos = turn = 0
    while pos < len(stream):
        size = chunk_sizes[turn % len(chunk_sizes)]
        got += splitter.feed(stream[pos : pos + size])
        pos += size
        turn += 1
    return got
