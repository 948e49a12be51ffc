"""The only I/O of dlmsfast: asyncio streams to meters (TCP, UDP, serial lines with
the IEC 62056-21 mode E hand-over), the framings that carry APDUs over them
(IEC 62056-47 wrapper, HDLC through the sans-IO link) and the push listener."""
