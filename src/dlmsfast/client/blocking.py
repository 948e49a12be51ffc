"""The blocking :class:`Client`: the same coroutines as :class:`AsyncClient`, run on
a private event loop (in the calling thread, or in a helper thread when the
caller already runs an event loop, as in a notebook). No request is written
twice: every method below is generated from its AsyncClient twin."""
from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional

from ..errors import LocalProtocolError
from .requests import AsyncClient

_METHODS = (
    "open", "close", "get", "get_many", "read", "read_many", "read_profile", "object_list",
    "write", "call", "read_clock", "set_clock",
)


class Client:
    """An association with one meter, blocking. Same options as :class:`AsyncClient`::

        with Client("tcp://127.0.0.1:4061", client=1, auth="hls-gmac",
                    security="authenc", ek=EK, ak=AK) as meter:
            print(meter.read("1.0.1.8.0.255").scaled)
    """

    def __init__(self, url: str, **options: Any) -> None:
        self._async = AsyncClient(url, **options)
        self._loop = asyncio.new_event_loop()
        self._helper: Optional[ThreadPoolExecutor] = None

    def _run(self, coroutine):
        if self._loop.is_closed():
            coroutine.close()
            raise LocalProtocolError("this Client was shut down (its 'with' block ended): "
                                     "make a new one")
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self._loop.run_until_complete(coroutine)
        if self._helper is None:
            self._helper = ThreadPoolExecutor(1, thread_name_prefix="dlmsfast-client")
        return self._helper.submit(self._loop.run_until_complete, coroutine).result()

    @property
    def association(self):
        return self._async.association

    @property
    def max_pdu_size(self) -> int:
        return self._async.max_pdu_size

    @property
    def notifications(self) -> list:
        return self._async.notifications

    def __enter__(self) -> "Client":
        try:
            self.open()
        except BaseException:
            self.shutdown()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            self.close()
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        """Close the private event loop (``with`` does it)."""
        if self._helper is not None:
            self._helper.shutdown()
            self._helper = None
        if not self._loop.is_closed():
            self._loop.close()


def _blocking(name: str):
    coroutine_function = getattr(AsyncClient, name)

    @functools.wraps(coroutine_function)
    def method(self, *args, **kwargs):
        result = self._run(coroutine_function(self._async, *args, **kwargs))
        return self if result is self._async else result

    return method


for _name in _METHODS:
    setattr(Client, _name, _blocking(_name))
del _name

__all__ = ["Client"]
