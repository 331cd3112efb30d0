"""Delta sync: the global change log the apps read with a cursor to fetch only what changed."""

from tsh.domain.sync.changelog import (
    TRACKED,
    change_log_installed,
    install_change_log,
    record_bulk_changes,
    uninstall_change_log,
)
from tsh.domain.sync.models import ChangeLog

__all__ = [
    "TRACKED",
    "ChangeLog",
    "change_log_installed",
    "install_change_log",
    "record_bulk_changes",
    "uninstall_change_log",
]
