"""closeloop gdpr_export CONTACT_ID [--to FILE]: everything about one contact as a zip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from closeloop.core.exceptions import DomainError
from closeloop.people.models import Contact
from closeloop.privacy.services import contact_export, export_name


class Command(BaseCommand):
    help = (
        "Write everything stored about one contact (their record, leads, deals, timeline, mail "
        "and its files, proposals, survey answers, coupons, consent records, audit entries) "
        "into a zip: contact.json and files/."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("contact_id", type=int)
        parser.add_argument(
            "--to", help="the zip to write (default: contact-<id>-export-<time>.zip)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        contact = Contact.with_trashed.filter(pk=options["contact_id"]).first()
        if contact is None:
            raise CommandError(f"There is no contact #{options['contact_id']}.")
        target = Path(options["to"] or export_name(contact))
        if target.exists():
            raise CommandError(f"{target} exists already: choose another file with --to.")
        try:
            with target.open("xb") as stream:
                summary = contact_export(actor=None, contact=contact, target=stream)
        except DomainError as error:
            target.unlink(missing_ok=True)
            raise CommandError(error.message) from error
        missing = f", {summary.missing_files} missing" if summary.missing_files else ""
        self.stdout.write(
            f"Wrote {target}: {summary.records} records, {summary.files} files{missing}."
        )
