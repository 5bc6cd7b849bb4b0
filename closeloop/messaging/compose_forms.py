"""Forms of email templates and composing: they parse input; services decide."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from closeloop.core.uploads import content_type_of, size_text, too_large

from .services import AttachmentIn


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
    attachments = MultipleFileField(required=False)
    add_signature = forms.BooleanField(
        label="Add my signature", required=False, initial=True,
    )  # fmt: skip

    def __init__(self, *args: Any, templates: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        template_field = cast(forms.TypedChoiceField, self.fields["template"])
        template_field.choices = [("", "No template (blank)")] + [(t.pk, t.name) for t in templates]
        limit = size_text(settings.EMAIL_ATTACHMENTS_MAX_BYTES)
        self.fields["attachments"].help_text = f"Several files at once; at most {limit} together."

    def clean_attachments(self) -> list[UploadedFile]:
        files: list[UploadedFile] = self.cleaned_data.get("attachments") or []
        limit = settings.EMAIL_ATTACHMENTS_MAX_BYTES
        for upload in files:
            if (upload.size or 0) > limit:
                raise forms.ValidationError(too_large(upload.name or "", limit, upload.size))
        total = sum(f.size or 0 for f in files)
        if total > limit:
            names = ", ".join(f"“{f.name}”" for f in files)
            raise forms.ValidationError(
                f"The attachments ({names}) come to {size_text(total)}; at most "
                f"{size_text(limit)} together can be sent."
            )
        return files

    def attachment_inputs(self) -> list[AttachmentIn]:
        """The files to send, each with the type its content shows (not the browser's say)."""
        inputs = []
        for upload in self.cleaned_data.get("attachments") or []:
            name = upload.name or "attachment"
            content = upload.read()
            inputs.append(AttachmentIn(name, content, content_type_of(content, name)))
        return inputs
