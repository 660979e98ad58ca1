"""Text made safe to show, log or store: secrets redacted, control characters removed.

Errors, admin pages and commands show text that may echo an answer from Upsolve, so it
passes through :func:`redact` first. It removes the configured ``UPSOLVE["API_KEY"]``
whatever its form (with or without its ``up_admin_``/``up_embed_`` prefix), also when it is
echoed escaped (JSON ``\\u``, percent-encoding, HTML character references, base64 at any
alignment) or cut short (its start at the end of the text, or at least half of it anywhere),
then anything shaped like a key, a JWT, a bearer credential or credentials in a URL.
:func:`excerpt` redacts the whole text before cutting it. Names sent to Upsolve and errors
stored in the database pass through :func:`one_line`: a NUL cannot be stored by PostgreSQL
and a lone surrogate cannot be encoded as UTF-8.
"""

from __future__ import annotations

import base64
import codecs
import contextlib
import functools
import math
import re
import unicodedata
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

#: At most this many characters of an answer are kept in an error.
EXCERPT_LENGTH = 200
#: At most this many bytes of an answer are read for an excerpt (whitespace runs shrink to one
#: space, so more than ``EXCERPT_LENGTH`` characters are read), all redacted before the cut.
EXCERPT_READ_BYTES = 64 * 1024
#: At most this many characters of an error are recorded on a tenant or profile.
ERROR_RECORD_LENGTH = 500
REDACTED = "[redacted]"
#: Secrets at least this long are also looked for escaped, in base64, and cut short to a start
#: of at least this length at the end of a text; shorter ones only as they are (their forms
#: would match any text).
MIN_SECRET_LENGTH = 8

#: Unicode categories removed from text: control characters and lone surrogates.
CONTROL_CATEGORIES = frozenset({"Cc", "Cs"})
#: The characters of those categories (C0, DEL, C1; the surrogate range).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

_SECRET_PATTERNS = (
    # Upsolve API keys: a prefix followed by key material (a bare prefix is only a word).
    re.compile(r"up_(?:admin|embed)_[A-Za-z0-9_\-]+"),
    # Anything shaped like a JWT (three base64url segments, the first a JSON object).
    re.compile(r"eyJ[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"),
    # Bearer credentials of any form.
    re.compile(r"(?i)bearer\s+\S+"),
)
#: The prefix of Upsolve API keys.
_KEY_PREFIX = re.compile(r"\Aup_(?:admin|embed)_")
#: The user name and password of a URL (``https://user:pass@host``).
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^\s/?#@\[\]]+@")
#: Characters JSON may escape with a backslash alone.
_JSON_ESCAPED = frozenset('"\\/')
#: The two base64 alphabets differ in two characters: standard ``+/``, URL-safe ``-_``.
_BASE64_TWINS = {"+": "-", "/": "_", "-": "+", "_": "/"}


def redact(text: str, *secrets: str) -> str:
    """Remove the configured API key, the given secrets, anything shaped like an API key,
    a JWT or bearer credentials, and the credentials of URLs from ``text``."""
    for secret in _variants((*secrets, *_configured_secrets())):
        text = _redact_secret(text, secret)
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(REDACTED, text)
    return _URL_CREDENTIALS.sub(rf"\1{REDACTED}@", text)


