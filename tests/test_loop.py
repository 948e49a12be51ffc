"""transport.loop: which event loop dlmsfast's programs run on."""
from __future__ import annotations

import asyncio

import pytest

from dlmsfast.errors import ConfigurationError
from dlmsfast.transport import loop as event_loop


def test_uvloop_by_default_asyncio_on_request(monkeypatch):
    # uvloop is a dependency on this platform: a missing one is an install defect
    monkeypatch.delenv("DLMSFAST_LOOP", raising=False)
    assert event_loop.loop_name() == "uvloop"
    monkeypatch.setenv("DLMSFAST_LOOP", "asyncio")
    assert event_loop.loop_name() == "asyncio"
    monkeypatch.setenv("DLMSFAST_LOOP", " UVLOOP ")
    assert event_loop.loop_name() == "uvloop"


def test_an_unknown_loop_is_a_configuration_mistake(monkeypatch):
    monkeypatch.setenv("DLMSFAST_LOOP", "trio")
    with pytest.raises(ConfigurationError, match="DLMSFAST_LOOP must be one of uvloop, asyncio"):
        event_loop.loop_name()


@pytest.mark.parametrize("name, module", [("uvloop", "uvloop"), ("asyncio", "asyncio")])
def test_run_uses_the_chosen_loop_and_cleans_up(monkeypatch, name, module):
    monkeypatch.setenv("DLMSFAST_LOOP", name)
    cancelled = []

    async def left_behind():
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def main():
        main.task = asyncio.ensure_future(left_behind())
        await asyncio.sleep(0)
        return type(asyncio.get_running_loop()).__module__

    assert event_loop.run(main()).split(".")[0] == module
    assert cancelled == [True]  # the task main left was cancelled and awaited
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()  # and no loop is left set


def test_run_gives_main_s_exception():
    async def main():
        raise ValueError("from main")

    with pytest.raises(ValueError, match="from main"):
        event_loop.run(main())
