"""Transport: the only layer with I/O (sockets, serial ports, files).

Each module here is imported by name (``dlmsfast.transport.listen``); this
package imports none of them, so that importing one does not pull in the
others' dependencies (pyserial, asyncio servers).
"""
