"""The layers contract in pyproject.toml ([tool.importlinter]) is live: lint-imports keeps it
on the code as it is and breaks it when a lower layer imports a higher one — also when the
import hides inside a function."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PACKAGES = ["core", "accounts", "planning", "stations", "targets", "reports", "plan_import"]
PACKAGES += ["fireplan"]
PACKAGES += ["seeds", "bench", "faults"]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the project's packages and pyproject.toml (no test writes into the repo)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_code_keeps_the_layers(tree):
    result = lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "source", "upward"),
    [
        ("core/planted.py", "from reports import dashboards\n", "core.planted -> reports"),
        (
            "targets/planted.py",
            "def later():\n    from reports.excel import exporters\n    return exporters\n",
            "targets.planted -> reports",
        ),
        ("planning/planted.py", "import seeds.loader\n", "planning.planted -> seeds"),
    ],
)
def test_an_upward_import_breaks_the_contract(tree, module, source, upward):
    (tree / module).write_text(source)
    result = lint(tree)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert upward in result.stdout, result.stdout
