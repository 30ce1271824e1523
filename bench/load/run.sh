#!/usr/bin/env bash
# HTTP load run (issue 9): gunicorn on 127.0.0.1 against a seed_scale database, locust
# headless for a bounded time at -u 8 then -u 32, for the reports list and the overview page.
# Writes bench/results/load-<scale>-<date>.json. Loopback only.
#
#   bash bench/load/run.sh [--scale small|province|national] [--run-time 30s] [--workers 3]
#                          [--users "8 32"] [--endpoints "reports overview"] [--out FILE]
#
# DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/fireplan_scale_<scale>
# (seeded with: manage.py seed_scale --scale <scale>). Needs the prod and bench extras.
set -euo pipefail
cd "$(dirname "$0")/../.."

SCALE=province RUN_TIME=30s WORKERS=3 PORT=${PORT:-8765} SEED=1 USERS="8 32"
ENDPOINTS="reports overview" OUT=""
while [ $# -gt 0 ]; do
    case "$1" in
        --scale) SCALE=$2; shift 2 ;;
        --run-time) RUN_TIME=$2; shift 2 ;;
        --workers) WORKERS=$2; shift 2 ;;
        --seed) SEED=$2; shift 2 ;;
        --users) USERS=$2; shift 2 ;;
        --endpoints) ENDPOINTS=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        *) echo "usage: $0 [--scale S] [--run-time 30s] [--workers N] [--seed 1]" \
               "[--users '8 32'] [--endpoints 'reports overview'] [--out FILE]" >&2; exit 2 ;;
    esac
done

PY=.venv/bin/python
# locust from another virtualenv when the project's has no bench extra (LOCUST=/path/to/locust)
LOCUST=${LOCUST:-.venv/bin/locust}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/fireplan_scale_$SCALE}
export SECRET_KEY=${SECRET_KEY:-load-run-only-secret-key-0123456789abcdef}
# Production settings over plain HTTP on loopback; the API throttle (1200/min per token) is
# lifted so the run measures the server, not the throttle.
export DEBUG=0 ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=0 SECURE_COOKIES=0 \
    SECURE_HSTS_SECONDS=0 API_TOKEN_RATE=100000000/min
export STATIC_ROOT=${STATIC_ROOT:-$(mktemp -d)}

work=$(mktemp -d)
$PY manage.py collectstatic --no-input -v0
BENCH_TOKEN=$($PY manage.py shell -c \
    "from django.contrib.auth.models import User; from accounts.services import issue_api_token; print(issue_api_token(User.objects.get(username='bench_staff')).key)" \
    2>/dev/null | tail -1)
export BENCH_TOKEN BENCH_USERNAME=bench_staff BENCH_PASSWORD="Synthetic-bench_staff-$SEED!"

.venv/bin/gunicorn fireplan.wsgi --bind "127.0.0.1:$PORT" --workers "$WORKERS" \
    --timeout 300 --access-logfile - >"$work/gunicorn.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 60); do
    curl -fsS -o /dev/null "http://127.0.0.1:$PORT/accounts/login/" && break
    sleep 1
done

# CPU time (clock ticks) of gunicorn and its workers, and of the PostgreSQL server's
# processes: read around each run, so the summary gives the CPU spent per request.
ticks_of() {
    local total=0 pid fields
    for pid in "$@"; do
        [ -r "/proc/$pid/stat" ] || continue
        read -r -a fields <"/proc/$pid/stat" || continue
        total=$((total + fields[13] + fields[14]))
    done
    echo "$total"
}
server_ticks() { ticks_of "$server" $(pgrep -P "$server" || true); }
postgres_ticks() {  # live processes, plus what the postmaster has reaped of those that ended
    local postmaster fields
    postmaster=$(pgrep -o -u postgres postgres || true)
    [ -n "$postmaster" ] && read -r -a fields <"/proc/$postmaster/stat" || fields=()
    echo $(($(ticks_of $(pgrep -u postgres postgres || true)) + ${fields[15]:-0} + ${fields[16]:-0}))
}

runs=()
for endpoint in $ENDPOINTS; do
    for users in $USERS; do
        prefix="$work/$endpoint-u$users"
        echo "== $endpoint, $users users, $RUN_TIME"
        read -r load_before _ </proc/loadavg
        app_before=$(server_ticks) db_before=$(postgres_ticks)
        BENCH_ENDPOINT=$endpoint "$LOCUST" -f bench/load/locustfile.py --headless \
            --host "http://127.0.0.1:$PORT" -u "$users" -r "$users" --run-time "$RUN_TIME" \
            --stop-timeout 10 --csv "$prefix" --only-summary --loglevel WARNING \
            >"$prefix.log" 2>&1 || true
        echo "$load_before $(($(server_ticks) - app_before)) $(($(postgres_ticks) - db_before))" \
            "$(getconf CLK_TCK)" >"$prefix.cpu"
        runs+=("$endpoint:$users:$prefix")
    done
done

# Dated like manage.py bench (TIME_ZONE Asia/Shanghai).
out=${OUT:-"bench/results/load-$SCALE-$(TZ=Asia/Shanghai date +%F).json"}
$PY bench/load/summarize.py "$out" "$SCALE" "$RUN_TIME" "$WORKERS" "${runs[@]}"
echo "gunicorn log and locust CSVs: $work"
