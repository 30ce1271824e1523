"""Target adjustments (指标调整): a document changes a target's value or year mid-term.

An adjustment is never edited or deleted — a wrong one is reversed by another. Besides the
service and the read-only admin, PostgreSQL refuses UPDATE and DELETE on the table (a trigger
like the history tables', planning/migrations/0005_history_append_only.py, with the same
DBA escape hatch: ``SET LOCAL fireplan.allow_history_purge = on`` in a transaction of its
own). TRUNCATE is not a row operation and is not refused (the test suite's flush uses it).
The SQL is frozen here (migrations are history)."""

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION fireplan_adjustment_append_only() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('fireplan.allow_history_purge', true), '') = 'on' THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    RAISE EXCEPTION USING
        MESSAGE = 'target adjustments are append-only: ' || TG_OP || ' on ' || TG_TABLE_NAME
            || ' refused; record a reversing adjustment instead',
        HINT = 'A DBA may SET LOCAL fireplan.allow_history_purge = on in a transaction.',
        ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
"""
TRIGGER = (
    "CREATE TRIGGER adjustment_append_only BEFORE UPDATE OR DELETE ON targets_targetadjustment "
    "FOR EACH ROW EXECUTE FUNCTION fireplan_adjustment_append_only()"
)
DROP = [
    "DROP TRIGGER IF EXISTS adjustment_append_only ON targets_targetadjustment",
    "DROP FUNCTION IF EXISTS fireplan_adjustment_append_only()",
]


def append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY)
        schema_editor.execute(TRIGGER)


def drop_append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("targets", "0007_region_unit_evidence_in_core"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="TargetAdjustment",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "old_value",
                    models.DecimalField(
                        blank=True,
                        decimal_places=4,
                        max_digits=18,
                        null=True,
                        validators=[django.core.validators.MinValueValidator(0)],
                        verbose_name="调整前目标值",
                    ),
                ),
                (
                    "new_value",
                    models.DecimalField(
                        decimal_places=4,
                        max_digits=18,
                        validators=[django.core.validators.MinValueValidator(0)],
                        verbose_name="调整后目标值",
                    ),
                ),
                (
                    "old_year",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(1949),
                            django.core.validators.MaxValueValidator(2100),
                        ],
                        verbose_name="调整前目标年度",
                    ),
                ),
                (
                    "new_year",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(1949),
                            django.core.validators.MaxValueValidator(2100),
                        ],
                        verbose_name="调整后目标年度",
                    ),
                ),
                ("doc_number", models.CharField(max_length=128, verbose_name="文号")),
                ("adopted_on", models.DateField(verbose_name="印发日期")),
                ("reason", models.TextField(verbose_name="调整理由")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="登记时间")),
                (
                    "actor",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="登记人",
                    ),
                ),
                (
                    "target",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="adjustments",
                        to="targets.target",
                        verbose_name="目标指标",
                    ),
                ),
            ],
            options={
                "verbose_name": "指标调整",
                "verbose_name_plural": "指标调整",
                "ordering": ["target", "adopted_on", "pk"],
                "indexes": [
                    models.Index(
                        fields=["target", "adopted_on"], name="adjustment_target_adopted_idx"
                    )
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("old_value__isnull", True), ("old_value__gte", 0), _connector="OR"
                        ),
                        name="adjustment_old_value_non_negative",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("new_value__isnull", True), ("new_value__gte", 0), _connector="OR"
                        ),
                        name="adjustment_new_value_non_negative",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("doc_number", ""), _negated=True),
                        name="adjustment_doc_number_required",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("reason", ""), _negated=True),
                        name="adjustment_reason_required",
                    ),
                ],
            },
        ),
        migrations.RunPython(append_only, drop_append_only),
    ]
