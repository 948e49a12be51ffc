"""The blocking :class:`Client`: the same coroutines as :class:`AsyncClient`. No
request is written twice: every method below is made from its AsyncClient twin
(:func:`_blocking`, typed so that a type checker sees each method's parameters
and its result without the coroutine).

Over TCP the connection uses a blocking socket, so those coroutines never
suspend: each is run to its end by one ``send(None)``, with no event loop (a
round trip is then one ``send`` and one ``recv``; against a meter that takes
milliseconds per answer, an event loop's wake-up machinery costs the client
more CPU than its DLMS work). UDP and serial lines run the coroutines on a
private event loop, in the calling thread, or in a helper thread when the
caller already runs an event loop, as in a notebook."""
from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Concatenate, Coroutine, Optional, ParamSpec, TypeVar

from ..errors import DlmsError, LocalProtocolError
from ..transport.url import parse_url
from .requests import AsyncClient

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _blocking(coroutine_function: Callable[Concatenate[AsyncClient, _P], Coroutine[Any, Any, _R]]
              ) -> Callable[Concatenate["Client", _P], _R]:
    """The blocking method of an AsyncClient coroutine method: the same
    parameters, its result once the coroutine has run (help() shows its doc)."""

    def method(self: "Client", /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        return self._run(coroutine_function(self._async, *args, **kwargs))

    functools.update_wrapper(method, coroutine_function)  # its name, doc and signature
    return method


def _options_of(init: Callable[Concatenate[Any, _P], None]
                ) -> Callable[[Callable[..., None]], Callable[Concatenate[Any, _P], None]]:
    """Give a constructor that passes its options on to ``init`` the options of
    ``init``, for type checkers and for help() (which follows ``__wrapped__``):
    they are listed once, in AsyncClient."""

    def decorate(own: Callable[..., None]) -> Callable[Concatenate[Any, _P], None]:
        doc = own.__doc__
        functools.update_wrapper(own, init)
        own.__doc__ = doc
        return own

    return decorate


class Client:
    """An association with one meter, blocking. Same options as :class:`AsyncClient`::

        with Client("tcp://127.0.0.1:4061", client=1, auth="hls-gmac",
                    security="authenc", ek=EK, ak=AK) as meter:
            print(meter.read("1.0.1.8.0.255").scaled)

    Over TCP it waits in a blocking socket (``timeout`` per request), with no
    event loop; over UDP and serial lines it runs a private one.
    """

    @_options_of(AsyncClient.__init__)
    def __init__(self, url: str, **options: Any) -> None:
        """Options as for :class:`AsyncClient`, under the same names."""
        self._async = AsyncClient(url, **options)
        self._async._blocking_io = _is_tcp(url)
        self._loop: Optional[asyncio.AbstractEventLoop] = (
            None if self._async._blocking_io else asyncio.new_event_loop())
        self._helper: Optional[ThreadPoolExecutor] = None
        self._shut = False

    def _run(self, coroutine: Coroutine[Any, Any, _R]) -> _R:
        if self._shut:
            coroutine.close()
            raise LocalProtocolError("this Client was shut down (its 'with' block ended): "
                                     "make a new one")
        if self._loop is None:
            return _run_to_end(coroutine)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            inside_a_loop = False
        else:
            inside_a_loop = True
        if not inside_a_loop:
            # outside the except clause: a failure of the request is not chained to
            # this RuntimeError in the user's traceback
            return self._loop.run_until_complete(coroutine)
        if self._helper is None:
            self._helper = ThreadPoolExecutor(1, thread_name_prefix="dlmsfast-client")
        return self._helper.submit(self._loop.run_until_complete, coroutine).result()

    def open(self) -> "Client":
        self._run(self._async.open())
        return self  # the Client, where AsyncClient.open gives the AsyncClient

    open.__doc__ = AsyncClient.open.__doc__

    close = _blocking(AsyncClient.close)
    get = _blocking(AsyncClient.get)
    get_many = _blocking(AsyncClient.get_many)
    read = _blocking(AsyncClient.read)
    read_many = _blocking(AsyncClient.read_many)
    read_profile = _blocking(AsyncClient.read_profile)
    object_list = _blocking(AsyncClient.object_list)
    write = _blocking(AsyncClient.write)
    call = _blocking(AsyncClient.call)
    read_clock = _blocking(AsyncClient.read_clock)
    set_clock = _blocking(AsyncClient.set_clock)

    @property
    def association(self):
        return self._async.association

    @property
    def max_pdu_size(self) -> int:
        return self._async.max_pdu_size

    @property
    def notifications(self):
        """The latest notifications pushed on the association (a deque of at most
        MAX_KEPT_NOTIFICATIONS)."""
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
        """Close the private event loop, if any (``with`` does it)."""
        self._shut = True
        if self._helper is not None:
            self._helper.shutdown()
            self._helper = None
        if self._loop is not None and not self._loop.is_closed():
            self._loop.close()


def _is_tcp(url: str) -> bool:
    try:
        return parse_url(url).scheme == "tcp"
    except DlmsError:
        return False  # a bad URL is reported by open(), as with AsyncClient


def _run_to_end(coroutine):
    """Run a coroutine that never suspends (blocking I/O inside) to its result."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError("a blocking client's request waited on an event loop")


__all__ = ["Client"]
