"""HTTP load run (issue 9): one endpoint at a time, as fast as the users can go (no think time).

Driven by bench/load/run.sh, which sets
  BENCH_ENDPOINT  reports (GET /api/v1/reports/?page_size=100, token auth),
                  targets (GET /api/v1/targets/?page_size=100, status included, token auth)
                  or overview (GET /, session of the national staff user)
  BENCH_TOKEN     the API token of bench_staff
  BENCH_USERNAME, BENCH_PASSWORD  for the overview's session login (done once, before the
                  users start, so password hashing is not part of the measurement)
"""

import os
import re

import requests
from locust import FastHttpUser, events, task
from locust.exception import StopUser

ENDPOINT = os.environ.get("BENCH_ENDPOINT", "reports")
PATHS = {
    "reports": "/api/v1/reports/?page_size=100",
    "targets": "/api/v1/targets/?page_size=100",
    "overview": "/",
}
SESSION: dict[str, str] = {}


@events.test_start.add_listener
def log_in_once(environment, **kwargs):
    if ENDPOINT != "overview":
        return
    host = environment.host
    with requests.Session() as browser:
        page = browser.get(f"{host}/accounts/login/", timeout=60)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        browser.post(
            f"{host}/accounts/login/",
            data={
                "username": os.environ["BENCH_USERNAME"],
                "password": os.environ["BENCH_PASSWORD"],
                "csrfmiddlewaretoken": token,
            },
            headers={"Referer": f"{host}/accounts/login/"},
            timeout=60,
        )
        if "sessionid" not in browser.cookies:
            raise RuntimeError("login failed: no session cookie")
        SESSION["cookie"] = f"sessionid={browser.cookies['sessionid']}"


class BenchUser(FastHttpUser):
    def on_start(self):
        if ENDPOINT == "overview":
            self.headers = {"Cookie": SESSION["cookie"]}
        elif ENDPOINT in ("reports", "targets"):
            self.headers = {"Authorization": f"Token {os.environ['BENCH_TOKEN']}"}
        else:
            raise StopUser(f"unknown BENCH_ENDPOINT {ENDPOINT}")

    @task
    def get(self):
        with self.client.get(
            PATHS[ENDPOINT], headers=self.headers, name=ENDPOINT, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
