"""The share service: stored and stateless links, independent of Flask's request objects.

(Being lifted out of ``web/share.py``; for now it holds the storage readiness check.)
"""

from __future__ import annotations

from .store import StoreError


def storage_health(app) -> dict:
    """``{"backend", "ok", "error"}`` of the app's share store, for ``/healthz``; never raises."""
    state = app.extensions.get("share")
    if state is None:
        return {"backend": None, "ok": True, "error": None}
    try:
        store = state.store()
    except StoreError as exc:
        return {"backend": None, "ok": False, "error": str(exc)}
    return store.health()
