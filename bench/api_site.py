"""Settings for bench/api.py: the app's own, with bench/api_urls.py as the URL configuration."""

from __future__ import annotations

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.api_urls"
