"""The layers contract in pyproject.toml ([tool.importlinter]) is live: lint-imports keeps it
on the code as it is and breaks it when a lower layer imports a higher one — also when the
import hides inside a function."""

import ast
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


# ------------------------------------------------------------------ imports inside functions

APP_PACKAGES = set(PACKAGES)


def imports_inside_functions(root: Path) -> list[tuple[str, int, str, bool]]:
    """(file, line, module, commented) of every import of another app inside a function,
    outside tests and migrations; ``commented``: a comment stands right above the import
    block it belongs to (blank lines and the block's other imports skipped)."""
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).parts
            if "migrations" in parts or "tests" in parts:
                continue
            source = path.read_text(encoding="utf-8")
            lines = source.splitlines()
            tree = ast.parse(source)
            import_lines = {
                line
                for node in ast.walk(tree)
                if isinstance(node, ast.Import | ast.ImportFrom)
                for line in range(node.lineno, node.end_lineno + 1)
            }
            for function in ast.walk(tree):
                if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for node in ast.walk(function):
                    if isinstance(node, ast.Import):
                        modules = [alias.name for alias in node.names]
                    elif isinstance(node, ast.ImportFrom) and not node.level:
                        modules = [node.module or ""]
                    else:
                        continue
                    for module in modules:
                        if module.split(".")[0] not in APP_PACKAGES - {package}:
                            continue
                        above = node.lineno - 1
                        while above and (above in import_lines or not lines[above - 1].strip()):
                            above -= 1
                        commented = above > 0 and lines[above - 1].strip().startswith("#")
                        where = path.relative_to(root).as_posix()
                        found.append((where, node.lineno, module, commented))
    return found


def test_no_app_imports_another_inside_a_function_unless_a_comment_says_why():
    """lint-imports keeps the direction; this keeps the imports at the top. Only the fault
    drills (faults/: plain scripts that set Django up before any model loads) import apps
    inside functions, each block under a comment saying so."""
    found = imports_inside_functions(ROOT)
    outside = [f"{where}:{line} {module}" for where, line, module, _ in found]
    outside = [row for row in outside if not row.startswith("faults/")]
    assert not outside, "move these imports to the top of the module:\n" + "\n".join(outside)
    silent = [f"{where}:{line} {module}" for where, line, module, said in found if not said]
    assert not silent, "say above these imports why they are not at the top:\n" + "\n".join(silent)


def test_the_inside_import_check_catches_what_it_should(tree):
    (tree / "targets" / "planted.py").write_text(
        "def later():\n    from core import scope\n    return scope\n"
    )
    (tree / "faults" / "planted.py").write_text(
        "def later():\n    from targets import owed\n    return owed\n\n\n"
        "def commented():\n    # Here, not at the top: Django is set up first.\n"
        "    import datetime\n\n    from targets import owed\n    return owed, datetime\n"
    )
    found = {
        (where, module, commented) for where, _, module, commented in imports_inside_functions(tree)
    }
    assert ("targets/planted.py", "core", False) in found
    assert ("faults/planted.py", "targets", False) in found
    assert ("faults/planted.py", "targets", True) in found
