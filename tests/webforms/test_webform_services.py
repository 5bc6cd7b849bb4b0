"""Building web forms: who may, and which settings are refused."""

from __future__ import annotations

import pytest
from django.core import signing

from closeloop.core.exceptions import DomainError
from closeloop.leads.webforms import (
    WebFormField,
    WebFormInput,
    webform_create,
    webform_for_token,
    webform_public_token,
    webform_set_active,
    webform_update,
)

pytestmark = pytest.mark.django_db


def _data(**overrides):
    values = {"name": "Demo request", "fields": [WebFormField("email", "", True)]}
    return WebFormInput(**{**values, **overrides})


def test_a_manager_creates_a_form_with_a_random_key(manager):
    webform = webform_create(actor=manager, data=_data())
    assert len(webform.key) >= 20
    assert webform.fields == [{"name": "email", "label": "Email", "required": True}]
    assert webform.thank_you_message  # a default when none is given
    assert webform.created_by == manager


def test_a_rep_cannot_build_forms(rep):
    with pytest.raises(DomainError, match="Only admins and managers"):
        webform_create(actor=rep, data=_data())


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "  "}, "needs a name"),
        ({"fields": []}, "at least a name, an email, a phone or a company"),
        ({"fields": [WebFormField("notes")]}, "at least a name, an email, a phone or a company"),
        ({"fields": [WebFormField("owner")]}, "is not a field"),
        ({"fields": [WebFormField("email"), WebFormField("email")]}, "listed twice"),
        ({"redirect_url": "javascript:alert(1)"}, "full http"),
    ],
)
def test_bad_settings_are_refused(admin, overrides, message):
    with pytest.raises(DomainError, match=message):
        webform_create(actor=admin, data=_data(**overrides))


def test_fields_keep_the_canonical_order(admin):
    fields = [WebFormField("email"), WebFormField("first_name", "Name")]
    webform = webform_create(actor=admin, data=_data(fields=fields))
    assert [f["name"] for f in webform.fields] == ["first_name", "email"]


def test_update_keeps_the_key(admin, webform):
    key = webform.key
    updated = webform_update(actor=admin, webform=webform, data=_data(name="Renamed"))
    assert (updated.name, updated.key) == ("Renamed", key)


def test_signed_key_finds_the_form_and_tampering_does_not(admin, webform):
    token = webform_public_token(webform)
    assert webform_for_token(token=token) == webform
    assert webform_for_token(token=webform.key) is None
    assert webform_for_token(token=token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    other_salt = signing.Signer(salt="something else").sign(webform.key)
    assert webform_for_token(token=other_salt) is None


def test_deactivate(admin, webform):
    assert not webform_set_active(actor=admin, webform=webform, is_active=False).is_active
