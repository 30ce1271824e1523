"""History is append-only: the database refuses UPDATE and DELETE on the stations app's history
tables. The trigger function and the DBA's escape hatch are described in
planning/migrations/0005_history_append_only.py. PostgreSQL only."""

import importlib

from django.db import migrations

guard = importlib.import_module("planning.migrations.0005_history_append_only").guard


class Migration(migrations.Migration):
    dependencies = [
        ("stations", "0001_initial_station_register"),
        ("planning", "0005_history_append_only"),
    ]

    operations = [migrations.RunPython(*guard("stations"))]
