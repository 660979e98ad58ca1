"""The configured API key is redacted whatever its form, before any cut; URLs lose their
credentials wherever they are shown."""

from __future__ import annotations

import base64
import logging
from io import StringIO
from typing import Any

import pytest
import responses
from django.core.management import call_command

from django_upsolve import exceptions as exc
from django_upsolve.budget import CallPolicy
from django_upsolve.client import UpsolveClient
from django_upsolve.payloads import OrganizationFields
from django_upsolve.redaction import REDACTED, excerpt, redact, redact_url
from tests.helpers import API_KEY

API = "https://api.upsolve.test/v1/api/projects"
USER = "8a2f6c1e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
#: A key without the up_admin_/up_embed_ prefix (allowed, with a warning).
PREFIXLESS = "sk_live_4f1c9e7a2b8d3065a9c7"
#: A key whose base64 holds both characters the two alphabets write differently.
ODD = "k3y~~~~>?0123abcd"
KEYS = [API_KEY, PREFIXLESS, ODD]


@pytest.fixture(params=KEYS, ids=["prefixed", "prefixless", "base64-odd"])
def key(request: pytest.FixtureRequest, set_upsolve: Any) -> str:
    """Each test runs with each key configured as ``UPSOLVE["API_KEY"]``."""
    set_upsolve(API_KEY=request.param)
    return str(request.param)


def windows(key: str, size: int = 8) -> list[str]:
    """Every run of ``size`` characters of ``key``: none may show anywhere."""
    return [key[i : i + size] for i in range(len(key) - size + 1)]


def assert_no_trace(text: str, key: str) -> None:
    for window in windows(key):
        assert window not in text, f"{window!r} of the key leaked in {text!r}"


def escaped_forms(key: str) -> dict[str, str]:
    raw = key.encode()
    return {
        "as is": key,
        "json \\u lower": "".join(f"\\u{ord(c):04x}" for c in key),
        "json \\u upper, mixed with plain": "".join(
            f"\\u{ord(c):04X}" if i % 2 else c for i, c in enumerate(key)
        ),
        "percent upper": "".join(f"%{b:02X}" for b in raw),
        "percent lower, mixed": "".join(
            f"%{b:02x}" if i % 3 else chr(b) for i, b in enumerate(raw)
        ),
        "html decimal": "".join(f"&#{ord(c)};" for c in key),
        "html hex": "".join(f"&#x{ord(c):X};" for c in key),
    }


def base64_forms(key: str) -> dict[str, str]:
    forms = {}
    for offset in range(3):
        data = b"\xfb\xff"[:offset] + key.encode() + b"\xfe"
        for alphabet, encode in (("std", base64.b64encode), ("urlsafe", base64.urlsafe_b64encode)):
            encoded = encode(data).decode()
            forms[f"{alphabet} at {offset}, padded"] = encoded
            forms[f"{alphabet} at {offset}, unpadded"] = encoded.rstrip("=")
    return forms


# The forms of the key -----------------------------------------------------------------


@pytest.mark.parametrize("form", list(escaped_forms(PREFIXLESS)))
def test_every_escaped_form_of_the_key_is_redacted(key: str, form: str) -> None:
    echoed = escaped_forms(key)[form]
    assert redact(f"echo {echoed} end") == f"echo {REDACTED} end"


@pytest.mark.parametrize("form", list(base64_forms(PREFIXLESS)))
def test_base64_of_the_key_is_redacted_at_any_alignment(key: str, form: str) -> None:
    echoed = base64_forms(key)[form]
    text = redact(f"echo {echoed} end")
    assert echoed not in text
    assert text.startswith("echo ") and text.endswith(" end")
    # Only the few characters that mix in the bytes around the key (and padding) are left.
    left = text.removeprefix("echo ").removesuffix(" end").split(REDACTED)
    assert len(left) == 2
    assert len(left[0]) <= 3 and len(left[1]) <= 4


def test_the_odd_key_really_has_both_alphabet_differences() -> None:
    encoded = base64.b64encode(ODD.encode()).decode()
    assert "+" in encoded and "/" in encoded


def test_the_key_material_without_its_prefix_is_redacted(set_upsolve: Any) -> None:
    set_upsolve(API_KEY="up_admin_Zx81kQ0pL3vN7sR2")
    assert redact("field Zx81kQ0pL3vN7sR2 invalid") == f"field {REDACTED} invalid"


def test_short_key_material_is_not_redacted_alone(set_upsolve: Any) -> None:
    set_upsolve(API_KEY="up_embed_abc")
    assert redact("abc up_embed_abc") == f"abc {REDACTED}"


