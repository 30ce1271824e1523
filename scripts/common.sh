# Shared by scripts/serve and scripts/test: find a Python, make the virtualenv, install.
# Django 6.x needs Python 3.12+, so prefer the newest Python 3 on the machine; on 3.11 the
# dependency ranges resolve to Django 5.2 LTS, which the code supports as well.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3.14 python3.13 python3.12 \
        "$HOME"/.pyenv/versions/3.1[234]*/bin/python3 python3.11 python3; do
        [ -n "$candidate" ] || continue
        if "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate" 2>/dev/null || echo "$candidate"
            return 0
        fi
    done
    echo "需要 Python 3.11 或更高版本 (Python 3.11+ is required)" >&2
    return 1
}

ensure_venv() {
    # $1: the extras to install, e.g. "test" or "prod"
    local extras=$1 stamp=.venv/.installed-$1
    if [ ! -x .venv/bin/python ]; then
        "$(find_python)" -m venv .venv
    fi
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        echo "安装依赖 Installing dependencies into .venv (log: .venv/pip.log) …" >&2
        if ! { .venv/bin/python -m pip install --upgrade pip &&
               .venv/bin/python -m pip install -e ".[$extras]"; } > .venv/pip.log 2>&1; then
            tail -n 30 .venv/pip.log >&2
            echo "依赖安装失败 Installing dependencies failed; see .venv/pip.log" >&2
            return 1
        fi
        touch "$stamp"
    fi
}
