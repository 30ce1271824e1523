"""What users are told goes through gettext, with named placeholders, so an English UI is a
translation file and not a code change — and the Chinese they see today stays the same.

The first tests read the source (``ast``): a user-facing message (a ServiceError, a page
message, a 403, a form error …) may not be a bare Chinese literal or f-string, and what is
handed to ``_()`` must be one literal whose placeholders are named (``%(title)s``), filled
with ``% {...}``. The last tests check a few messages word for word in the active language.
"""

from __future__ import annotations

import ast
import datetime
import functools
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent

# The apps whose messages go through gettext (migrations are history, not messages).
SCOPE = [
    "core", "accounts", "planning", "stations", "targets", "reports", "plan_import", "fireplan",
]  # fmt: skip
NOT_YET: set[str] = set()

# Calls whose argument is text for the user (by the called name, ``x.name`` included).
MESSAGE_CALLS = {
    "ServiceError",
    "NotAllowed",
    "InvalidInput",
    "invalid",
    "PermissionDenied",
    "ValidationError",
    "add_error",
    "Http404",
    "AuthenticationFailed",  # DRF: the API's 401 message
    "ImportRefused",  # ServiceError of the Excel import
    "CellError",  # the import preview's message for one cell
    "RowError",  # the import preview's message for one row
}
PAGE_MESSAGES = {"success", "error", "warning", "info"}  # messages.<level>(request, text)
GETTEXT = {"_", "gettext", "gettext_lazy", "pgettext", "pgettext_lazy"}

# Allowed bare literals: (file, line text) → why. Empty: every message is translated.
ALLOWED: dict[tuple[str, str], str] = {}

CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
NAMED_OR_ESCAPED = re.compile(r"%%|%\(\w+\)")
POSITIONAL = re.compile(r"%[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc]|\{[^{}]*\}")


def _files() -> list[Path]:
    found = []
    for app in SCOPE:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "migrations" in path.parts or relative in NOT_YET:
                continue
            if app in ("core", "fireplan") and len(path.relative_to(ROOT).parts) > 2:
                continue  # core/*.py and fireplan/*.py only
            found.append(path)
    return found


FILES = _files()


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _is_gettext(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and _name(node.func) in GETTEXT


def _is_message_call(call: ast.Call) -> bool:
    func = call.func
    if (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == "messages"
    ):
        return func.attr in PAGE_MESSAGES
    return _name(func) in MESSAGE_CALLS


def _has_cjk(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and bool(CJK.search(node.value))
    if isinstance(node, ast.JoinedStr):
        return any(_has_cjk(part) for part in node.values if isinstance(part, ast.Constant))
    return False


def _bare(node: ast.expr) -> bool:
    """Untranslated text: a Chinese literal or f-string, also inside ``%``/``+``, ``.format``,
    a conditional, or the dict or list of an InvalidInput. ``_(...)`` and other calls
    (``"、".join(...)``, ``str(...)``) are not looked into."""
    if isinstance(node, ast.Constant | ast.JoinedStr):
        return _has_cjk(node)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        return _bare(node.left) or _bare(node.right)
    if isinstance(node, ast.IfExp):
        return _bare(node.body) or _bare(node.orelse)
    if isinstance(node, ast.Call):
        func = node.func
        return isinstance(func, ast.Attribute) and func.attr == "format" and _bare(func.value)
    if isinstance(node, ast.Dict):
        return any(_bare(value) for value in node.values)
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return any(_bare(element) for element in node.elts)
    return False


def _where(path: Path, node: ast.AST, source: list[str]) -> str:
    return f"{path.relative_to(ROOT).as_posix()}:{node.lineno}: {source[node.lineno - 1].strip()}"


@functools.cache
def _parsed() -> list[tuple[Path, ast.Module, list[str]]]:
    parsed = []
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        parsed.append((path, ast.parse(text), text.splitlines()))
    return parsed


def test_the_scope_is_found():
    names = {path.relative_to(ROOT).as_posix() for path in FILES}
    assert {"core/services.py", "planning/views.py", "reports/excel/importers.py"} <= names
    assert not names & NOT_YET
    assert not any("migrations" in name for name in names)


def test_no_message_is_a_bare_chinese_literal():
    found = []
    for path, tree, source in _parsed():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not _is_message_call(node):
                continue
            arguments = [*node.args, *(keyword.value for keyword in node.keywords)]
            if any(_bare(argument) for argument in arguments):
                key = (path.relative_to(ROOT).as_posix(), source[node.lineno - 1].strip())
                if key not in ALLOWED:
                    found.append(_where(path, node, source))
    assert not found, "wrap these messages in _() with named placeholders:\n" + "\n".join(found)


def test_translated_text_is_one_literal_with_named_placeholders():
    """``_(f"…{x}")`` would look up a different text for each ``x``; ``%s`` and ``{}`` cannot
    be reordered by a translator."""
    found = []
    for path, tree, source in _parsed():
        for node in ast.walk(tree):
            if not _is_gettext(node):
                continue
            literal = node.args[-1] if node.args else None
            if not (isinstance(literal, ast.Constant) and isinstance(literal.value, str)):
                found.append(_where(path, node, source) + "  (not one string literal)")
                continue
            if POSITIONAL.search(NAMED_OR_ESCAPED.sub("", literal.value)):
                found.append(_where(path, node, source) + "  (positional placeholder)")
    assert not found, "\n".join(found)


def test_placeholders_are_filled_from_a_dict():
    found = []
    for path, tree, source in _parsed():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.BinOp)
                and isinstance(node.op, ast.Mod)
                and _is_gettext(node.left)
                and not isinstance(node.right, ast.Dict)
            ):
                found.append(_where(path, node, source))
    assert not found, "fill named placeholders with % {...}:\n" + "\n".join(found)


