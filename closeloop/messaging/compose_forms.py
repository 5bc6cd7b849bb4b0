"""Forms of email templates and composing: they parse input; services decide."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.files.uploadedfile import UploadedFile

from .services import MAX_ATTACHMENTS_BYTES, AttachmentIn


class EmailTemplateForm(forms.Form):
    name = forms.CharField(max_length=120)
    subject = forms.CharField(max_length=300, help_text="Merge fields work here too.")
    text_body = forms.CharField(
        label="Text body", required=False, widget=forms.Textarea(attrs={"rows": 10}),
        help_text="The plain-text version. Leave it empty to have it written from the HTML.",
    )  # fmt: skip
    html_body = forms.CharField(
        label="HTML body", required=False,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false", "class": "code"}),
        help_text="Optional. A <style> block is fine: it is inlined before sending.",
    )  # fmt: skip
    is_active = forms.BooleanField(
        label="Offered when composing", required=False, initial=True,
    )  # fmt: skip


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input; each is checked as a FileField would."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


class ComposeForm(forms.Form):
    template = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label="Template",
    )  # fmt: skip
    to = forms.CharField(max_length=4000, label="To")
    cc = forms.CharField(max_length=4000, required=False, label="Cc")
    bcc = forms.CharField(max_length=4000, required=False, label="Bcc")
    subject = forms.CharField(max_length=300)
    text_body = forms.CharField(
        label="Message", required=False, widget=forms.Textarea(attrs={"rows": 12}),
        help_text="Plain text. Left empty, it is written from the HTML version.",
    )  # fmt: skip
    html_body = forms.CharField(
        label="HTML version", required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "code"}),
        help_text="From the template. Most mail programs show this version: if you change the "
        "message, change it here too, or empty it to send the text only.",
    )  # fmt: skip
    attachments = MultipleFileField(
        required=False,
        help_text=f"Several files at once; at most {MAX_ATTACHMENTS_BYTES // (1024 * 1024)} MB "
        "together.",
    )
    add_signature = forms.BooleanField(
        label="Add my signature", required=False, initial=True,
    )  # fmt: skip

    def __init__(self, *args: Any, templates: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        template_field = cast(forms.TypedChoiceField, self.fields["template"])
        template_field.choices = [("", "No template (blank)")] + [(t.pk, t.name) for t in templates]

    def clean_attachments(self) -> list[UploadedFile]:
        files: list[UploadedFile] = self.cleaned_data.get("attachments") or []
        total = sum(f.size or 0 for f in files)
        if total > MAX_ATTACHMENTS_BYTES:
            raise forms.ValidationError(
                f"The attachments come to {total / (1024 * 1024):.1f} MB; at most "
                f"{MAX_ATTACHMENTS_BYTES // (1024 * 1024)} MB together can be sent."
            )
        return files

    def attachment_inputs(self) -> list[AttachmentIn]:
        return [
            AttachmentIn(
                filename=f.name or "attachment",
                content=f.read(),
                content_type=f.content_type or "application/octet-stream",
            )
            for f in self.cleaned_data.get("attachments") or []
        ]
