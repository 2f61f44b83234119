from __future__ import annotations

from hakobu.web.sessions import Signer, User


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
