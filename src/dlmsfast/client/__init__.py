"""Client API: :class:`AsyncClient` (asyncio) and :class:`Client` (blocking), one
implementation of every request (:mod:`dlmsfast.client.requests`)."""
from __future__ import annotations

from .blocking import Client
from .requests import AsyncClient
from .values import Profile, Reading

__all__ = ["AsyncClient", "Client", "Reading", "Profile"]
