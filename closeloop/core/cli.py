"""The `closeloop` command: the management commands under short names.

closeloop serve | migrate | demo | createuser | shell | <any manage.py command>
"""

from __future__ import annotations

import os
import sys

USAGE = """usage: closeloop COMMAND [options]

commands:
  serve        run the web server (gunicorn + whitenoise) and the background worker
  migrate      create or upgrade the database
  demo         create the demo workspace (users, organizations, ~200 deals with history)
  createuser   add a user: --email E --role admin|manager|rep [--password P]
  shell        a Python shell with the app loaded
  backup       write the database and the uploaded files into one archive [--to FILE]
  restore      put an archive back into an empty install: restore FILE [--force]
  copy_to_postgres  copy a SQLite install's data into PostgreSQL: --to postgres://…
  gdpr_export  everything stored about one contact as a zip: gdpr_export CONTACT_ID [--to FILE]
  help         this text; `closeloop help COMMAND` for a command's options

Any other Django management command works too (e.g. `closeloop check`).
Configuration comes from environment variables: see the README.
"""


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if not args or args[0] in {"-h", "--help"} or args == ["help"]:
        print(USAGE)
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(["closeloop", *args])


if __name__ == "__main__":
    main()
