"""Foreign keys now point at core's Region / Unit / Evidence (moved from planning,
core/migrations/0001). State only; the database is unchanged."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_history_append_only"),
        ("core", "0001_region_unit_evidence_moved_from_planning"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name="historicalprofile",
                    name="region",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        help_text="可查看和办理该区划及其下级区划的事项",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="core.region",
                        verbose_name="管辖区划",
                    ),
                ),
                migrations.AlterField(
                    model_name="historicalprofile",
                    name="unit",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        help_text="联络员代表的责任单位（可选）",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="core.unit",
                        verbose_name="所属单位",
                    ),
                ),
                migrations.AlterField(
                    model_name="profile",
                    name="region",
                    field=models.ForeignKey(
                        help_text="可查看和办理该区划及其下级区划的事项",
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="profiles",
                        to="core.region",
                        verbose_name="管辖区划",
                    ),
                ),
                migrations.AlterField(
                    model_name="profile",
                    name="unit",
                    field=models.ForeignKey(
                        blank=True,
                        help_text="联络员代表的责任单位（可选）",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="profiles",
                        to="core.unit",
                        verbose_name="所属单位",
                    ),
                ),
            ],
        ),
    ]
