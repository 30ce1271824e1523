"""docs/architecture.md is the map: everything it names exists in today's tree.

It reads the backticked names: file paths (`targets/owed.py`, `static/targets/x.js`,
`<app>/scope_rules.py`; a bare `scoring.py` beside the folder or app just named), dotted names
that start with an app (`targets.owed.locked`, `core.scope`), and the names in parentheses
right after a file (`core/scope.py` (`Scope.covers`, `restrict`)): each must be defined in
that file — a function, class, assignment, attribute or code string — or be a setting or a
management command. URLs (`/plans/`) and lookups (`pk__in`) are not names.
"""

from __future__ import annotations

import ast
import functools
import re
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
DOC = ROOT / "docs" / "architecture.md"
APPS = ["core", "accounts", "planning", "stations", "targets", "reports", "plan_import"]
APPS += ["fireplan", "seeds", "bench", "faults"]
PATH = re.compile(r"[\w<>*./-]+\.(py|js|css|html|yaml)|[\w<>-]+(/[\w<>*.-]+)+/?")
DOTTED = re.compile(r"[a-z_]+(\.[A-Za-z_]+)+")
COMMANDS = {path.stem for path in ROOT.glob("*/management/commands/*.py")}


@functools.cache
def names_in(path: Path) -> frozenset[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            found.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.add(node.value)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            found |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    return frozenset(found)


def module_file(parts: list[str]) -> Path | None:
    path = ROOT.joinpath(*parts)
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def find(token: str, app: str | None) -> Path | None:
    """The file ``token`` names: from the root, the row's app, or beside a folder named."""
    pattern = re.sub(r"<[^>]+>", "*", token)
    places = [pattern, f"{app}/{pattern}" if app else "", f"*/{pattern}", f"*/*/{pattern}"]
    places += [f"templates/{pattern}", f"*/management/commands/{pattern}"]
    for place in filter(None, places):
        hits = sorted(ROOT.glob(place))
        if hits:
            return hits[0]
    return None


def problems() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", lambda m: "\n" * m.group().count("\n"), text, flags=re.S)
    found, app = [], None
    for number, line in enumerate(text.splitlines(), 1):
        row = re.match(r"\|\s*`(\w+)`\s*\|", line)
        app = row.group(1) if row and row.group(1) in APPS else app if line[:1] == "|" else None
        for token in re.findall(r"`([^`]+)`", line):
            token = token.strip()
            if PATH.fullmatch(token):
                if token.startswith(("/", "api/")) or "_/" in token:
                    continue  # an address, or prose (retire_/restore_/…)
                if find(token, app) is None:
                    found.append(f"line {number}: no file {token}")
            elif DOTTED.fullmatch(token) and token.split(".")[0] in APPS:
                parts = token.split(".")
                for cut in range(len(parts), 0, -1):
                    path = module_file(parts[:cut])
                    if path is not None:
                        missing = [name for name in parts[cut:] if name not in names_in(path)]
                        if missing:
                            found.append(f"line {number}: {token} ({path.name} has no {missing})")
                        break
                else:
                    found.append(f"line {number}: no module {token}")
        for mention in re.finditer(r"`([\w<>/.-]+\.py)`\s*\(", line):
            depth, end = 1, mention.end()
            while end < len(line) and depth:
                depth += {"(": 1, ")": -1}.get(line[end], 0)
                end += 1
            path = find(mention.group(1), app)
            if path is None or "*" in str(path):
                continue
            known = names_in(path) | COMMANDS | names_in(ROOT / "fireplan" / "settings.py")
            for name in re.findall(r"`([A-Za-z_][\w.]*)`", line[mention.end() : end - 1]):
                if "__" in name or name.endswith(".py") or name.split(".")[0] in APPS:
                    continue  # a lookup, a file or a dotted name (checked above)
                if not set(name.split(".")) <= known:
                    found.append(f"line {number}: {path.relative_to(ROOT)} has no {name}")
    return found


def test_the_map_names_only_what_exists():
    assert not problems(), "docs/architecture.md is stale:\n" + "\n".join(problems())


def test_the_map_is_linked_from_the_readme():
    assert "docs/architecture.md" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_check_finds_a_stale_name(monkeypatch, tmp_path):
    stale = tmp_path / "architecture.md"
    stale.write_text(
        "| `plan_import` | drafts | `publish.py` (`publish_draft`, `_check_decided`) |\n"
        "Errors: `templates/4xx.html`; the rule: `targets.owed.no_such_rule`.\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(sys.modules[__name__], "DOC", stale)
    found = problems()
    assert any("_check_decided" in row for row in found), found
    assert any("4xx.html" in row for row in found), found
    assert any("no_such_rule" in row for row in found), found
    assert not any("publish_draft" in row for row in found), found
