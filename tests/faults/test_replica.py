"""Read replicas on a real primary and streaming standby (faults/replica.py): page and API
GETs read from the standby, a POST writes on the primary, its client then reads its own write
from the primary, with the standby lagging or stopped pages answer from the primary, and under
gunicorn the standby's statistics count a page's reads. Both clusters are throwaway (initdb,
pg_basebackup -R on loopback ports) and removed after. About two minutes; deselect with
``-m "not faults"``."""

from __future__ import annotations

import os

import pytest

from faults.env import PG_BIN
from tests.faults.test_fault_scripts import run_script

# One worker with the fault scripts (tests/faults/test_fault_scripts.py says why).
pytestmark = [
    pytest.mark.faults,
    pytest.mark.usefixtures("on_postgres"),
    pytest.mark.xdist_group("fault_servers"),
]


def test_reads_go_to_the_replica_writes_and_read_your_writes_to_the_primary():
    if not (PG_BIN / "pg_basebackup").exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL binaries missing in {PG_BIN} (required in CI)")
        pytest.skip(f"注意 NOTICE: no PostgreSQL binaries in {PG_BIN}")
    output = run_script("faults.replica")
    assert "FAIL" not in output
    # Each step's line says where the rows came from ("… on replica, 0 reads of app tables on
    # default"); a step that went wrong prints FAIL, and the script exits non-zero.
    for step in (
        "ok   replica: pg_is_in_recovery() = True",
        "ok   GET /plans/: 200",
        "ok   POST answer sets fp_primary",
        "ok   GET right after the write: 200",
        "ok   GET /plans/ while lagging: 200",
        "ok   page with the replica down: 200",
        "ok   GET /plans/ after restart: 200",
        "ok   gunicorn GET /plans/: 200",
    ):
        assert step in output, output
