"""Shared test helpers.

Test data comes from two places:

- ``tests/vectors``: the project's own copy of the published vectors (ours to ship;
  refreshed from ``../shared/vectors`` by ``tests/vectors/refresh.py``). Read them
  with :func:`load_vectors`. They are always there: a missing file is a failure,
  never a skip.
- ``../shared/<name>`` beside the project root (``interop``: the Gurux-driven meter,
  ``han``: real HAN captures). Their licences forbid copying them here, so tests
  find them with :func:`shared_path`, which skips with the reason when the folder
  is absent on a developer's machine, and FAILS when ``CI`` is set (``CI=true``, as
  GitHub Actions and ``.ci/run`` set it): CI must never pass by skipping them.
  ``DLMSFAST_SHARED=/path/to/shared`` points at another copy (e.g. from a git
  worktree, whose parent folder has no ``shared``).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# The folder that holds the dlmsfast under test: src/ in a working copy (its
# compiled modules built in place), site-packages where CI installed it. A child
# process given PYTHONPATH=PACKAGE_PARENT imports that same package; a bare
# src/ of a clone has no compiled modules.
PACKAGE_PARENT = str(Path(__import__("dlmsfast").__file__).resolve().parents[1])
VECTORS_DIR = Path(__file__).resolve().parent / "vectors"


def mypy_environment() -> dict[str, str]:
    """The environment in which ``python -m mypy`` checks user code against the
    dlmsfast under test: an installed package mypy finds by itself (py.typed; it
    refuses site-packages in MYPYPATH), a working copy's src/ through MYPYPATH."""
    installed = Path(PACKAGE_PARENT).name in ("site-packages", "dist-packages")
    return {**os.environ, **({} if installed else {"MYPYPATH": PACKAGE_PARENT})}


def in_ci() -> bool:
    """Whether this run is CI's (``CI`` set to anything but empty, 0 or false)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


# CI runs the property tests with a fixed seed: a run that lands must not hinge on
# the examples drawn that day. Locally every run draws new examples.
settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
if in_ci():
    settings.load_profile("ci")


def load_vectors(name: str) -> list[dict]:
    """The records of ``tests/vectors/<name>.json`` (the project's copy of the set)."""
    path = VECTORS_DIR / f"{name}.json"
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def shared_root() -> Path:
    """``$DLMSFAST_SHARED`` when set, else the ``shared`` folder beside the project root."""
    configured = os.environ.get("DLMSFAST_SHARED")
    return Path(configured) if configured else PROJECT_ROOT.parent / "shared"


def shared_path(name: str) -> Path:
    """The folder ``../shared/<name>`` (e.g. ``"interop"``, ``"han"``) for tests that need it.

    Absent: the calling test (or module, when called at import or in parametrize)
    is skipped with the reason locally, and fails when ``CI`` is set. Use it for
    the data we may not copy into tests/vectors; never wrap it in try/except.
    """
    path = shared_root() / name
    if path.is_dir():
        return path
    reason = (f"../shared/{name} not found at {path} (put the shared folder beside the "
              f"project root or set DLMSFAST_SHARED)")
    if in_ci():
        pytest.fail(f"CI must run the tests that need it: {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


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


def date_time_octets():
    """A hypothesis strategy: 12 octets of a date-time, any field, with a deviation
    a date-time may hold (-840..840 minutes, or 0x8000: others do not decode)."""
    from hypothesis import strategies as st

    return st.tuples(st.binary(min_size=9, max_size=9),
                     st.integers(-840, 840) | st.just(-0x8000),
                     st.binary(min_size=1, max_size=1)).map(
        lambda v: v[0] + v[1].to_bytes(2, "big", signed=True) + v[2])
