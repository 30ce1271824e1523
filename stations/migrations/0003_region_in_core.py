"""Foreign keys now point at core's Region / Unit / Evidence (moved from planning,
core/migrations/0001). State only; the database is unchanged."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_region_unit_evidence_moved_from_planning"),
        ("stations", "0002_history_append_only"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name="historicalstation",
                    name="region",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="core.region",
                        verbose_name="区划",
                    ),
                ),
                migrations.AlterField(
                    model_name="station",
                    name="region",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="stations",
                        to="core.region",
                        verbose_name="区划",
                    ),
                ),
            ],
        ),
    ]
