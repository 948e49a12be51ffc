"""The package as installed: compiled core present, typed, and no silent slow path."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib import resources

import pytest

import dlmsfast

COMPILED = ("axdr._axdr", "hdlc._hdlc", "security._gcm")


@pytest.mark.parametrize("module", COMPILED)
def test_import_fails_loudly_without_a_compiled_module(module):
    # A broken build must not fall back to anything: importing dlmsfast fails.
    script = textwrap.dedent(f"""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "dlmsfast.{module}":
                    raise ImportError("simulated broken build: no dlmsfast.{module}")
        sys.meta_path.insert(0, Block())
        try:
            import dlmsfast
        except ImportError as exc:
            print("ImportError:", exc)
            sys.exit(3)
        sys.exit(0)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 3, done.stdout + done.stderr
    assert f"dlmsfast.{module}" in done.stdout


@pytest.mark.parametrize("module", COMPILED)
def test_compiled_modules_are_extensions_with_stubs(module):
    imported = __import__(f"dlmsfast.{module}", fromlist=["_"])
    assert not imported.__file__.endswith(".py")
    package, name = module.split(".")
    files = {entry.name for entry in resources.files(f"dlmsfast.{package}").iterdir()}
    assert f"{name}.pyi" in files
    assert "py.typed" in {entry.name for entry in resources.files("dlmsfast").iterdir()}


def test_errors_share_one_root():
    from dlmsfast import errors

    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.DlmsError)
    assert dlmsfast.DecodeError("bad", 7).offset == 7
    assert "offset 7" in str(dlmsfast.DecodeError("bad", 7))
