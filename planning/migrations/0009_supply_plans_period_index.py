# The supply plan list's default order starts with -period (OPS-60: found by bench/load.py).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("planning", "0008_analytics_kpis_scheduling"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="supplyplan",
            index=models.Index(fields=["period", "location"], name="ix_supply_plans_period_loc"),
        ),
    ]
