"""The send form: whom to send to, a message for them, and the negotiation note."""

from __future__ import annotations

from django import forms


class ProposalSendForm(forms.Form):
    """Only parses; proposal_send holds the rules (approval, recipient, status)."""

    to = forms.CharField(
        required=False, max_length=320, label="To",
        help_text="Empty: the deal's contact.",
    )  # fmt: skip
    message = forms.CharField(
        required=False, label="Message", widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Goes into the email above the link.",
    )  # fmt: skip
    note = forms.CharField(
        required=False, label="Negotiation note", widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For your team, kept with this version: “customer asked for net 60”.",
    )  # fmt: skip
    next = forms.CharField(required=False, widget=forms.HiddenInput)
