"""Redaction and text cleaning: what may be shown, logged or stored."""

from __future__ import annotations

import pytest

from django_upsolve.exceptions import UpsolveUnavailable
from django_upsolve.redaction import (
    ERROR_RECORD_LENGTH,
    EXCERPT_LENGTH,
    describe,
    error_record,
    excerpt,
    has_control,
    is_storable,
    one_line,
    printable,
    redact,
)

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("key up_admin_Zx81kQ0pL3vN7sR2 used", "key [redacted] used"),
        ("key up_embed_abc-DEF_123 used", "key [redacted] used"),
        (f"token={JWT}&x=1", "token=[redacted]&x=1"),
        ("Authorization: Bearer s3cr3t.value rest", "Authorization: [redacted] rest"),
        ("BEARER abc", "[redacted]"),
        ("up_other_key and eyJ alone", "up_other_key and eyJ alone"),
        ("nothing secret here", "nothing secret here"),
    ],
)
def test_redact_removes_keys_jwts_and_bearer_credentials(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_redact_removes_the_given_secrets_and_ignores_empty_ones() -> None:
    assert redact("legacy-key-42 twice legacy-key-42", "legacy-key-42", "") == (
        "[redacted] twice [redacted]"
    )
    assert redact("untouched", "") == "untouched"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Ada\x00 Lovelace\n", "Ada Lovelace"),
        ("a\tb\r\nc", "a b c"),
        ("lone \ud800 surrogate", "lone surrogate"),
        ("\x1b[31mred\x7f", "[31mred"),
        ("\x00\n\t", ""),
        ("Zoë  Ünïcode", "Zoë Ünïcode"),
    ],
)
def test_one_line_replaces_control_characters_and_collapses_whitespace(
    text: str, expected: str
) -> None:
    assert one_line(text) == expected


def test_has_control_finds_control_characters_and_surrogates() -> None:
    assert has_control("a\nb")
    assert has_control("nul\x00")
    assert has_control("\udfff")
    assert not has_control("plain text, with ünïcode and spaces")


def test_is_storable_refuses_only_nul_and_surrogates() -> None:
    assert is_storable("two\nlines\tand a tab")
    assert not is_storable("nul\x00")
    assert not is_storable("half \ud83d of an emoji")
    assert is_storable("a whole 😀 emoji")


def test_excerpt_of_bytes_is_decoded_redacted_and_on_one_line() -> None:
    body = f"<h1>502</h1>\n<p>token {JWT} </p>\n".encode() + b"bad \xff\xfe bytes"
    assert excerpt(body) == "<h1>502</h1> <p>token [redacted] </p> bad \ufffd\ufffd bytes"


def test_excerpt_is_capped_with_an_ellipsis() -> None:
    text = excerpt("x" * 5000)
    assert len(text) == EXCERPT_LENGTH
    assert text.endswith("…")
    assert excerpt("short") == "short"


def test_excerpt_redacts_the_given_secret_and_reads_only_the_start_of_bytes() -> None:
    secret = "legacy-4f1c9e7a2b8d3065a9"
    assert excerpt(f"echo {secret}", secret) == "echo [redacted]"
    # A key beyond the bytes an excerpt reads never reaches it.
    assert secret not in excerpt(b"x" * (EXCERPT_LENGTH * 4) + secret.encode())


def test_error_record_of_an_upsolve_error_is_its_text() -> None:
    err = UpsolveUnavailable("Upsolve is unavailable.", status_code=503, call="user-token")
    assert error_record(err) == str(err) == "Upsolve user-token: HTTP 503 Upsolve is unavailable."


def test_error_record_is_cut_redacted_and_storable() -> None:
    assert len(error_record(ValueError("y" * 2000))) == ERROR_RECORD_LENGTH
    assert error_record(ValueError("z" * 100), length=10) == "z" * 10
    record = error_record(RuntimeError(f"failed\x00 with\nBearer {JWT}"))
    assert record == "failed with [redacted]"
    assert is_storable(record)


def test_describe_names_the_class_and_shows_a_redacted_excerpt_on_one_line() -> None:
    err = ConnectionError("Error connecting to redis://default:s3cret@cache:6379\n" + "x" * 500)
    text = describe(err)
    assert text.startswith("ConnectionError: Error connecting to redis://[redacted]@cache:6379 x")
    assert "s3cret" not in text
    assert len(text) == len("ConnectionError: ") + EXCERPT_LENGTH
    assert describe(KeyError()) == "KeyError"
    assert describe(ValueError("a hunter2 b"), "hunter2") == "ValueError: a [redacted] b"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("ada", "ada"),
        ("Zoë Ørsted", "Zoë Ørsted"),
        ("ada\nbob", "'ada\\nbob'"),
        ("x\x1b[2Jy", "'x\\x1b[2Jy'"),
        ("a\u200bb", "'a\\u200bb'"),
    ],
)
def test_printable_quotes_what_would_not_print_as_itself(text, shown):
    assert printable(text) == shown
