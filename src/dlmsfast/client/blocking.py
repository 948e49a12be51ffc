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
import threading
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

    A Client may be shared by threads: their requests are serialised (one at
    a time, each waits its turn). Ctrl-C (KeyboardInterrupt) during a request
    gives the association up, as a timeout does; the next request says to open
    again.
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
        self._turn = threading.RLock()

    def _run(self, coroutine: Coroutine[Any, Any, _R]) -> _R:
        # one request at a time, whichever thread asks: the others wait here
        with self._turn:
            return self._run_now(coroutine)

    def _run_now(self, coroutine: Coroutine[Any, Any, _R]) -> _R:
        if self._shut:
            coroutine.close()
            raise LocalProtocolError("this Client was shut down (its 'with' block ended): "
                                     "make a new one")
        loop = self._loop
        if loop is None:
            return _run_to_end(coroutine)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            inside_a_loop = False
        else:
            inside_a_loop = True
        task = loop.create_task(coroutine)
        if not inside_a_loop:
            # outside the except clause: a failure of the request is not chained to
            # this RuntimeError in the user's traceback
            try:
                return loop.run_until_complete(task)
            except BaseException as interruption:
                # Ctrl-C may land in the loop's own wait, outside the request:
                # cancelled, the request gives its association up (as it does
                # when interrupted inside) instead of waiting on the loop
                if not task.done():
                    task.cancel(type(interruption).__name__)
                    _finish(loop.run_until_complete, task)
                raise
        if self._helper is None:
            self._helper = ThreadPoolExecutor(1, thread_name_prefix="dlmsfast-client")
        running = self._helper.submit(loop.run_until_complete, task)
        try:
            return running.result()
        except BaseException as interruption:
            if not running.done():
                loop.call_soon_threadsafe(task.cancel, type(interruption).__name__)
                _finish(running.result, _GIVE_UP_SECONDS)
            raise

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


_GIVE_UP_SECONDS = 5.0
"""How long an interrupted request in the helper thread is waited for once
cancelled (its abort closes a socket: at once)."""


def _finish(wait: Callable[..., Any], *args: Any) -> None:
    """Let a cancelled request end (its own handler aborts the association);
    how it ended is not the caller's news: the interruption is."""
    try:
        wait(*args)
    except BaseException:
        pass


def _run_to_end(coroutine):
    """Run a coroutine that never suspends (blocking I/O inside) to its result."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError("a blocking client's request waited on an event loop")


__all__ = ["Client"]
