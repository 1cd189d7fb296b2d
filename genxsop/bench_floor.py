"""`GET /bench/floor`: the latency floor of `bench/load.py`, mounted only when BENCH_FLOOR_VIEW is true.

A plain Django view answering a constant JSON body: no authentication, no query, no serializer, but the
same gunicorn worker and the same middleware stack as every API request. What an API endpoint costs
above it is the endpoint's own work.
"""

from django.http import JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def floor(request):
    return JsonResponse({"status": "ok"})
