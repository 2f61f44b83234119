from __future__ import annotations

import base64

import orjson

from hakobu.web.sessions import Signer, User, token_expiry


def test_a_session_reads_back_as_it_was_signed() -> None:
    signer = Signer(b"k" * 32)
    session = signer.new(User("ada", ("team",), "u1", (("scopes", ("a",)),)), now=1000.0)
    assert signer.load(signer.dump(session), now=1001.0) == session


def test_a_changed_byte_or_another_key_reads_as_no_session() -> None:
    signer = Signer(b"k" * 32)
    cookie = signer.dump(signer.new(User("ada"), now=1000.0))
    body, _, signature = cookie.partition(".")
    forged = body[:-1] + ("A" if body[-1] != "A" else "B") + "." + signature
    assert signer.load(forged, now=1001.0) is None
    assert Signer(b"x" * 32).load(cookie, now=1001.0) is None
    assert signer.load("garbage", now=1001.0) is None


def test_an_expired_session_reads_as_none() -> None:
    signer = Signer(b"k" * 32, lifetime=60)
    cookie = signer.dump(signer.new(User("ada"), now=1000.0))
    assert signer.load(cookie, now=1059.0) is not None
    assert signer.load(cookie, now=1060.0) is None


def jwt(claims: dict[str, object]) -> str:
    body = base64.urlsafe_b64encode(orjson.dumps(claims)).decode().rstrip("=")
    return f"eyJhbGciOiJSUzI1NiJ9.{body}.c2lnbmF0dXJl"


def test_a_session_ends_when_its_token_does() -> None:
    assert token_expiry(jwt({"exp": 1300, "sub": "x"})) == 1300.0
    assert token_expiry(jwt({"sub": "x"})) is None
    assert token_expiry("not-a-jwt") is None
    assert token_expiry("a.!!!.c") is None
    signer = Signer(b"k" * 32, lifetime=3600)
    session = signer.new(User("ada"), now=1000.0, until=token_expiry(jwt({"exp": 1300})))
    assert session.expires == 1300.0
    assert signer.load(signer.dump(session), now=1300.0) is None
