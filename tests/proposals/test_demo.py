"""The demo workspace's proposals: catalogue, templates with materials, draft proposals."""

from __future__ import annotations

import io
import random
from typing import Any

import pytest
from django.core.management import call_command
from pypdf import PdfReader

from closeloop.proposals.demo import create_proposal_demo
from closeloop.proposals.models import Product, Proposal, ProposalTemplate
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db


def test_demo_proposals(admin: Any, rep: Any):
    for i in range(3):
        DealFactory(owner=rep, title=f"Demo deal {i}")
    assert create_proposal_demo(admin=admin, rng=random.Random(1)) == 3
    assert Product.objects.count() == 6
    assert set(ProposalTemplate.objects.values_list("name", flat=True)) == {
        "Website package",
        "Online shop",
    }
    proposals = list(Proposal.objects.all())
    assert len(proposals) == 3 and all(p.lines.exists() for p in proposals)
    assert all(p.materials.exists() for p in proposals)
    spec = ProposalTemplate.objects.get(name="Website package").materials.get(
        content_type="application/pdf"
    )
    with spec.file.open("rb") as pdf:
        text = PdfReader(io.BytesIO(pdf.read())).pages[0].extract_text()
    assert "Website spec sheet" in text


def test_demo_command_makes_proposals(tmp_path: Any, settings: Any, capsys: Any):
    settings.VAR_DIR = tmp_path
    call_command("demo", "--if-empty", "--deals", "30")
    assert Proposal.objects.filter(status="draft").count() >= 1
    assert ProposalTemplate.objects.count() == 2
