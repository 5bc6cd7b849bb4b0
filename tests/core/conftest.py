"""Fixtures the core tests share with other folders."""

from tests.imports.conftest import run_import  # noqa: F401  (start, map and run an import)
