#!/usr/bin/env bash
# Bounded load run (issue 10): mixed reading and reporting traffic (locust headless) against
# gunicorn on 127.0.0.1 for --time (default 3m), then the invariants. Loopback only.
#
#   bash faults/load/run.sh [--time 3m] [--users 14] [--liaisons 8] [--workers 3]
#
# DATABASE_URL names the PostgreSQL server (a throwaway <name>_faults_load database is made
# there from the seeded template and dropped afterwards). Needs the test and bench extras.
set -euo pipefail
cd "$(dirname "$0")/../.."
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/fireplan}
exec .venv/bin/python -m faults.load.run "$@"