def redact_url(url: str) -> str:
    """``url`` fit to print: its user name and password, and any secret in it, redacted."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. a malformed IPv6 host: redacted as text.
        return redact(url)
    if "@" in parts.netloc:
        host = parts.netloc.rpartition("@")[2]
        url = urlunsplit(parts._replace(netloc=f"{REDACTED}@{host}"))
    return redact(url)


def _configured_secrets() -> tuple[str, ...]:
    """``UPSOLVE["API_KEY"]`` when it is a non-empty string (read as written: redaction never
    raises over a setting the checks reject)."""
    if not settings.configured:
        return ()
    values = getattr(settings, "UPSOLVE", None)
    key = values.get("API_KEY") if isinstance(values, Mapping) else None
    return (key,) if isinstance(key, str) and key else ()


def _variants(secrets: tuple[str, ...]) -> list[str]:
    """Each secret as given, stripped, and without a key prefix (an answer may echo only the
    key material; not when that is shorter than ``MIN_SECRET_LENGTH``: it could be any word),
    longest first, so that a longer form is redacted whole."""
    found: set[str] = set()
    for secret in secrets:
        stripped = secret.strip()
        found.update((secret, stripped))
        material = _KEY_PREFIX.sub("", stripped)
        if len(material) >= MIN_SECRET_LENGTH:
            found.add(material)
    found.discard("")
    return sorted(found, key=len, reverse=True)


def _redact_secret(text: str, secret: str) -> str:
    if len(secret) < MIN_SECRET_LENGTH:
        return text.replace(secret, REDACTED)
    whole, cut = _secret_patterns(secret)
    return cut.sub(REDACTED, whole.sub(REDACTED, text))


@functools.lru_cache(maxsize=32)
def _secret_patterns(secret: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Two patterns for ``secret``: any of its forms, and the start of one of its forms where
    a cut (ours or the echoing server's) left it.

    At the very end of a text, ``MIN_SECRET_LENGTH`` units of the start are enough. Inside a
    text, at least half of the form must be there, ending where a word ends: a secret may
    start like a word (``test_mode_…``), and that word must stay readable. A key's own start
    is its public prefix, a word of the docs and of our messages, so for the prefixed form
    only the end of a text counts (its material, which :func:`_variants` adds, counts
    anywhere).
    """
    forms = [[_char_pattern(char) for char in secret]]
    for data in dict.fromkeys(_encodings(secret)):
        forms.extend([_base64_char_pattern(char) for char in core] for core in _base64_cores(data))
    long_forms = [units for units in forms if len(units) >= MIN_SECRET_LENGTH]
    whole = "|".join("".join(units) for units in forms)
    at_end = "|".join(_start_of(units, MIN_SECRET_LENGTH) for units in long_forms)
    cuts = [f"(?:{at_end})\\Z"]
    if not _KEY_PREFIX.match(secret.strip()):
        inside = "|".join(
            _start_of(units, max(MIN_SECRET_LENGTH, len(units) // 2)) for units in long_forms
        )
        cuts.append(f"(?:{inside})(?![A-Za-z0-9_\\-])")
    return re.compile(whole), re.compile("|".join(cuts))


def _char_pattern(*chars: str | None) -> str:
    """One character as it may be written: itself, JSON-escaped, percent-encoded (its UTF-8
    or Latin-1 bytes) or as an HTML character reference."""
    forms: list[str] = []
    for char in filter(None, chars):
        code = ord(char)
        forms.append(re.escape(char))
        if char in _JSON_ESCAPED:
            forms.append(re.escape("\\" + char))
        units = [code] if code < 0x10000 else _surrogates(code)
        forms.append("".join(rf"\\u(?i:{unit:04x})" for unit in units))
        forms.append(rf"&#(?:0*{code}|(?i:x0*{code:x}));?")
        forms.extend("".join(rf"%(?i:{byte:02x})" for byte in data) for data in _encodings(char))
    return "(?:" + "|".join(dict.fromkeys(forms)) + ")"


def _encodings(text: str) -> list[bytes]:
    """``text`` in UTF-8, and in Latin-1 when it can be (HTTP headers travel in Latin-1)."""
    encoded = [text.encode("utf-8", errors="surrogatepass")]
    with contextlib.suppress(UnicodeEncodeError):
        encoded.append(text.encode("latin-1"))
    return encoded


def _base64_char_pattern(char: str) -> str:
    """One base64 character in either alphabet; the non-alphanumeric ones also escaped."""
    if char.isalnum():
        return char
    return _char_pattern(char, _BASE64_TWINS[char])


def _surrogates(code: int) -> list[int]:
    code -= 0x10000
    return [0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)]


def _base64_cores(data: bytes) -> list[str]:
    """The base64 characters that encode only ``data``, wherever it starts in a 3-byte group:
    those mixing in bits of the bytes before or after it, and padding, are left out."""
    cores = []
    for offset in range(3):
        encoded = base64.b64encode(bytes(offset) + data).decode("ascii")
        first = math.ceil(offset * 8 / 6)
        last = (offset + len(data)) * 8 // 6
        cores.append(encoded[first:last])
    return cores


def _start_of(units: list[str], least: int) -> str:
    """A pattern matching the first ``least`` or more ``units`` (nested so that each further
    unit is optional)."""
    required = "".join(units[:least])
    rest = units[least:]
    return required + "".join(f"(?:{unit}" for unit in rest) + ")?" * len(rest)


def is_control(ch: str) -> bool:
    """Whether ``ch`` is a control character (NUL, newline, tab...) or a lone surrogate."""
    return unicodedata.category(ch) in CONTROL_CATEGORIES


def has_control(text: str) -> bool:
    """Whether ``text`` holds a control character or a lone surrogate."""
    return any(is_control(ch) for ch in text)


def is_storable(text: str) -> bool:
    """Whether ``text`` encodes as UTF-8 and fits a PostgreSQL text column (no lone surrogate,
    no NUL); other control characters, such as newlines, are kept."""
    return "\x00" not in text and not any(unicodedata.category(ch) == "Cs" for ch in text)


def one_line(text: str) -> str:
    """``text`` on one line: control characters become spaces, runs of whitespace one space,
    and the ends are stripped."""
    return " ".join(_CONTROL.sub(" ", text).split())


def printable(text: str) -> str:
    """``text`` where it prints as itself on one line, else its ``repr``: in a report, a name
    holding a newline or a terminal escape cannot pose as another line."""
    return text if text.isprintable() else repr(text)


def excerpt(body: bytes | str, *secrets: str) -> str:
    """A one-line, redacted excerpt of at most ``EXCERPT_LENGTH`` characters of a body.

    The text read is redacted whole before it is cut, so a cut never splits a secret.
    """
    if isinstance(body, bytes):
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        final = len(body) <= EXCERPT_READ_BYTES
        # Not final: a character cut in half at the end is dropped, not replaced.
        body = decoder.decode(body[:EXCERPT_READ_BYTES], final=final)
    text = redact(one_line(body[:EXCERPT_READ_BYTES]), *secrets)
    if len(text) > EXCERPT_LENGTH:
        text = text[: EXCERPT_LENGTH - 1] + "…"
    return text


def describe(err: BaseException, *secrets: str) -> str:
    """``err`` on one short line for a log line, a check or a command's output: its class and
    a redacted excerpt of its text, no traceback."""
    text = excerpt(str(err), *secrets)
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def error_record(err: BaseException, length: int = ERROR_RECORD_LENGTH) -> str:
    """``err`` as the text recorded in a ``last_error`` field: redacted, on one line, cut at
    ``length`` characters. (An ``UpsolveError``'s text is already redacted and on one line.)"""
    return one_line(redact(str(err)))[:length]
