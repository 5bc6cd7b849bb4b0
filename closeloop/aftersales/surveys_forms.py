"""Forms of surveys: the settings form (with five optional extra questions) and the send form."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from .choices import SurveyKind
from .models import Survey
from .surveys import MAX_QUESTIONS, QUESTION_KINDS

DEFAULT_BODY = (
    "Hello {{ contact.first_name }},\n\n"
    "thank you for choosing {{ workspace.name }}. How did we do? It takes a minute:"
)


class SurveyForm(forms.Form):
    """A survey's settings; the extra questions are rows q1…q5 (label and kind)."""

    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=SurveyKind.choices, label="Score")
    question = forms.CharField(
        max_length=300,
        label="Score question",
        initial="How likely are you to recommend us to a friend or colleague?",
    )
    comment_label = forms.CharField(
        max_length=200,
        required=False,
        label="Comment question (leave empty for no comment box)",
        initial="Anything you would like to add?",
    )
    email_subject = forms.CharField(max_length=300, initial="How did we do?")
    email_body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        initial=DEFAULT_BODY,
        help_text="Merge fields allowed. The survey link is added at the end unless you place "
        "{{ survey.link }} yourself.",
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Can be sent")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for n in range(1, MAX_QUESTIONS + 1):
            self.fields[f"q{n}_label"] = forms.CharField(
                max_length=300, required=False, label=f"Extra question {n}"
            )
            self.fields[f"q{n}_kind"] = forms.ChoiceField(
                choices=list(QUESTION_KINDS.items()), required=False, label=f"Kind of question {n}"
            )

    @classmethod
    def for_survey(cls, survey: Survey) -> SurveyForm:
        initial: dict[str, Any] = {
            "name": survey.name,
            "kind": survey.kind,
            "question": survey.question,
            "comment_label": survey.comment_label,
            "email_subject": survey.email_subject,
            "email_body": survey.email_body,
            "is_active": survey.is_active,
        }
        for n, question in enumerate(survey.questions, start=1):
            initial[f"q{n}_label"] = question["label"]
            initial[f"q{n}_kind"] = question["kind"]
        return cls(initial=initial)

    def main_fields(self) -> list[Any]:
        """The fields above the extra questions."""
        return [self[name] for name in self.fields if not re.fullmatch(r"q\d+_\w+", name)]

    def question_rows(self) -> list[tuple[Any, Any]]:
        """(label field, kind field) pairs for the template."""
        return [(self[f"q{n}_label"], self[f"q{n}_kind"]) for n in range(1, MAX_QUESTIONS + 1)]

    def service_arguments(self) -> dict[str, Any]:
        """The cleaned data as `survey_save` takes it."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "kind": data["kind"],
            "question": data["question"],
            "comment_label": data["comment_label"],
            "questions": [
                {"label": data[f"q{n}_label"], "kind": data[f"q{n}_kind"] or "text"}
                for n in range(1, MAX_QUESTIONS + 1)
            ],
            "email_subject": data["email_subject"],
            "email_body": data["email_body"],
            "is_active": data["is_active"],
        }


class SurveySendForm(forms.Form):
    """Which survey to send."""

    survey = forms.ModelChoiceField(queryset=Survey.objects.none(), empty_label=None)

    def __init__(self, *args: Any, surveys: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["survey"]
        field.queryset = surveys
