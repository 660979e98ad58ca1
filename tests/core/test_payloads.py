"""Registration fields: cleaned and checked once by ``build``, then compared and serialized."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import uuid
from typing import Any

import pytest
from django.utils.functional import lazystr

from django_upsolve.exceptions import UpsolveInvalidRequest
from django_upsolve.payloads import OrganizationFields, UserFields

PROJECT = "1f0c6a34-54d4-4b57-9d0a-7c1c8a3a9e10"
ROLE = "5b1ad0a2-7d8e-4a43-9f39-3b7fd1f4f6c2"
ORG = "0d4b9b52-1d3c-4c8e-9a51-2f7f3b2d9c11"
USER = "8a2f6c1e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"


# OrganizationFields ----------------------------------------------------------------------


def test_an_organization_name_is_cleaned_and_its_external_id_kept_exactly():
    fields = OrganizationFields.build(
        external_id=" Acme/1 ", name=lazystr("  Acme\x00\nCorp\t"), properties=None
    )
    assert fields == OrganizationFields(external_id=" Acme/1 ", name="Acme Corp", properties={})


def test_organization_properties_are_encoded():
    fields = OrganizationFields.build(
        external_id="acme",
        name="Acme",
        properties={
            "paid": True,
            "seats": 3,
            "rate": decimal.Decimal("1.50"),
            "since": datetime.date(2024, 2, 29),
            "plan": lazystr("pro"),
        },
    )
    assert fields.properties == {
        "paid": "true",
        "seats": 3,
        "rate": "1.50",
        "since": "2024-02-29",
        "plan": "pro",
    }


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"name": "   "}, "name must not be empty"),
        ({"name": 42}, "name must be a string"),
        ({"external_id": ""}, "externalId must be a non-empty string"),
        ({"external_id": "a\nb"}, "without control characters"),
        ({"external_id": "x" * 256}, "at most 255 characters"),
        ({"properties": ["plan"]}, "properties must be a mapping"),
        ({"properties": {"1st": "x"}}, "Property names must be identifiers"),
        ({"properties": {"when": object()}}, "is of type object; use a string or a number"),
        ({"properties": {"big": 2**53}}, "send it as a string"),
        ({"properties": {f"p{i}": i for i in range(51)}}, "At most 50 properties"),
    ],
)
def test_an_organization_the_contract_refuses_is_refused_by_build(
    values: dict[str, Any], message: str
):
    raw: dict[str, Any] = {"external_id": "acme", "name": "Acme", "properties": {}, **values}
    with pytest.raises(UpsolveInvalidRequest, match=message):
        OrganizationFields.build(**raw)


def test_the_organization_body_sends_the_fields_as_built():
    fields = OrganizationFields.build(external_id="acme", name=" Acme ", properties={"n": 1})
    assert fields.to_body(project_id=PROJECT.upper()) == {
        "projectId": PROJECT,
        "name": "Acme",
        "externalId": "acme",
        "properties": {"n": 1},
    }
    with pytest.raises(UpsolveInvalidRequest, match="projectId must be a UUID"):
        fields.to_body(project_id="not-a-project")


# UserFields ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [ROLE.upper(), uuid.UUID(ROLE), f"{{{ROLE}}}"])
def test_a_role_is_kept_in_canonical_form(role: object):
    assert UserFields.build(name="Ada", role_id=role).role_id == ROLE


def test_a_user_is_cleaned_like_an_organization():
    fields = UserFields.build(
        name="\tAda \r\n Lovelace ", role_id=ROLE, properties={"organization_id": "acme"}
    )
    assert fields == UserFields(
        name="Ada Lovelace", role_id=ROLE, properties={"organization_id": "acme"}
    )
    assert UserFields.build(name="Ada", role_id=ROLE).properties == {}
    assert len(UserFields.build(name="x" * 300, role_id=ROLE).name) == 255


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"role_id": "admin"}, "userRoleId must be a UUID"),
        ({"role_id": None}, "userRoleId must be a UUID"),
        ({"name": ""}, "name must not be empty"),
        ({"properties": {"note": "a\x00b"}}, "without NUL"),
        ({"properties": {"note": "x" * 1025}}, "longer than 1024"),
    ],
)
def test_a_user_the_contract_refuses_is_refused_by_build(values: dict[str, Any], message: str):
    raw: dict[str, Any] = {"name": "Ada", "role_id": ROLE, "properties": {}, **values}
    with pytest.raises(UpsolveInvalidRequest, match=message):
        UserFields.build(**raw)


def test_the_user_body_adds_the_ids_in_canonical_form():
    fields = UserFields.build(name="Ada", role_id=ROLE.upper(), properties={"n": 1})
    body = fields.to_body(project_id=PROJECT, organization_id=ORG.upper(), user_id=uuid.UUID(USER))
    assert body == {
        "projectId": PROJECT,
        "projectOrganizationId": ORG,
        "userId": USER,
        "userRoleId": ROLE,
        "name": "Ada",
        "properties": {"n": 1},
    }


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ({"organization_id": "acme"}, "projectOrganizationId must be a UUID"),
        ({"user_id": "42"}, "userId must be a UUID"),
    ],
)
def test_the_user_body_refuses_ids_that_are_not_uuids(ids: dict[str, str], message: str):
    fields = UserFields.build(name="Ada", role_id=ROLE)
    with pytest.raises(UpsolveInvalidRequest, match=message):
        fields.to_body(**{"project_id": PROJECT, "organization_id": ORG, "user_id": USER, **ids})


# Comparing what is wanted with what was sent ---------------------------------------------


def test_values_that_clean_to_the_same_fields_compare_equal():
    """What the services rely on to skip a registration: equal when Upsolve would see the same."""
    wanted = UserFields.build(name=" Ada\n", role_id=ROLE.upper(), properties={"on": True})
    stored = UserFields(name="Ada", role_id=ROLE, properties={"on": "true"})
    assert wanted == stored
    assert wanted != dataclasses.replace(stored, name="Ada L.")
    assert wanted != dataclasses.replace(stored, properties={"on": "false"})
    assert wanted != dataclasses.replace(stored, role_id=str(uuid.uuid4()))


def test_fields_cannot_be_changed_after_they_were_checked():
    fields = OrganizationFields.build(external_id="acme", name="Acme")
    with pytest.raises(dataclasses.FrozenInstanceError):
        fields.name = "\x00"  # type: ignore[misc]
