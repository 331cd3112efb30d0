"""Password hashing (Argon2id via pwdlib) and the password policy.

Argon2 costs ~100 ms of CPU and 64 MiB per call by design, so it never runs on the event loop:
every call goes to a worker thread, and a small limiter bounds how many run at once so a burst of
logins cannot exhaust memory or starve the thread pool that database drivers also use.
"""

from __future__ import annotations

import os
import re

import anyio
from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher

MIN_LENGTH = 8
MAX_LENGTH = 128

_hasher = PasswordHash((Argon2Hasher(),))
_limiter = anyio.CapacityLimiter(max(2, os.cpu_count() or 2))

# Verified instead of a real hash when the account is unknown or has no password yet, so those
# cases cost the same time as a wrong password (no timing oracle for account enumeration). It is a
# hash of a random string nobody knows, made with the hasher's current parameters (a unit test
# checks they still match).
DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$lzpNbn4dyeX7CrIZJLgJ6g$qO3sKryaH928r85ktJO49a9kWTDlv2wRht1qi5ElmEQ"
)

_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")


def hash_password_blocking(password: str) -> str:
    """For scripts and seeds that run outside the event loop; request handlers use hash_password."""
    return _hasher.hash(password)


def _verify_blocking(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _hasher.verify(password, DUMMY_HASH)
        return False
    try:
        return _hasher.verify(password, password_hash)
    except UnknownHashError:
        _hasher.verify(password, DUMMY_HASH)
        return False


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(hash_password_blocking, password, limiter=_limiter)


async def verify_password(password: str, password_hash: str | None) -> bool:
    """True when `password` matches. `None` (unknown user, or no password set) costs the same."""
    return await anyio.to_thread.run_sync(_verify_blocking, password, password_hash, limiter=_limiter)


def hash_needs_update(password_hash: str) -> bool:
    """True when the hash was made with older parameters and should be replaced at next login."""
    return bool(_hasher.current_hasher.check_needs_rehash(password_hash))


def password_policy_issues(password: str, *, min_length: int = MIN_LENGTH) -> list[str]:
    """What is wrong with a new password, as `details` issues; empty when it is acceptable.

    `min_length` comes from the password policy (SEC-19) when one is set; it never goes below 8.
    """
    issues: list[str] = []
    if len(password) < max(MIN_LENGTH, min_length):
        issues.append(f"must be at least {max(MIN_LENGTH, min_length)} characters")
    if len(password) > MAX_LENGTH:
        issues.append(f"must be at most {MAX_LENGTH} characters")
    if not _LETTER.search(password):
        issues.append("must contain a letter")
    if not _DIGIT.search(password):
        issues.append("must contain a digit")
    return issues
