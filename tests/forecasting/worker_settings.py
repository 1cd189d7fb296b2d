"""Settings for the real-worker job tests: the base settings plus knobs that stretch a job.

A job of a handful of series finishes in well under a second; these make it commit one series per
chunk and pause between chunks, so a test can kill the cluster or cancel the job while it runs.
"""

import os

from genxsop.settings.base import *  # noqa: F403

FORECAST_JOB_CHUNK_SIZE = int(os.environ.get("FORECAST_JOB_CHUNK_SIZE", "50"))
FORECAST_JOB_CHUNK_PAUSE_SECONDS = float(os.environ.get("FORECAST_JOB_CHUNK_PAUSE_SECONDS", "0"))