def test_the_allow_list_has_reasons_and_no_dead_entries():
    for key, reason in ALLOWED.items():
        assert reason.strip(), key
        path = ROOT / key[0]
        assert key[1] in path.read_text(encoding="utf-8"), key


# ------------------------------------------------------------------ the words stay the same


def test_the_active_language_is_simplified_chinese():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert translation.get_language() == "zh-hans"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def station(seeded):
    from stations.models import Station

    return Station.objects.get(name="南阳市南召县育才路消防站")


def test_a_form_success_message_is_unchanged(staff_nanyang, station):
    from tests.planning.editing import form_data

    client = _client(staff_nanyang)
    url = reverse("stations:station_edit", args=[station.pk])
    response = client.post(url, form_data(client.get(url), address="育才路2号"))

    assert response.status_code == 302
    shown = [str(message) for message in get_messages(response.wsgi_request)]
    assert shown == ["已保存：南阳市南召县育才路消防站"]


def test_a_stale_edit_message_is_unchanged(staff_nanyang, station):
    from core.services import StaleEdit
    from stations import services
    from tests.conftest import make_user

    colleague = make_user("staff_nanyang_wang", "staff", "南阳市", first_name="王五")
    services.update_station(station, actor=colleague, version=1, changes={"address": "育才路3号"})

    with pytest.raises(StaleEdit) as refused:
        services.update_station(station, actor=staff_nanyang, version=1, changes={"address": ""})

    when = refused.value.changed_at
    assert isinstance(when, datetime.datetime)
    assert refused.value.message == (
        f"该记录已被他人修改，请刷新后重试（王五 于 {when:%Y-%m-%d %H:%M} 修改）"
    )
    assert type(refused.value.message) is str


def test_a_lazy_constant_arrives_as_plain_text(staff_nanyang, outsider, station):
    """OUT_OF_SCOPE is gettext_lazy; the error carries it as str, ready for JSON."""
    from core.services import OUT_OF_SCOPE, NotAllowed
    from stations import services

    with pytest.raises(NotAllowed) as refused:
        services.update_station(station, actor=outsider, version=1, changes={"address": "x"})

    assert refused.value.message == "该记录不在您的管理范围内" == str(OUT_OF_SCOPE)
    assert json.loads(json.dumps({"message": refused.value.message})) == {
        "message": "该记录不在您的管理范围内"
    }


def test_a_literal_percent_sign_survives_named_formatting():
    from core.numbers import NumberError, parse_number

    with pytest.raises(NumberError) as refused:
        parse_number("十二")

    assert "%%" not in refused.value.message and "95%" in refused.value.message


def test_an_api_error_message_is_unchanged(staff_nanyang):
    response = _client(staff_nanyang).get("/api/v1/plans/0.5/")

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "对象不存在或不在您的范围内"}
