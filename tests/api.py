"""Generic API checks every resource gets in a few lines (STYLE §17, after NetBox)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def if_match(obj) -> dict:
    """The If-Match header for the version of ``obj`` in the database (what a GET's ETag says);
    every PUT / PATCH needs it (or a ``version`` field), else 428."""
    obj.refresh_from_db(fields=["version"])
    return {"HTTP_IF_MATCH": f'"{obj.pk}-{obj.version}"'}


def count_list_queries(user, url: str) -> int:
    # A fresh user object: the scope is cached per user object (per request in real use).
    client = client_for(type(user).objects.get(pk=user.pk))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries)


def error_code(response) -> str:
    return response.json()["code"]
