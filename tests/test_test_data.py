"""Where the tests' data comes from: the project's own copy of the published
vectors (tests/vectors) and conftest.shared_path for what may not be copied."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import VECTORS_DIR, load_vectors, shared_path

HERE = Path(__file__).resolve().parent
FILES = ("acse", "axdr", "hdlc", "security", "wrapper", "xdlms")


def test_the_vector_copy_is_whole_and_carries_its_provenance():
    readme = (VECTORS_DIR / "README.md").read_text(encoding="utf-8")
    assert "## Provenance rules" in readme
    counts = {name: len(load_vectors(name)) for name in FILES}
    # the README's table: 193 vectors in six files
    assert counts == {"acse": 19, "axdr": 75, "hdlc": 31, "security": 17, "wrapper": 8, "xdlms": 43}
    assert sorted(p.stem for p in VECTORS_DIR.glob("*.json")) == sorted(FILES)


def test_the_vector_copy_matches_the_published_set():
    source = shared_path("vectors")
    done = subprocess.run([sys.executable, str(VECTORS_DIR / "refresh.py"), "--check", str(source)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"run tests/vectors/refresh.py: {done.stdout}{done.stderr}"


def test_refresh_copies_changes_and_removals(tmp_path):
    sys.path.insert(0, str(VECTORS_DIR))
    try:
        import refresh
    finally:
        sys.path.remove(str(VECTORS_DIR))
    source, target = tmp_path / "source", tmp_path / "target"
    source.mkdir()
    target.mkdir()
    (source / "README.md").write_text("provenance")
    (source / "a.json").write_text("[1]")
    (target / "a.json").write_text("[0]")
    (target / "gone.json").write_text("[]")
    (source / "notes.txt").write_text("not a vector")
    assert refresh.refresh(source, target) == ["+ README.md", "~ a.json", "- gone.json"]
    assert sorted(p.name for p in target.iterdir()) == ["README.md", "a.json"]
    assert (target / "a.json").read_text() == "[1]"
    assert refresh.differences(source, target) == []


def _run_helper(tmp_path: Path, shared: Path, ci: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_uses_han.py").write_text(textwrap.dedent("""
        from conftest import shared_path

        def test_han():
            assert (shared_path("han") / "frames.json").is_file()
    """))
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(DLMSFAST_SHARED=str(shared), PYTHONPATH=os.pathsep.join(
        [str(HERE), env.get("PYTHONPATH", "")]), CI=ci)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), str(tmp_path / "test_uses_han.py")],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)


@pytest.mark.parametrize("ci, outcome", [("false", "1 skipped"), ("true", "1 failed")])
def test_shared_path_skips_locally_and_fails_in_ci(tmp_path, ci, outcome):
    empty = tmp_path / "shared"
    empty.mkdir()
    done = _run_helper(tmp_path, empty, ci)
    assert outcome in done.stdout, done.stdout + done.stderr
    assert "../shared/han not found" in done.stdout


def test_shared_path_returns_the_folder_when_present(tmp_path):
    (tmp_path / "shared" / "han").mkdir(parents=True)
    (tmp_path / "shared" / "han" / "frames.json").write_text(json.dumps([]))
    done = _run_helper(tmp_path, tmp_path / "shared", "true")
    assert "1 passed" in done.stdout, done.stdout + done.stderr
