"""closeloop createuser --email E --role admin|manager|rep [--password P] [--name N]"""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from closeloop.accounts.choices import Role
from closeloop.accounts.services import user_create
from closeloop.core.exceptions import DomainError


class Command(BaseCommand):
    help = "Add a user who logs in with their email. Prompts for the password when not given."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--password", help="prompted for when left out")
        parser.add_argument("--name", default="", help="full name")

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"]
        if password is None:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The two passwords differ; nothing was created.")
        if not password:
            raise CommandError("A password is required.")
        try:
            user = user_create(
                actor=None,
                email=options["email"],
                role=options["role"],
                password=password,
                full_name=options["name"],
            )
        except DomainError as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"Created {user.get_role_display().lower()} {user.email}.")