def test_a_stripped_key_is_redacted_when_the_setting_has_a_newline(set_upsolve: Any) -> None:
    set_upsolve(API_KEY=PREFIXLESS + "\n")
    assert redact(f"echo {PREFIXLESS}.") == f"echo {REDACTED}."


def test_a_secret_given_to_redact_gets_the_same_treatment() -> None:
    secret = "given-secret-0123456789"
    encoded = base64.b64encode(secret.encode()).decode()
    text = redact(f"{encoded} and {secret[:12]}", secret)
    assert text.startswith(REDACTED)
    assert text.endswith(f" and {REDACTED}")
    assert_no_trace(text, encoded)


def test_short_configured_keys_are_redacted_only_as_they_are(set_upsolve: Any) -> None:
    set_upsolve(API_KEY="k1234")
    assert redact("k1234 and %6B1234") == f"{REDACTED} and %6B1234"


# A cut never leaves the start of the key -----------------------------------------------


@pytest.mark.parametrize("kept", [8, 12, -1])
def test_a_text_ending_with_the_start_of_the_key_is_redacted(key: str, kept: int) -> None:
    assert redact("x" * 10 + key[:kept]) == "x" * 10 + REDACTED


def test_fewer_than_eight_characters_of_the_key_at_the_end_are_left(key: str) -> None:
    assert redact("total " + key[:7]) == "total " + key[:7]


def test_the_cut_start_of_an_escaped_or_base64_key_is_redacted(key: str) -> None:
    escaped = "".join(f"\\u{ord(c):04x}" for c in key[:9])
    assert redact("x " + escaped) == "x " + REDACTED
    encoded = base64.b64encode(key.encode()).decode()[:12]
    assert redact("x " + encoded) == "x " + REDACTED


def test_half_the_key_or_more_inside_a_text_is_redacted(key: str) -> None:
    # As a server that shortens what it echoes leaves it.
    material = key.removeprefix("up_admin_")
    half = max(8, len(material) // 2)
    assert redact(f"key {material[:half]}... rejected") == f"key {REDACTED}... rejected"
    assert redact(f"{material[: half + 3]} then more") == f"{REDACTED} then more"


def test_the_start_of_the_key_continued_by_other_text_is_not_a_cut() -> None:
    assert redact(f"{PREFIXLESS[:20]}zz then more") == f"{PREFIXLESS[:20]}zz then more"


@pytest.mark.parametrize("spaces", ["", "  "])
def test_the_public_prefix_of_a_key_is_left_inside_a_text(set_upsolve: Any, spaces: str) -> None:
    set_upsolve(API_KEY=spaces + "up_admin_Zx81kQ0pL3vN7sR2")
    message = "starts with neither 'up_admin_' nor 'up_embed_': use an up_admin_ key"
    assert redact(message) == message


def test_a_key_starting_like_a_word_leaves_that_word_inside_a_text(set_upsolve: Any) -> None:
    set_upsolve(API_KEY="up_admin_test_mode_placeholder")
    assert redact("UPSOLVE test_mode is on") == "UPSOLVE test_mode is on"
    assert redact("echo test_mode_placeh") == f"echo {REDACTED}"  # cut at the end


def test_an_excerpt_redacts_before_it_cuts(key: str) -> None:
    # Whitespace runs shrink to one space: the key lands inside the excerpt, though it starts
    # near the 800th byte of the body, where excerpts used to stop reading.
    body = b" " * 790 + f"echo {key} tail".encode()
    assert excerpt(body) == f"echo {REDACTED} tail"
    assert_no_trace(excerpt(b"x" * 190 + key.encode()), key)


def test_an_excerpt_of_a_body_cut_inside_the_key_leaves_none_of_it(key: str) -> None:
    text = excerpt(("x" * 100 + key[:-3]).encode())
    assert text == "x" * 100 + REDACTED


# Through the client: the 422 error, the excerpt and the log lines --------------------


@pytest.fixture
def client() -> UpsolveClient:
    return UpsolveClient.from_settings()


@pytest.mark.django_db
def test_a_422_naming_the_key_as_a_field_does_not_leak_it(
    key: str, client: UpsolveClient, http: responses.RequestsMock
) -> None:
    http.post(
        f"{API}/register-organization",
        status=422,
        json={"status": "error", "message": key, "errors": [{"field": key, "message": key}]},
    )
    with pytest.raises(exc.UpsolveValidationError) as caught:
        client.register_organization(
            fields=OrganizationFields.build(name="Acme", external_id="acme"),
            policy=CallPolicy.within(5, max_retries=0),
        )
    assert str(caught.value) == (
        f"Upsolve register-organization: HTTP 422 Upsolve rejected the request "
        f"(fields: {REDACTED})."
    )


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["x" * 40 + "{key}", "\\u00{escaped}"])
def test_a_field_name_is_redacted_before_it_is_shortened(
    key: str, client: UpsolveClient, http: responses.RequestsMock, field: str
) -> None:
    escaped = "".join(f"\\u{ord(char):04x}" for char in key)
    name = field.format(key=key, escaped=escaped[4:])
    http.post(f"{API}/register-organization", status=422, json={"errors": [{"field": name}]})
    with pytest.raises(exc.UpsolveValidationError) as caught:
        client.register_organization(
            fields=OrganizationFields.build(name="Acme", external_id="acme"),
            policy=CallPolicy.within(5, max_retries=0),
        )
    assert REDACTED in str(caught.value)
    assert_no_trace(str(caught.value), key)


