"""Region, Unit and Evidence move here from planning, in Django's state only: the tables keep
their names (planning_region, planning_unit, planning_evidence and the two history tables), no
row moves. The content types are renamed so permissions and admin log entries follow."""

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models

import core.models

MOVED = ("region", "unit", "evidence", "historicalregion", "historicalunit")


def rename_content_types(apps, schema_editor):
    """planning.<model> -> core.<model>, unless core's already exists (a fresh database gets
    core's content types from post_migrate)."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MOVED:
        if not ContentType.objects.using(db).filter(app_label="core", model=model).exists():
            ContentType.objects.using(db).filter(app_label="planning", model=model).update(
                app_label="core"
            )


def restore_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MOVED:
        if not ContentType.objects.using(db).filter(app_label="planning", model=model).exists():
            ContentType.objects.using(db).filter(app_label="core", model=model).update(
                app_label="planning"
            )


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        ("planning", "0005_history_append_only"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Evidence",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "file",
                            models.FileField(
                                max_length=200,
                                upload_to=core.models.evidence_upload_to,
                                verbose_name="文件",
                            ),
                        ),
                        (
                            "original_name",
                            models.CharField(max_length=255, verbose_name="原文件名"),
                        ),
                        (
                            "content_type",
                            models.CharField(blank=True, max_length=128, verbose_name="文件类型"),
                        ),
                        (
                            "size_bytes",
                            models.PositiveBigIntegerField(default=0, verbose_name="大小（字节）"),
                        ),
                        (
                            "sha256",
                            models.CharField(db_index=True, max_length=64, verbose_name="SHA-256"),
                        ),
                        (
                            "uploaded_at",
                            models.DateTimeField(auto_now_add=True, verbose_name="上传时间"),
                        ),
                        (
                            "uploaded_by",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="上传人",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "佐证材料",
                        "verbose_name_plural": "佐证材料",
                        "db_table": "planning_evidence",
                        "ordering": ["-uploaded_at"],
                    },
                ),
                migrations.CreateModel(
                    name="Region",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("name", models.CharField(max_length=64, verbose_name="名称")),
                        (
                            "code",
                            models.CharField(
                                blank=True,
                                help_text="GB/T 2260 代码，已知时填写",
                                max_length=12,
                                verbose_name="行政区划代码",
                            ),
                        ),
                        (
                            "level",
                            models.CharField(
                                choices=[
                                    ("province", "省"),
                                    ("city", "市"),
                                    ("district", "区/县/县级市"),
                                    ("town", "镇/乡/街道"),
                                ],
                                max_length=16,
                                verbose_name="层级",
                            ),
                        ),
                        ("source_text", models.TextField(blank=True, verbose_name="原文依据")),
                        (
                            "parent",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="children",
                                to="core.region",
                                verbose_name="上级区划",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "行政区划",
                        "verbose_name_plural": "行政区划",
                        "db_table": "planning_region",
                        "ordering": ["level", "name"],
                    },
                ),
                migrations.CreateModel(
                    name="HistoricalUnit",
                    fields=[
                        (
                            "id",
                            models.BigIntegerField(
                                auto_created=True, blank=True, db_index=True, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=128, verbose_name="名称")),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("fire_rescue", "消防救援机构"),
                                    ("government", "人民政府"),
                                    ("department", "政府部门"),
                                    ("collective", "集合单位"),
                                    ("enterprise", "企业"),
                                    ("other", "其他"),
                                ],
                                max_length=16,
                                verbose_name="类别",
                            ),
                        ),
                        ("source_text", models.TextField(blank=True, verbose_name="原文依据")),
                        ("history_id", models.AutoField(primary_key=True, serialize=False)),
                        ("history_date", models.DateTimeField(db_index=True)),
                        ("history_change_reason", models.CharField(max_length=100, null=True)),
                        (
                            "history_type",
                            models.CharField(
                                choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")],
                                max_length=1,
                            ),
                        ),
                        (
                            "history_user",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "region",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="core.region",
                                verbose_name="所属区划",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "historical 责任单位",
                        "verbose_name_plural": "historical 责任单位",
                        "db_table": "planning_historicalunit",
                        "ordering": ("-history_date", "-history_id"),
                        "get_latest_by": ("history_date", "history_id"),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name="HistoricalRegion",
                    fields=[
                        (
                            "id",
                            models.BigIntegerField(
                                auto_created=True, blank=True, db_index=True, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=64, verbose_name="名称")),
                        (
                            "code",
                            models.CharField(
                                blank=True,
                                help_text="GB/T 2260 代码，已知时填写",
                                max_length=12,
                                verbose_name="行政区划代码",
                            ),
                        ),
                        (
                            "level",
                            models.CharField(
                                choices=[
                                    ("province", "省"),
                                    ("city", "市"),
                                    ("district", "区/县/县级市"),
                                    ("town", "镇/乡/街道"),
                                ],
                                max_length=16,
                                verbose_name="层级",
                            ),
                        ),
                        ("source_text", models.TextField(blank=True, verbose_name="原文依据")),
                        ("history_id", models.AutoField(primary_key=True, serialize=False)),
                        ("history_date", models.DateTimeField(db_index=True)),
                        ("history_change_reason", models.CharField(max_length=100, null=True)),
                        (
                            "history_type",
                            models.CharField(
                                choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")],
                                max_length=1,
                            ),
                        ),
                        (
                            "history_user",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "parent",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="core.region",
                                verbose_name="上级区划",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "historical 行政区划",
                        "verbose_name_plural": "historical 行政区划",
                        "db_table": "planning_historicalregion",
                        "ordering": ("-history_date", "-history_id"),
                        "get_latest_by": ("history_date", "history_id"),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name="Unit",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("name", models.CharField(max_length=128, verbose_name="名称")),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("fire_rescue", "消防救援机构"),
                                    ("government", "人民政府"),
                                    ("department", "政府部门"),
                                    ("collective", "集合单位"),
                                    ("enterprise", "企业"),
                                    ("other", "其他"),
                                ],
                                max_length=16,
                                verbose_name="类别",
                            ),
                        ),
                        ("source_text", models.TextField(blank=True, verbose_name="原文依据")),
                        (
                            "region",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="units",
                                to="core.region",
                                verbose_name="所属区划",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "责任单位",
                        "verbose_name_plural": "责任单位",
                        "db_table": "planning_unit",
                        "ordering": ["region__name", "name"],
                    },
                ),
                migrations.AddConstraint(
                    model_name="region",
                    constraint=models.UniqueConstraint(
                        fields=("parent", "name"), name="region_unique_name_in_parent"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="region",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("parent__isnull", True)),
                        fields=("name",),
                        name="region_unique_root_name",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="region",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("code", ""), _negated=True),
                        fields=("code",),
                        name="region_unique_code",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="region",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("parent", models.F("pk")), _negated=True),
                        name="region_not_own_parent",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="unit",
                    constraint=models.UniqueConstraint(
                        fields=("region", "name"), name="unit_unique_name_in_region"
                    ),
                ),
            ],
        ),
        migrations.RunPython(rename_content_types, restore_content_types),
    ]
