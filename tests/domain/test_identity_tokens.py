"""Access tokens, opaque tokens and password hashing: pure unit tests, no database or app."""

from __future__ import annotations

import base64
import threading
import time
from typing import Any

import jwt
import orjson
import pytest

from tsh.config import Settings
from tsh.platform.auth import passwords
from tsh.platform.auth.passwords import (
    DUMMY_HASH,
    hash_needs_update,
    hash_password,
    password_policy_issues,
    verify_password,
)
from tsh.platform.auth.tokens import (
    AccessClaims,
    decode_access_token,
    encode_access_token,
    hash_refresh_token,
    new_refresh_token,
)
from tsh.platform.errors import Unauthorized

SETTINGS = Settings(env="test", secret_key="unit-test-secret-" + "0123456789abcdef" * 3)


def _token(**claims: Any) -> str:
    defaults: dict[str, Any] = {
        "user_id": 7,
        "role": "salesperson",
        "branch_id": 2,
        "session_id": 11,
        "permission_version": 3,
        "ttl_s": 600,
    }
    return encode_access_token(SETTINGS, **{**defaults, **claims})


def _claims(**over: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": SETTINGS.jwt_issuer,
        "aud": SETTINGS.jwt_audience,
        "sub": "7",
        "role": "salesperson",
        "branch_id": 2,
        "sid": 11,
        "pv": 3,
        "typ": "access",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(over)
    return claims


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode()


def _refused(token: str) -> str:
    with pytest.raises(Unauthorized) as caught:
        decode_access_token(SETTINGS, token)
    assert caught.value.status == 401
    assert caught.value.headers == {"WWW-Authenticate": "Bearer"}
    return caught.value.code


# --- access tokens -----------------------------------------------------------------------------


def test_round_trip_carries_every_claim() -> None:
    claims = decode_access_token(SETTINGS, _token())
    assert claims == AccessClaims(
        user_id=7,
        role="salesperson",
        branch_id=2,
        session_id=11,
        permission_version=3,
        issued_at=claims.issued_at,
        expires_at=claims.issued_at + 600,
    )
    payload = jwt.decode(_token(), options={"verify_signature": False})
    assert payload["typ"] == "access" and payload["sub"] == "7"
    assert jwt.get_unverified_header(_token())["alg"] == "HS256"


def test_branch_may_be_null() -> None:
    assert decode_access_token(SETTINGS, _token(branch_id=None)).branch_id is None


def test_expired_token_is_token_expired() -> None:
    assert _refused(_token(ttl_s=-5)) == "TOKEN_EXPIRED"


@pytest.mark.parametrize(
    "claim", ["iss", "aud", "sub", "role", "branch_id", "sid", "pv", "typ", "iat", "exp"]
)
def test_missing_claim_is_invalid(claim: str) -> None:
    claims = _claims()
    del claims[claim]
    assert _refused(jwt.encode(claims, SETTINGS.secret_key, "HS256")) == "INVALID_TOKEN"


def test_tampered_payload_is_invalid() -> None:
    header, _, signature = _token().split(".")
    forged = _b64(_claims(role="admin"))
    assert _refused(f"{header}.{forged}.{signature}") == "INVALID_TOKEN"


def test_alg_none_is_invalid() -> None:
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}."
    assert _refused(unsigned) == "INVALID_TOKEN"


def test_other_algorithm_with_the_same_secret_is_invalid() -> None:
    assert _refused(jwt.encode(_claims(), SETTINGS.secret_key, "HS512")) == "INVALID_TOKEN"
    assert _refused(jwt.encode(_claims(), SETTINGS.secret_key, "HS384")) == "INVALID_TOKEN"


def test_other_secret_is_invalid() -> None:
    assert (
        _refused(jwt.encode(_claims(), "another-secret-" + "0123456789abcdef" * 3, "HS256"))
        == "INVALID_TOKEN"
    )


