"""Endpoints every app shares outside the 239 app rows (mobile.md): delta sync."""

from tsh.bff.apps.mobile import sync

__all__ = ["sync"]
