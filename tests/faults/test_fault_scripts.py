"""The fault scripts (faults/) as tests: each runs alone in a subprocess, injects its faults
against gunicorn and a throwaway database or cluster, and exits 0 only when every invariant
held (faults.invariants). Deselect with ``-m "not faults"``; each takes about a minute.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from faults.env import PG_BIN

ROOT = Path(__file__).resolve().parents[2]

# Under pytest-xdist these scripts and the replica drill run in one worker, one at a time: they
# share the seeded template database and /tmp/fireplan-faults, and pick their gunicorn and
# cluster ports by probing (faults.env.free_port), which two processes could race for.
pytestmark = [
    pytest.mark.faults,
    pytest.mark.usefixtures("on_postgres"),
    pytest.mark.xdist_group("fault_servers"),
]


def run_script(module: str) -> str:
    """The script against the PostgreSQL server the tests use (its own databases on it)."""
    params = connection.settings_dict
    server = f"postgres://{params['USER']}@{params['HOST']}:{params['PORT'] or 5432}"
    env = os.environ | {"DATABASE_URL": f"{server}/{params['NAME']}"}
    done = subprocess.run(
        [sys.executable, "-m", module],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
    )
    output = done.stdout + done.stderr[-3000:]
    assert done.returncode == 0, output
    assert "RESULT: PASS" in done.stdout, output
    return done.stdout


def test_killing_gunicorn_workers_mid_save_and_mid_import_loses_nothing():
    output = run_script("faults.kill_worker")
    assert "kill -9 worker" in output
    assert "landed in an import commit" in output


def test_crashing_postgresql_mid_save_import_and_approval_loses_nothing_and_answers_503():
    if not (PG_BIN / "initdb").exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL binaries missing in {PG_BIN} (required in CI)")
        pytest.skip(f"注意 NOTICE: no PostgreSQL binaries in {PG_BIN}")
    output = run_script("faults.pg_crash")
    assert output.count("while down: healthz → 503") == 3
