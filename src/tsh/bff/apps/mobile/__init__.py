"""Endpoints every app shares outside the 239 app rows (mobile.md): delta sync, the offline outbox."""

from tsh.bff.apps.mobile import outbox, sync

__all__ = ["outbox", "sync"]
