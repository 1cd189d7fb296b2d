"""Forecasting routes under /api/v1/forecasting/; every path answers with and without a trailing slash.

Each area keeps its routes in its own module and spells paths in full (`^forecasting/jobs/?$`);
fixed segments (`jobs/metrics`, `results/export`) come before the detail paths sharing their prefix.
"""

from forecasting.api import accuracy_urls, consensus_urls, job_urls, run_urls

app_name = "forecasting-api"

urlpatterns = [
    *job_urls.urlpatterns,
    *run_urls.urlpatterns,
    *consensus_urls.urlpatterns,
    *accuracy_urls.urlpatterns,
]
