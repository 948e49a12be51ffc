"""Refresh the project's copy of the published vectors from ../shared/vectors.

The vectors (JSON files and the README with their provenance) are ours to ship,
so the project keeps a copy here and every test reads this copy: a clone
anywhere runs every vector test. Run this after the shared set changes, then
review the diff and commit it::

    python tests/vectors/refresh.py              # from <project>/../shared/vectors
    python tests/vectors/refresh.py PATH         # from another copy of the set
    DLMSFAST_SHARED=/work/shared python tests/vectors/refresh.py

It copies only ``*.json`` and ``README.md``, removes vector files that the
source no longer has, and prints what changed. ``--check`` changes nothing and
exits 1 when the copy differs from the source (for CI, where the source exists).
"""
from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parents[1]


def default_source() -> Path:
    """``$DLMSFAST_SHARED/vectors`` when set, else ``<project>/../shared/vectors``."""
    shared = os.environ.get("DLMSFAST_SHARED")
    base = Path(shared) if shared else PROJECT_ROOT.parent / "shared"
    return base / "vectors"


def _wanted(folder: Path) -> dict[str, Path]:
    files = sorted(folder.glob("*.json")) + [folder / "README.md"]
    return {path.name: path for path in files if path.is_file()}


def differences(source: Path, target: Path = HERE) -> list[str]:
    """Lines ``+ name`` (new), ``~ name`` (changed), ``- name`` (gone from the source)."""
    new, old = _wanted(source), _wanted(target)
    lines = [f"+ {name}" for name in new if name not in old]
    lines += [f"~ {name}" for name in new if name in old
              and not filecmp.cmp(new[name], old[name], shallow=False)]
    lines += [f"- {name}" for name in old if name not in new]
    return sorted(lines, key=lambda line: line[2:])


def refresh(source: Path, target: Path = HERE) -> list[str]:
    """Make ``target`` hold exactly the vectors of ``source``; return what changed."""
    changes = differences(source, target)
    for line in changes:
        kind, name = line[0], line[2:]
        if kind == "-":
            (target / name).unlink()
        else:
            shutil.copyfile(source / name, target / name)
    return changes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=None,
                        help="folder of the published vectors (default: ../shared/vectors)")
    parser.add_argument("--check", action="store_true",
                        help="report differences and exit 1 if any; copy nothing")
    args = parser.parse_args(argv)
    source = args.source or default_source()
    if not (source / "README.md").is_file() or not list(source.glob("*.json")):
        print(f"no published vectors at {source}", file=sys.stderr)
        return 2
    changes = differences(source) if args.check else refresh(source)
    for line in changes:
        print(line)
    if not changes:
        print(f"tests/vectors is up to date with {source}")
    return 1 if args.check and changes else 0


if __name__ == "__main__":
    sys.exit(main())
