"""closeloop token create --email E [--name N] [--read-only] | token list | token revoke PREFIX"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from closeloop.accounts.choices import TokenScope
from closeloop.accounts.models import ApiToken, User
from closeloop.accounts.services import api_token_create, api_token_revoke
from closeloop.core.exceptions import DomainError


class Command(BaseCommand):
    help = "Create, list or revoke REST API tokens."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="issue a token for a user (printed once)")
        create.add_argument("--email", required=True)
        create.add_argument("--name", default="", help="what the token is for")
        create.add_argument(
            "--read-only",
            action="store_true",
            help="the token may only read (GET); changes answer 403",
        )
        sub.add_parser("list", help="tokens and when they were last used")
        revoke = sub.add_parser("revoke", help="stop a token from working")
        revoke.add_argument("prefix", help="the first characters shown by `token list`")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "create":
            user = User.objects.filter(email__iexact=options["email"].strip()).first()
            if user is None:
                raise CommandError(f"No user with the email {options['email']}.")
            try:
                scope = TokenScope.READ if options["read_only"] else TokenScope.READ_WRITE
                _, secret = api_token_create(
                    actor=None, user=user, name=options["name"], scope=scope
                )
            except DomainError as error:
                raise CommandError(error.message) from error
            self.stdout.write(secret)
            self.stderr.write(
                "Keep it safe: it is not shown again. Send it as 'Authorization: Bearer <token>'."
            )
        elif options["action"] == "list":
            for t in ApiToken.objects.select_related("user"):
                state = "revoked" if t.revoked_at else "active"
                used = t.last_used_at.isoformat(timespec="minutes") if t.last_used_at else "never"
                self.stdout.write(
                    f"{t.prefix}…  {t.user.email:<30} {state:<8} {t.scope:<10} "
                    f"last used {used}  {t.name}"
                )
        else:
            matches = list(
                ApiToken.objects.filter(prefix__startswith=options["prefix"], revoked_at=None)
            )
            if len(matches) != 1:
                raise CommandError("Give a prefix that matches exactly one active token.")
            api_token_revoke(actor=None, token=matches[0])
            self.stdout.write(f"Revoked {matches[0].prefix}….")
