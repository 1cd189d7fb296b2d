# The plan lists' exact total (API-05) and per-month counts read an index-only scan of the current
# rows instead of the whole table (OPS-60: found by bench/load.py).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("planning", "0009_supply_plans_period_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="demandplan",
            index=models.Index(
                condition=models.Q(("is_current", True)), fields=["period"], name="ix_demand_plans_current_period"
            ),
        ),
        migrations.AddIndex(
            model_name="supplyplan",
            index=models.Index(
                condition=models.Q(("is_current", True)), fields=["period"], name="ix_supply_plans_current_period"
            ),
        ),
    ]
