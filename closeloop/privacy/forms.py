"""The erase page's typed confirmation."""

from __future__ import annotations

from typing import Any

from django import forms

from closeloop.people.models import Contact


def confirmation_phrase(contact: Contact) -> str:
    """What an admin types to erase this contact: their name, or the address when unnamed."""
    if contact.first_name or contact.last_name:
        return contact.full_name
    return contact.primary_email or f"contact {contact.pk}"


class EraseForm(forms.Form):
    """The contact's name typed out, so nobody erases the wrong person by a slip."""

    confirm = forms.CharField(max_length=300, label="Type the name to confirm")

    def __init__(self, *args: Any, contact: Contact, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.phrase = confirmation_phrase(contact)
        self.fields["confirm"].help_text = f"Type “{self.phrase}” exactly as shown."

    def clean_confirm(self) -> str:
        typed = " ".join(self.cleaned_data["confirm"].split())
        if typed != self.phrase:
            raise forms.ValidationError(
                f"That is not “{self.phrase}”: nothing was erased. Type it exactly as shown."
            )
        return typed
