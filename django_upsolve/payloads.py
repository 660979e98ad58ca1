"""Building request bodies: names cleaned and capped, properties encoded or refused.

Everything here runs before any network call, so a value the contract would
reject raises ``UpsolveInvalidRequest`` and no partial request is ever sent.
Registration values are checked once, as ``OrganizationFields`` and ``UserFields``.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import json
import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise

from .exceptions import UpsolveInvalidRequest
from .redaction import has_control, is_storable, one_line

MAX_NAME_LENGTH = 255
MAX_PROPERTIES = 50
MAX_PROPERTY_VALUE_LENGTH = 1024
MAX_EXTERNAL_ID_LENGTH = 255
#: Larger integers lose precision as JSON numbers in JavaScript (``Number.MAX_SAFE_INTEGER``).
MAX_SAFE_INTEGER = 2**53 - 1
PROPERTY_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")

PropertyValue = str | int | float


def clean_text(value: object, *, field: str, max_length: int = MAX_NAME_LENGTH) -> str:
    """A display string without control characters, stripped and capped at ``max_length``."""
    if isinstance(value, Promise):
        value = str(value)
    if not isinstance(value, str):
        raise UpsolveInvalidRequest(f"{field} must be a string.")
    # Drop control characters (NUL, newlines...) and lone surrogates, which are not UTF-8.
    text = one_line(value)[:max_length]
    if not text:
        raise UpsolveInvalidRequest(f"{field} must not be empty.")
    return text


def external_id_text(value: object) -> str:
    """An ``externalId`` exactly as given, or ``UpsolveInvalidRequest``.

    It identifies a tenant, so it is never cleaned or cut: two ids made equal that way
    would merge two tenants' data.
    """
    if isinstance(value, Promise):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise UpsolveInvalidRequest("externalId must be a non-empty string.")
    if len(value) > MAX_EXTERNAL_ID_LENGTH or has_control(value):
        raise UpsolveInvalidRequest(
            f"externalId must be at most {MAX_EXTERNAL_ID_LENGTH} characters, without control "
            "characters."
        )
    return value


def uuid_text(value: object, *, field: str) -> str:
    """The canonical lower-case form of a UUID, or ``UpsolveInvalidRequest``."""
    try:
        return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError) as err:
        raise UpsolveInvalidRequest(f"{field} must be a UUID.") from err


def encode_property(key: str, value: object) -> PropertyValue:
    """Encode one property value as a string or a number, or refuse it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise UpsolveInvalidRequest(
                f"Property {key!r} is too large a number to arrive exactly; send it as a string."
            )
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UpsolveInvalidRequest(f"Property {key!r} must be a finite number.")
        return value
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise UpsolveInvalidRequest(f"Property {key!r} must be a finite number.")
        text = str(value)
    elif isinstance(value, (uuid.UUID, datetime.date, datetime.time)):
        text = value.isoformat() if not isinstance(value, uuid.UUID) else str(value)
    elif isinstance(value, (str, Promise)):
        text = str(value)
    else:
        raise UpsolveInvalidRequest(
            f"Property {key!r} is of type {type(value).__name__}; use a string or a number."
        )
    if not is_storable(text):
        raise UpsolveInvalidRequest(f"Property {key!r} must be valid text without NUL.")
    if len(text) > MAX_PROPERTY_VALUE_LENGTH:
        raise UpsolveInvalidRequest(
            f"Property {key!r} is longer than {MAX_PROPERTY_VALUE_LENGTH} characters."
        )
    return text


def encode_properties(properties: Mapping[str, Any] | None) -> dict[str, PropertyValue]:
    """Encode a properties mapping for the RLS ``{{user.<key>}}`` values, or refuse it."""
    if properties is None:
        return {}
    if not isinstance(properties, Mapping):
        raise UpsolveInvalidRequest("properties must be a mapping.")
    if len(properties) > MAX_PROPERTIES:
        raise UpsolveInvalidRequest(f"At most {MAX_PROPERTIES} properties may be sent.")
    encoded: dict[str, PropertyValue] = {}
    for key, value in properties.items():
        if not isinstance(key, str) or not PROPERTY_KEY.fullmatch(key):
            raise UpsolveInvalidRequest(
                "Property names must be identifiers (letters, digits, underscore; at most 64)."
            )
        encoded[key] = encode_property(key, value)
    return encoded


@dataclass(frozen=True)
class OrganizationFields:
    """What Upsolve is told about an organization, cleaned and checked by :meth:`build`.

    Built once per operation, then compared with what was stored, sent, and stored in turn.
    The constructor itself checks nothing: it rebuilds values that were checked before.
    """

    external_id: str
    name: str
    properties: dict[str, PropertyValue]

    @classmethod
    def build(
        cls, *, external_id: object, name: object, properties: Mapping[str, Any] | None = None
    ) -> OrganizationFields:
        """The fields for these raw values, or ``UpsolveInvalidRequest``."""
        return cls(
            external_id=external_id_text(external_id),
            name=clean_text(name, field="name"),
            properties=encode_properties(properties),
        )

    def to_body(self, *, project_id: str) -> dict[str, Any]:
        """The body of ``/register-organization``."""
        return {
            "projectId": uuid_text(project_id, field="projectId"),
            "name": self.name,
            "externalId": self.external_id,
            "properties": self.properties,
        }


@dataclass(frozen=True)
class UserFields:
    """What Upsolve is told about a user (name, role, properties), checked by :meth:`build`.

    Like :class:`OrganizationFields`: built once, then compared, sent and stored as is.
    """

    name: str
    role_id: str
    properties: dict[str, PropertyValue]

    @classmethod
    def build(
        cls, *, name: object, role_id: object, properties: Mapping[str, Any] | None = None
    ) -> UserFields:
        """The fields for these raw values, the role as a canonical UUID; or
        ``UpsolveInvalidRequest``."""
        return cls(
            name=clean_text(name, field="name"),
            role_id=uuid_text(role_id, field="userRoleId"),
            properties=encode_properties(properties),
        )

    @property
    def fingerprint(self) -> str:
        """A digest of these fields: stored with a token, compared on every render, so that a
        role or property change voids the token at once (no secret: role ids are not)."""
        canonical = json.dumps([self.name, self.role_id, self.properties], sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]

    def to_body(
        self, *, project_id: str, organization_id: object, user_id: object
    ) -> dict[str, Any]:
        """The body of ``/register-user`` for this user in organization ``organization_id``."""
        return {
            "projectId": uuid_text(project_id, field="projectId"),
            "projectOrganizationId": uuid_text(organization_id, field="projectOrganizationId"),
            "userId": uuid_text(user_id, field="userId"),
            "userRoleId": self.role_id,
            "name": self.name,
            "properties": self.properties,
        }


def token_body(
    *, user_id: object, expiration: int, organization_id: object | None = None
) -> dict[str, Any]:
    """The body of ``/user-token`` (expiration in seconds; the organization when known)."""
    if isinstance(expiration, bool) or not isinstance(expiration, int) or expiration <= 0:
        raise UpsolveInvalidRequest("expiration must be a positive number of seconds.")
    body: dict[str, Any] = {"userId": uuid_text(user_id, field="userId"), "expiration": expiration}
    if organization_id is not None:
        body["organizationId"] = uuid_text(organization_id, field="organizationId")
    return body
