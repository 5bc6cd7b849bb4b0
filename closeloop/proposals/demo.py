"""The demo workspace's catalogue, two proposal templates with materials, and draft proposals
on a few open deals, written through the services like a user would."""

from __future__ import annotations

import random
from typing import Any

from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.models import Deal

from .models import Product
from .services import LineIn, material_upload, product_create, proposal_create, template_save

PRODUCTS = [
    # name, sku, unit, price, tax, floor, billing, description
    ("Website build", "WEB-1", "project", "4000", "19", "3200", "one_off",
     "Design and build of a responsive website, up to 10 pages."),
    ("Online shop add-on", "SHOP-1", "project", "2500", "19", "2000", "one_off",
     "Catalogue, cart and checkout with two payment providers."),
    ("Hosting and care", "HOST-1", "month", "49", "19", None, "monthly",
     "Hosting, backups, updates and monitoring."),
    ("Support hours", "SUP-1", "hour", "95", "19", "80", "one_off",
     "Changes and training on request."),
    ("Domain", "DOM-1", "year", "18", "19", None, "yearly", "Registration and renewal."),
    ("Photo shoot", "PHOTO-1", "day", "850", "7", None, "one_off",
     "A day on site with a photographer."),
]  # fmt: skip
INTRO = (
    "Dear {{ contact.first_name }},\n\nthank you for your time. As discussed, here is our "
    "offer for {{ deal.title }}."
)
CLOSING = "We look forward to working with {{ company.name }}.\n\n{{ sender.name }}"
TERMS = "Prices exclude travel. Our general terms of business apply."


def _pdf(text: str) -> bytes:
    """A one-page PDF with a line of text, small enough to write out by hand."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def create_proposal_demo(*, admin: Any, rng: random.Random, proposals: int = 6) -> int:
    """Products, two templates (with a spec sheet and a guide) and draft proposals on open
    deals; the number of proposals made."""
    products: dict[str, Product] = {}
    for name, sku, unit, price, tax, floor, billing, description in PRODUCTS:
        products[sku] = product_create(
            actor=admin, name=name, sku=sku, unit=unit, unit_price=price, currency="EUR",
            tax_rate=tax, floor_price=floor, billing=billing, description=description,
        )  # fmt: skip
    spec = material_upload(
        actor=admin, filename="Website spec sheet.pdf", content=_pdf("Website spec sheet")
    )
    guide = material_upload(
        actor=admin,
        filename="Getting started.txt",
        content=b"Getting started with your new website\n\n1. Log in.\n2. Edit a page.\n",
    )
    delivery = [{"label": "Design", "offset_days": 14}, {"label": "Launch", "offset_days": 42}]
    website = template_save(
        actor=admin, name="Website package", currency="EUR", intro=INTRO, closing=CLOSING,
        payment_terms="instalments", delivery=delivery, validity_days=30, terms_conditions=TERMS,
        instalments=[
            {"label": "Deposit", "percent": "30", "due": "acceptance"},
            {"label": "On launch", "percent": "70", "due": "Launch"},
        ],
        lines=[LineIn(product=products["WEB-1"]), LineIn(product=products["HOST-1"], quantity="12"),
               LineIn(product=products["DOM-1"])],
        materials=[spec, guide],
    )  # fmt: skip
    shop = template_save(
        actor=admin, name="Online shop", currency="EUR", intro=INTRO, closing=CLOSING,
        net_days=14, validity_days=21, terms_conditions=TERMS,
        lines=[LineIn(product=products["WEB-1"]), LineIn(product=products["SHOP-1"]),
               LineIn(product=products["SUP-1"], quantity="10", discount_value="10")],
        materials=[spec],
    )  # fmt: skip
    deals = list(
        Deal.objects.filter(status=DealStatus.OPEN, currency="EUR")
        .select_related("owner")
        .order_by("-created_at")[:proposals]
    )
    for deal in deals:
        proposal_create(actor=deal.owner, deal=deal, template=rng.choice([website, shop]))
    return len(deals)
