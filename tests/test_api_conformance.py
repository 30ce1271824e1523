"""Every read operation of /api/schema/ answers what the schema says (issue 20).

The fuzz test (test_api_fuzz.py) sends random ids, which mostly meet a 404; here every GET
operation is called with real ids, as a staff user and as a liaison, on seed data plus a
report, a task update, evidence and notices, and schemathesis checks each response: status
code documented, content type documented, body valid against the schema. Against a closed
copy of the schema (``additionalProperties: false`` on every object that lists its
properties), so a field the schema does not name fails too.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from accounts.services import issue_api_token
from tests.openapi import (
    CHECKS,
    DOCUMENT,
    READS,
    REFUSED,
    add_activity,
    closed,
    export_queries,
    schema_for_app,
    wsgi_in_process,
)

schema = schema_for_app(closed(DOCUMENT))
ROLES = {"staff": "staff_nanyang", "liaison": "liaison_nanzhao"}

# Query strings per operation besides the plain call: pages and cursors for lists, another
# date for the status engine (early in a plan, little can be judged: shares are null).
LIST_QUERIES = [{"page_size": 500}, {"pagination": "cursor", "page_size": 2}]
EXTRA_QUERIES = {
    "/api/v1/plans/{id}/summary/": [{"on": "2021-03-31"}],
    "/api/v1/regions/{id}/summary/": [{"on": "2021-03-31"}],
    "/api/v1/targets/{id}/series/": [{"on": "2022-06-30"}],
    "/api/v1/targets/{id}/cascade/": [{"on": "2022-06-30"}],
    "/api/v1/targets/{id}/": [{"on": "2021-03-31"}],
    "/api/v1/charts/": [{"on": "2021-03-31", "since": "2021-01-01"}],
    "/api/v1/plans/{id}/charts/": [{"on": "2024-06-30", "since": "2024-01-01"}],
    "/api/v1/regions/{id}/charts/": [{"on": "2021-03-31"}],
}
IDS_PER_DETAIL = 6


@pytest.fixture(autouse=True)
def in_process(settings, db):
    with wsgi_in_process(settings):
        yield


@pytest.fixture
def activity(staff_nanyang, liaison_nanzhao, open_2024):
    add_activity(staff_nanyang, liaison_nanzhao)


class Reader:
    """One user's calls through schemathesis: every response validated as it arrives."""

    def __init__(self, user):
        self.user = user
        self.headers = {"Authorization": f"Token {issue_api_token(user).key}"}
        self.statuses: dict[str, list[tuple[str, int]]] = {}

    def call(self, path: str, ids: dict | None = None, query: dict | None = None):
        case = schema[path]["GET"].Case(path_parameters=ids or {}, query=query or {})
        response = case.call_and_validate(headers=self.headers, checks=CHECKS)
        called = f"{ids or ''} ?{urlencode(query or {})}"
        self.statuses.setdefault(path, []).append((called, response.status_code))
        return response

    def ids(self, list_path: str) -> list[int]:
        """A spread of the ids the user sees in a list (first, last and between)."""
        response = self.call(list_path, query={"page_size": 500})
        ids = (
            [row["id"] for row in response.json()["results"]] if response.status_code == 200 else []
        )
        if len(ids) <= IDS_PER_DETAIL:
            return ids
        step = (len(ids) - 1) / (IDS_PER_DETAIL - 1)
        return sorted({ids[round(i * step)] for i in range(IDS_PER_DETAIL)})

    def read(self, path: str) -> None:
        if path.startswith("/api/v1/exports/"):
            for query in export_queries(self.user, path):
                self.call(path, query=query)
        elif "{id}" in path:
            ids = self.ids(path.split("{id}")[0])
            for pk in ids:
                for query in [{}, *EXTRA_QUERIES.get(path, [])]:
                    self.call(path, {"id": pk}, query)
            self.call(path, {"id": 2_000_000_000})  # not there: the documented 404
        else:
            for query in [{}, *LIST_QUERIES, *EXTRA_QUERIES.get(path, [])]:
                self.call(path, query=query)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", READS)
def test_every_read_conforms_to_the_schema(request, path, role, activity):
    reader = Reader(request.getfixturevalue(ROLES[role]))
    reader.read(path)
    answered = {status for _, status in reader.statuses[path]}
    assert REFUSED.get((role, path), 200) in answered, reader.statuses[path]


def test_the_reads_include_every_custom_action():
    """The @action GETs (and the exports) are in the schema, so parametrized above."""
    actions = {
        "/api/v1/plans/{id}/summary/",
        "/api/v1/plans/{id}/integrity/",
        "/api/v1/regions/{id}/summary/",
        "/api/v1/targets/{id}/series/",
        "/api/v1/targets/{id}/cascade/",
        "/api/v1/exports/figures-template/",
    }
    assert actions <= set(READS) and len(READS) >= 37
