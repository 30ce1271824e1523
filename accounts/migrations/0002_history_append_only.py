"""History is append-only: the database refuses UPDATE and DELETE on the accounts app's history
tables. The trigger function and the DBA's escape hatch are described in
planning/migrations/0005_history_append_only.py. PostgreSQL only."""

import importlib

from django.db import migrations

guard = importlib.import_module("planning.migrations.0005_history_append_only").guard


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_profile_and_notice"),
        ("planning", "0005_history_append_only"),
    ]

    operations = [migrations.RunPython(*guard("accounts"))]
