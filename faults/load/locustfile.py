"""Mixed traffic for the bounded load run (faults/load/run.py): liaisons reading their pages
and saving / submitting figures through the report form, staff reviewing (approve, reopen),
programs reading the API. Every answer but the expected ones is a failure; the run passes
with 0 failures and every invariant true afterwards.

Each liaison works on its own figures (FAULTS_LOAD_CONFIG gives each user a share), staff
approve only submitted figures and reopen only approved ones, so no two users edit the same
version: a 409 or 412 here would be a real fault, not a planned conflict.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from pathlib import Path

from locust import HttpUser, between, task

CONFIG = json.loads(Path(os.environ["FAULTS_LOAD_CONFIG"]).read_text())
PASSWORD = CONFIG["password"]
_liaisons = itertools.cycle(CONFIG["liaisons"])
_field = re.compile(r'name="(csrfmiddlewaretoken|once_token|version)" value="([^"]*)"')


def hidden_fields(html: str) -> dict:
    return dict(_field.findall(html))


class Browser(HttpUser):
    abstract = True
    username = ""

    def log_in(self) -> None:
        page = self.client.get("/accounts/login/", name="login page")
        data = hidden_fields(page.text) | {"username": self.username, "password": PASSWORD}
        with self.client.post(
            "/accounts/login/",
            data=data,
            headers={"Referer": f"{self.host}/accounts/login/"},
            name="log in",
            catch_response=True,
        ) as response:
            if "/accounts/login/" in response.url:
                response.failure(f"login failed for {self.username}")


class Liaison(Browser):
    """Reads 我的填报, opens a figure, saves a draft or submits it."""

    weight = 4
    wait_time = between(0.5, 2)

    def on_start(self):
        mine = next(_liaisons)
        self.username, self.pairs = mine["username"], mine["pairs"]
        self.rng = random.Random(self.username)
        self.log_in()

    @task(2)
    def read_my_reports(self):
        self.client.get("/reporting/my/", name="/reporting/my/")

    @task(5)
    def save_or_submit(self):
        target, region = self.rng.choice(self.pairs)
        url = f"/reporting/{target}/{region}/{CONFIG['period']}/"
        page = self.client.get(url, name="report form")
        fields = hidden_fields(page.text)
        if "once_token" not in fields:
            return  # submitted or approved: nothing to edit
        data = fields | {
            "value": str(self.rng.randint(1, 90)),
            "note": "负载测试",
            "confirm_note": "负载测试数据",
        }
        data["submit" if self.rng.random() < 0.3 else "save"] = ""
        with self.client.post(
            url,
            data=data,
            headers={"Referer": f"{self.host}{url}"},
            name="report form POST",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"save answered {response.status_code}")


class Staff(Browser):
    """Reads the review inbox, approves submitted figures, sometimes reopens one."""

    weight = 1
    wait_time = between(1, 3)

    def on_start(self):
        self.username = CONFIG["staff"]
        self.token = CONFIG["staff_token"]
        self.rng = random.Random(self.username)
        self.log_in()

    def _reports(self, status: str) -> list:
        response = self.client.get(
            f"/api/v1/reports/?status={status}&page_size=20",
            headers={"Authorization": f"Token {self.token}"},
            name=f"API reports {status}",
        )
        return response.json()["results"] if response.status_code == 200 else []

    def _post(self, path: str, data: dict, name: str) -> None:
        inbox = self.client.get("/reporting/review/", name="/reporting/review/")
        data = {"csrfmiddlewaretoken": hidden_fields(inbox.text)["csrfmiddlewaretoken"]} | data
        with self.client.post(
            path,
            data=data,
            headers={"Referer": f"{self.host}/reporting/review/"},
            name=name,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"{name} answered {response.status_code}")

    @task(4)
    def approve(self):
        for report in self._reports("submitted")[:3]:
            self._post(
                f"/reporting/{report['id']}/approve/",
                {"version": report["version"], "next": "/reporting/review/"},
                "approve",
            )

    @task(1)
    def reopen(self):
        approved = self._reports("approved")
        if approved:
            report = self.rng.choice(approved)
            self._post(
                f"/reporting/{report['id']}/reopen/",
                {"version": report["version"], "reason": "负载测试：重新核对", "next": "/"},
                "reopen",
            )


class ApiReader(HttpUser):
    """A program reading the API with a token."""

    weight = 2
    wait_time = between(0.5, 1.5)

    def on_start(self):
        self.client.headers["Authorization"] = f"Token {CONFIG['reader_token']}"
        self.rng = random.Random()

    @task(3)
    def reports(self):
        self.client.get("/api/v1/reports/?page_size=50", name="API reports")

    @task(2)
    def targets(self):
        self.client.get(f"/api/v1/targets/?plan={CONFIG['plan_id']}", name="API targets")

    @task(1)
    def summary(self):
        self.client.get(f"/api/v1/plans/{CONFIG['plan_id']}/summary/", name="API plan summary")

    @task(1)
    def series(self):
        target = self.rng.choice(CONFIG["target_ids"])
        self.client.get(f"/api/v1/targets/{target}/series/", name="API target series")
