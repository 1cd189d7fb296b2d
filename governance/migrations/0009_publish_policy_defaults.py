from django.db import migrations

# GOV-14 defaults: the weekly lane guards the near horizon strictly, the monthly lane the long one.
DEFAULTS = [
    {"lane": "weekly", "horizon_unit": "weeks", "horizon_min": 4, "horizon_max": 8, "freeze_days": 14,
     "freeze_months": 0, "required_score": 4, "mape_threshold_pct": 20, "bias_threshold_pct": 5, "accuracy_lag": 1,
     "accuracy_window_months": 6, "inventory_max_age_hours": 24, "inventory_freshness_min_pct": 95,
     "actuals_coverage_min_pct": 95},
    {"lane": "monthly", "horizon_unit": "months", "horizon_min": 6, "horizon_max": 18, "freeze_days": 0,
     "freeze_months": 1, "required_score": 3, "mape_threshold_pct": 30, "bias_threshold_pct": 10, "accuracy_lag": 3,
     "accuracy_window_months": 6, "inventory_max_age_hours": 72, "inventory_freshness_min_pct": 95,
     "actuals_coverage_min_pct": 95},
]  # fmt: skip


def seed(apps, schema_editor):
    policy = apps.get_model("governance", "PublishPolicy")
    for row in DEFAULTS:
        policy.objects.get_or_create(lane=row["lane"], defaults=row)


class Migration(migrations.Migration):
    dependencies = [("governance", "0008_publication_links")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