@pytest.mark.django_db
@pytest.mark.parametrize("form", ["as is", "json \\u lower", "percent upper", "std at 1, padded"])
def test_echoes_of_the_key_never_reach_errors_or_logs(
    key: str,
    form: str,
    client: UpsolveClient,
    http: responses.RequestsMock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    echoed = {**escaped_forms(key), **base64_forms(key)}[form]
    body = " " * 790 + f"<p>bad key {echoed}</p>"
    http.post(f"{API}/user-token", status=503, body=body)
    caplog.set_level(logging.DEBUG, logger="django_upsolve")
    with pytest.raises(exc.UpsolveUnavailable) as caught:
        client.user_token(user_id=USER, expiration=60, policy=CallPolicy.within(5, max_retries=1))
    err = caught.value
    assert len(http.calls) == 2
    assert "Retrying Upsolve user-token" in caplog.text
    assert err.body_excerpt.startswith("<p>bad key ")
    assert REDACTED in err.body_excerpt
    for text in (str(err), repr(err), err.body_excerpt, caplog.text):
        assert_no_trace(text, key)
        assert_no_trace(text, echoed)


# URLs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pa55@api.test:8443/v1?x=1", f"https://{REDACTED}@api.test:8443/v1?x=1"),
        ("https://token@api.test/v1", f"https://{REDACTED}@api.test/v1"),
        ("https://api.test/v1", "https://api.test/v1"),
        ("https://[::1/v1", "https://[::1/v1"),  # malformed: redacted as text, never raises
    ],
)
def test_redact_url_removes_the_credentials(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GET https://u:p@h.test/x failed", f"GET https://{REDACTED}@h.test/x failed"),
        ("('HTTP://a%40b:c@h.test')", f"('HTTP://{REDACTED}@h.test')"),
        ("mail a@b.test", "mail a@b.test"),
        ("https://h.test/path@x", "https://h.test/path@x"),
    ],
)
def test_redact_removes_credentials_from_urls_in_text(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_the_clients_repr_hides_url_credentials() -> None:
    client = UpsolveClient(
        api_key=PREFIXLESS,
        project_id="p",
        api_url="https://user:pa55word@api.test/v1",
        timeout=(1, 1),
        max_response_bytes=100,
    )
    assert "pa55word" not in repr(client)
    assert f"https://{REDACTED}@api.test/v1" in repr(client)


def status() -> str:
    out = StringIO()
    call_command("upsolve_status", stdout=out, no_color=True)
    return out.getvalue()


@pytest.mark.django_db
def test_upsolve_status_prints_the_api_url_without_credentials(set_upsolve: Any) -> None:
    set_upsolve(API_URL="https://admin:pa55word@api.upsolve.test/v1")
    output = status()
    assert f"API URL: https://{REDACTED}@api.upsolve.test/v1" in output
    assert "pa55word" not in output
    assert "admin:" not in output


# The bare prefixes are words, not keys ---------------------------------------------------


def test_the_bare_prefixes_are_not_redacted() -> None:
    text = "UPSOLVE['API_KEY'] starts with neither 'up_admin_' nor 'up_embed_'."
    assert redact(text) == text
    assert redact("key up_admin_x1 used") == f"key {REDACTED} used"


@pytest.mark.django_db
def test_upsolve_status_names_the_prefixes_a_key_lacks(set_upsolve: Any) -> None:
    set_upsolve(API_KEY="sk_live_123")
    output = status()
    assert "starts with neither 'up_admin_' nor 'up_embed_'" in output
    assert "sk_live_123" not in output
