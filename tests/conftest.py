"""Shared test helpers: the published vectors live beside the project root."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

VECTORS_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "vectors"


def load_vectors(name: str) -> list[dict]:
    """The records of ``../shared/vectors/<name>.json``; skips when the folder is absent."""
    path = VECTORS_DIR / f"{name}.json"
    if not path.is_file():
        pytest.skip(f"test vectors not found at {path} (clone without ../shared/vectors)")
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)
