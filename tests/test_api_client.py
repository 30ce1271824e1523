"""The API as a generated client sees it (issue 20): openapi-python-client generates a Python
client from the schema /api/schema/ serves, and that client calls every GET operation on the
live server with a token, as a staff user and as a liaison. Each answer must be the status the
role gets (200, or the documented refusal), parse into the model the schema names, and carry
no field the schema does not name (the models' ``additional_properties`` stay empty).

The live server needs committed data, so this test is transactional: the database is flushed
when it ends, and it runs after the other tests (tests/conftest.py, like tests/browser).
"""

from __future__ import annotations

import datetime
import importlib
import json
import subprocess
import sys

import attrs
import httpx
import pytest

from accounts.services import issue_api_token
from tests.openapi import DOCUMENT, READS, REFUSED, add_activity, export_queries

PACKAGE = "fireplan_client"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CONFIG = {
    "package_name_override": PACKAGE,
    "post_hooks": [],  # no formatter run on the generated code
    # The generator reads bodies of JSON, text and octet-stream: the workbooks are bytes.
    "content_type_overrides": {XLSX: "application/octet-stream", DOCX: "application/octet-stream"},
}
# Under pytest-xdist the file runs in one worker: the client is generated once.
pytestmark = pytest.mark.xdist_group("api_client")


@pytest.fixture(scope="module")
def client_package(tmp_path_factory):
    """The generated package, imported (generation fails on any warning of the generator)."""
    work = tmp_path_factory.mktemp("generated")
    (work / "schema.json").write_text(json.dumps(DOCUMENT, ensure_ascii=False), "utf-8")
    (work / "config.json").write_text(json.dumps(CONFIG), "utf-8")
    command = [
        sys.executable, "-m", "openapi_python_client", "generate",
        "--path", str(work / "schema.json"), "--config", str(work / "config.json"),
        "--meta", "none", "--output-path", str(work / PACKAGE), "--fail-on-warning",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(work))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(work))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def undeclared_fields(value, where: str = "") -> list[str]:
    """Fields of the answer that no model declares, anywhere in the parsed tree."""
    if isinstance(value, list):
        return [f for i, item in enumerate(value) for f in undeclared_fields(item, f"{where}[{i}]")]
    if not attrs.has(type(value)):
        return []
    found = [f"{where}.{key}" for key in getattr(value, "additional_properties", {})]
    for field in attrs.fields(type(value)):
        if field.name != "additional_properties":
            found += undeclared_fields(getattr(value, field.name), f"{where}.{field.name}")
    return found


class GeneratedReader:
    """One user's calls through the generated client's functions, one per operation."""

    def __init__(self, package, base_url: str, user, role: str):
        self.package, self.user, self.role = package, user, role
        self.client = package.AuthenticatedClient(
            base_url=base_url,
            token=issue_api_token(user).key,
            prefix="Token",
            timeout=httpx.Timeout(60),
            raise_on_unexpected_status=True,  # a status the schema does not list raises
        )

    def function(self, path: str):
        operation = DOCUMENT["paths"][path]["get"]
        tag = operation["tags"][0]
        return importlib.import_module(
            f"{self.package.__name__}.api.{tag}.{operation['operationId']}"
        )

    def call(self, path: str, **kwargs):
        if "on" in kwargs:  # format: date → the client takes a date
            kwargs["on"] = datetime.date.fromisoformat(kwargs["on"])
        response = self.function(path).sync_detailed(client=self.client, **kwargs)
        expected = REFUSED.get((self.role, path), 200)
        label = f"{self.role} GET {path} {kwargs}"
        assert response.status_code == expected, f"{label}: {response.content[:500]!r}"
        if expected != 200:
            assert type(response.parsed).__name__ == "Error", label
            return response.parsed
        if path.startswith("/api/v1/exports/") or path.endswith("/evaluation-report/"):
            assert response.parsed.payload.read(2) == b"PK", label  # an .xlsx or .docx (zip)
            return response.parsed
        assert response.parsed is not None, label
        assert type(response.parsed).__name__ != "Error", label
        assert undeclared_fields(response.parsed) == [], label
        return response.parsed

    def read(self, path: str) -> int:
        """Calls ``path``; returns how many calls were made."""
        if path.startswith("/api/v1/exports/"):
            queries = export_queries(self.user, path)
            for query in queries:
                self.call(path, **query)
            return len(queries)
        if "{id}" not in path:
            self.call(path)
            return 1
        rows = self.call(path.split("{id}")[0], page_size=500).results
        assert rows, f"{self.role}: no row to read through {path}"
        for row in (rows[0], rows[-1]):
            self.call(path, id=row.id)
        return 2


def test_a_generated_client_reads_every_get_operation(
    client_package, live_server, staff_nanyang, liaison_nanzhao, open_2024, settings
):
    settings.ALLOWED_HOSTS = ["*"]
    add_activity(staff_nanyang, liaison_nanzhao)
    calls = 0
    for role, user in (("staff", staff_nanyang), ("liaison", liaison_nanzhao)):
        reader = GeneratedReader(client_package, live_server.url, user, role)
        # Closing the client ends its keep-alive connection, and so the server's request
        # thread and its database connection (the test database is dropped at the end).
        with reader.client:
            for path in READS:
                calls += reader.read(path)
    assert calls >= 2 * len(READS)
