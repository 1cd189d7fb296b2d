"""Test settings: base settings plus what makes the suite fast and isolated.

The database still comes from DATABASE_URL, so the same suite runs on SQLite and PostgreSQL.
"""

import os

os.environ.setdefault("ENVIRONMENT", "test")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("CACHE_URL", "locmem://tests")

from genxsop.settings.base import *  # noqa: F403

ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
# A fast hasher: the suite creates many users; production keeps Django's PBKDF2 default.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Generous rates, so that only the throttling tests (which set their own) ever see a 429.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"anon": "10000/min", "user": "10000/min", "writes": "10000/min", "login": "10000/min"},
}
# The metrics tests flush on demand; an automatic flush inside another test's request would add
# queries that test may be counting.
METRICS_FLUSH_SECONDS = None
