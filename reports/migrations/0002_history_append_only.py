"""History is append-only: the database refuses UPDATE and DELETE on the reports app's history
tables. The trigger function and the DBA's escape hatch are described in
planning/migrations/0005_history_append_only.py. PostgreSQL only."""

import importlib

from django.db import migrations

guard = importlib.import_module("planning.migrations.0005_history_append_only").guard


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_assessment_rules_and_import_batches"),
        ("planning", "0005_history_append_only"),
    ]

    operations = [migrations.RunPython(*guard("reports"))]