@pytest.mark.parametrize(
    "over",
    [
        {"typ": "refresh"},
        {"aud": "someone-else"},
        {"iss": "evil"},
        {"sub": "abc"},
        {"sub": 7},
        {"sid": True},
        {"sid": "11"},
        {"pv": 1.5},
        {"branch_id": "2"},
        {"role": ""},
        {"iat": int(time.time()) + 3600},
    ],
    ids=lambda over: ",".join(f"{k}={v!r}" for k, v in over.items()),
)
def test_wrong_or_mistyped_claim_is_invalid(over: dict[str, Any]) -> None:
    assert _refused(jwt.encode(_claims(**over), SETTINGS.secret_key, "HS256")) == "INVALID_TOKEN"


@pytest.mark.parametrize("garbage", ["", "not-a-jwt", "a.b.c", "Bearer x.y.z", "..", _b64({"x": 1})])
def test_malformed_is_invalid(garbage: str) -> None:
    assert _refused(garbage) == "INVALID_TOKEN"


def test_expiry_is_reported_only_for_a_genuine_token() -> None:
    expired = jwt.encode(_claims(iat=int(time.time()) - 3600, exp=int(time.time()) - 60), "x" * 40, "HS256")
    assert _refused(expired) == "INVALID_TOKEN"


# --- opaque tokens -----------------------------------------------------------------------------


def test_refresh_tokens_are_random_256_bit_and_hashed() -> None:
    tokens = {new_refresh_token() for _ in range(100)}
    assert len(tokens) == 100
    token = tokens.pop()
    assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) == 32
    digest = hash_refresh_token(token)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert digest == hash_refresh_token(token) != hash_refresh_token(token + "x")
    assert token not in digest


# --- passwords ---------------------------------------------------------------------------------


async def test_hash_and_verify() -> None:
    stored = await hash_password("demo1234")
    assert stored.startswith("$argon2id$") and "demo1234" not in stored
    assert await verify_password("demo1234", stored)
    assert not await verify_password("demo12345", stored)
    assert not await verify_password("demo1234", "not-a-hash")


async def test_unknown_account_still_pays_for_a_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    verified: list[str] = []
    real = passwords._hasher.verify

    def spy(password: str, password_hash: str) -> bool:
        verified.append(password_hash)
        return real(password, password_hash)

    monkeypatch.setattr(passwords._hasher, "verify", spy)
    assert not await verify_password("demo1234", None)
    assert verified == [DUMMY_HASH]


def test_dummy_hash_uses_the_current_parameters() -> None:
    # Otherwise an unknown e-mail would verify faster or slower than a real account.
    assert not hash_needs_update(DUMMY_HASH)


async def test_hashing_runs_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[int] = []

    def record_thread(password: str) -> str:
        threads.append(threading.get_ident())
        return "h"

    monkeypatch.setattr(passwords, "hash_password_blocking", record_thread)
    assert await hash_password("demo1234") == "h"
    assert threads and threads[0] != threading.get_ident()


@pytest.mark.parametrize("password", ["demo1234", "Passw0rd", "كلمةسر12", "a1" * 4])
def test_policy_accepts(password: str) -> None:
    assert password_policy_issues(password) == []


@pytest.mark.parametrize(
    ("password", "issue"),
    [
        ("abc123", "must be at least 8 characters"),
        ("abcdefgh", "must contain a digit"),
        ("12345678", "must contain a letter"),
        ("________", "must contain a letter"),
        ("a1" * 65, "must be at most 128 characters"),
    ],
)
def test_policy_refuses(password: str, issue: str) -> None:
    assert issue in password_policy_issues(password)


def test_policy_minimum_can_rise_but_never_fall_below_8() -> None:
    assert password_policy_issues("demo1234", min_length=12) == ["must be at least 12 characters"]
    assert password_policy_issues("abc1234", min_length=4) == ["must be at least 8 characters"]
