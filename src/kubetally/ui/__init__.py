"""The web UI of ``kubetally serve``: server-rendered pages whose data the browser fetches from the public JSON API."""

from __future__ import annotations

from kubetally.ui.router import PAGES, router

__all__ = ["PAGES", "router"]
