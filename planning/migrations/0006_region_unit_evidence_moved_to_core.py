"""Region, Unit and Evidence now live in core (core/migrations/0001): planning's state lets go
of them and its foreign keys point at core's models. State only; the database is unchanged."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_region_unit_in_core"),
        ("core", "0001_region_unit_evidence_moved_from_planning"),
        ("planning", "0005_history_append_only"),
        ("reports", "0003_region_unit_evidence_in_core"),
        ("stations", "0003_region_in_core"),
        ("targets", "0007_region_unit_evidence_in_core"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name="evidence",
                    name="uploaded_by",
                ),
                migrations.RemoveField(
                    model_name="taskupdate",
                    name="evidence",
                ),
                migrations.RemoveField(
                    model_name="historicalregion",
                    name="history_user",
                ),
                migrations.RemoveField(
                    model_name="historicalregion",
                    name="parent",
                ),
                migrations.RemoveField(
                    model_name="historicalunit",
                    name="history_user",
                ),
                migrations.RemoveField(
                    model_name="historicalunit",
                    name="region",
                ),
                migrations.RemoveConstraint(
                    model_name="region",
                    name="region_unique_name_in_parent",
                ),
                migrations.RemoveConstraint(
                    model_name="region",
                    name="region_unique_root_name",
                ),
                migrations.RemoveConstraint(
                    model_name="region",
                    name="region_unique_code",
                ),
                migrations.RemoveConstraint(
                    model_name="region",
                    name="region_not_own_parent",
                ),
                migrations.AlterField(
                    model_name="historicalplan",
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
                    model_name="plan",
                    name="region",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="plans",
                        to="core.region",
                        verbose_name="区划",
                    ),
                ),
                migrations.RemoveConstraint(
                    model_name="unit",
                    name="unit_unique_name_in_region",
                ),
                migrations.RemoveField(
                    model_name="task",
                    name="units",
                ),
                migrations.AlterField(
                    model_name="taskassignment",
                    name="unit",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="assignments",
                        to="core.unit",
                        verbose_name="单位",
                    ),
                ),
                migrations.AlterField(
                    model_name="historicaltaskassignment",
                    name="unit",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="core.unit",
                        verbose_name="单位",
                    ),
                ),
                migrations.DeleteModel(
                    name="Evidence",
                ),
                migrations.AddField(
                    model_name="taskupdate",
                    name="evidence",
                    field=models.ManyToManyField(
                        blank=True,
                        related_name="task_updates",
                        to="core.evidence",
                        verbose_name="佐证材料",
                    ),
                ),
                migrations.DeleteModel(
                    name="HistoricalRegion",
                ),
                migrations.DeleteModel(
                    name="HistoricalUnit",
                ),
                migrations.RemoveField(
                    model_name="unit",
                    name="region",
                ),
                migrations.AddField(
                    model_name="task",
                    name="units",
                    field=models.ManyToManyField(
                        related_name="tasks",
                        through="planning.TaskAssignment",
                        to="core.unit",
                        verbose_name="责任单位",
                    ),
                ),
                migrations.DeleteModel(
                    name="Region",
                ),
                migrations.DeleteModel(
                    name="Unit",
                ),
            ],
        ),
    ]
