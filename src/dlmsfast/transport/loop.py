"""The event loop that dlmsfast's asyncio programs run on.

uvloop (libuv under asyncio's interface) where it is installed: it is a
dependency on Linux and macOS, and it does the event loop's own work (ready
handles, socket reads and writes, timers) in C, about an eighth of a bulk
worker's CPU with asyncio's pure-Python selector loop. Elsewhere, or when
``DLMSFAST_LOOP=asyncio`` asks for it (to compare, or to rule the loop out
when chasing a problem), asyncio's own loop.

Only the programs choose the loop (``dlmsfast bulk``, ``simulate``, ``read``):
a library user's :class:`~dlmsfast.AsyncClient` runs on whatever loop its
caller runs.
"""
from __future__ import annotations

import asyncio
import os
from typing import Any, Callable, Coroutine, TypeVar

from ..errors import ConfigurationError

T = TypeVar("T")

_CHOICES = ("uvloop", "asyncio")


def loop_name() -> str:
    """"uvloop" or "asyncio": what :func:`run` will use here."""
    wanted = os.environ.get("DLMSFAST_LOOP", "").strip().lower() or None
    if wanted is not None and wanted not in _CHOICES:
        raise ConfigurationError(
            f"DLMSFAST_LOOP must be one of {', '.join(_CHOICES)}, got {wanted!r}")
    if wanted == "asyncio":
        return "asyncio"
    try:
        import uvloop  # noqa: F401
    except ImportError:
        if wanted == "uvloop":
            raise ConfigurationError("DLMSFAST_LOOP=uvloop, but uvloop is not installed "
                                     "(pip install uvloop)") from None
        return "asyncio"
    return "uvloop"


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A new loop of the kind :func:`loop_name` names."""
    if loop_name() == "uvloop":
        import uvloop
        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def run(main: Coroutine[Any, Any, T], *,
        loop_factory: Callable[[], asyncio.AbstractEventLoop] = new_event_loop) -> T:
    """``asyncio.run(main)`` on a loop from ``loop_factory`` (the chosen kind by
    default): a new loop, closed with its async generators and default
    executor shut down when ``main`` ends."""
    loop = loop_factory()
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(main)
    finally:
        try:
            _cancel_all(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel the tasks ``main`` left behind and wait for them, as asyncio.run does."""
    tasks = asyncio.all_tasks(loop)
    if not tasks:
        return
    for task in tasks:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            loop.call_exception_handler({"message": "unhandled exception during run() shutdown",
                                         "exception": task.exception(), "task": task})


__all__ = ["loop_name", "new_event_loop", "run"]
