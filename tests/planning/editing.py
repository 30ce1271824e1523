"""Helpers for the edit-page tests: what a browser would post back from a loaded form."""

from django.db import connection
from django.test.utils import CaptureQueriesContext


def form_data(response, form_key: str = "form", **changes) -> dict:
    """The values the page's form shows (as a browser would submit them), with changes."""
    form = response.context[form_key]
    data = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, list | tuple):
            data[name] = [str(v) for v in value]
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is None:
            data[name] = ""
        else:
            data[name] = str(value)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def count_queries(client, url: str) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(captured), [q["sql"] for q in captured.captured_queries]
