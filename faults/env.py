"""What every fault script needs: a throwaway database (or a whole throwaway PostgreSQL
cluster), the app under gunicorn on 127.0.0.1, the cast of users, and HTTP clients that keep
a journal of every write the server acknowledged.

The seeded schema is built once into a template database on the server named by
``DATABASE_URL`` (``<name>_faults_template``, rebuilt when a migration or a seed file
changes) and copied from there: ``CREATE DATABASE … TEMPLATE`` on the same server, or
pg_dump | pg_restore into a throwaway cluster. Everything runs on loopback only.

Imports of the apps sit inside functions on purpose: this runs as a plain script
(``python -m faults.…``) that sets Django up first (``faults.env.setup_django``); a model
imported at the top would load before the settings."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fireplan"
SECRET_KEY = "faults-secret-key-0123456789abcdef0123456789"
PASSWORD = "Fault-pass-2024"
PERIOD = "2024"
SAVE_PLAN, SAVE_REGION = "nanyang-2021-2025", "南阳市"  # saves and approvals
# Imports: 南京市's six figures of 2023, written by nobody else. (阜新市's 57 rows would load
# a commit better, but the template download fails for any region whose rows need several
# validation ranges: reports/excel/templates.py passes "H4:H10 H12" to one DataValidation.add.)
IMPORT_PLAN, IMPORT_REGION, IMPORT_PERIOD = "nanjing-2021-2023", "南京市", "2023"


_START = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - _START:6.1f}s] {message}", flush=True)


# ------------------------------------------------------------------------------ databases


def with_db(url: str, name: str, *, host: str | None = None, port: int | None = None) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if host is not None:
        user = netloc.split("@")[0] if "@" in netloc else "postgres"
        netloc = f"{user}@{host}:{port}"
    return urlunsplit((parts.scheme, netloc, f"/{name}", "", ""))


def base_url() -> str:
    return os.environ.get("DATABASE_URL", DEFAULT_URL)


def connect(url: str, dbname: str = "postgres"):
    parts = urlsplit(url)
    conn = psycopg2.connect(
        dbname=dbname,
        user=parts.username or "postgres",
        password=parts.password or None,
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
    )
    conn.autocommit = True
    return conn


def _fingerprint() -> str:
    digest = hashlib.sha256()
    paths = sorted(ROOT.glob("*/migrations/*.py")) + sorted((ROOT / "fixtures").rglob("*.yaml"))
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


def app_env(database_url: str, **extra) -> dict:
    env = os.environ.copy()
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=SECRET_KEY,
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        SECURE_COOKIES="0",
        SECURE_HSTS_SECONDS="0",
        DB_CONN_MAX_AGE="0",
        LOG_LEVEL=os.environ.get("FAULTS_LOG_LEVEL", "WARNING"),
        API_TOKEN_RATE="100000/min",
        API_ANON_RATE="100000/min",
        AXES_FAILURE_LIMIT="1000",
        MEDIA_ROOT=extra.pop("MEDIA_ROOT", str(Path(tempfile.gettempdir()) / "fireplan-faults")),
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def manage(database_url: str, *args: str) -> None:
    subprocess.run(
        [PYTHON, "manage.py", *args, "-v", "0"],
        cwd=ROOT,
        env=app_env(database_url),
        check=True,
        stdout=subprocess.DEVNULL,
    )


def template_database() -> str:
    """The name of an up-to-date seeded template database on the main server."""
    url = base_url()
    name = f"{urlsplit(url).path.lstrip('/') or 'fireplan'}_faults_template"
    mark = _fingerprint()
    conn = connect(url)
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [name],
        )
        row = cursor.fetchone()
        if row and row[0] == mark:
            conn.close()
            return name
        say(f"building the seeded template database {name} (migrate + load_seed_plans)")
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    manage(with_db(url, name), "migrate")
    manage(with_db(url, name), "load_seed_plans")
    with conn.cursor() as cursor:
        cursor.execute(f"COMMENT ON DATABASE \"{name}\" IS '{mark}'")
    conn.close()
    return name


def fresh_database(suffix: str) -> str:
    """A new database on the main server, copied from the template; returns its URL."""
    url = base_url()
    template = template_database()
    name = f"{urlsplit(url).path.lstrip('/') or 'fireplan'}_faults_{suffix}"
    conn = connect(url)
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    conn.close()
    return with_db(url, name)


def drop_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    conn = connect(url)
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def free_port(start: int = 55432, end: int = 55499) -> int:
    for port in range(start, end + 1):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError(f"no free port in {start}–{end}")


class Cluster:
    """A throwaway PostgreSQL 15 cluster: initdb as the postgres user (initdb refuses root),
    listening on 127.0.0.1 only, trust authentication, removed at the end."""

    def __init__(self):
        if not (PG_BIN / "initdb").exists():
            raise RuntimeError(f"PostgreSQL binaries not found in {PG_BIN} (set PG_BIN)")
        self.dir = Path(tempfile.mkdtemp(prefix="fireplan-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/fireplan"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(a) for a in args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True)

    def __enter__(self) -> Cluster:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E",
                  "UTF8", "--locale=C.UTF-8")  # fmt: skip
        self.start(move=True)
        return self

    def start(self, attempts: int = 3, move: bool = False) -> None:
        """Start the server, retrying when it does not come up (a port taken between the
        probe and the bind, a slow machine) — on another free port only before first use
        (``move``), since a restart must keep the address clients know — and fail with the
        server's own log rather than a bare exit status."""
        for attempt in range(1, attempts + 1):
            options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=on"
            done = self._run(PG_BIN / "pg_ctl", "-D", self.data, "-o", options, "-l",
                             self.dir / "log", "-w", "-t", "120", "start", check=False)  # fmt: skip
            if done.returncode == 0:
                return
            log = self.dir / "log"
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
            if attempt == attempts:
                raise RuntimeError(
                    f"pg_ctl start failed {attempts} times (last port {self.port}):\n"
                    f"{done.stdout}{done.stderr}\n--- server log ---\n{tail}"
                )
            print(f"pg_ctl start failed on port {self.port}; retrying:\n{tail}", file=sys.stderr)
            self._run(PG_BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "stop", check=False)
            time.sleep(2 * attempt)
            if move:
                self.port = free_port(self.port + 1)
                self.url = f"postgres://postgres@127.0.0.1:{self.port}/fireplan"

    def crash(self) -> None:
        """Stop abruptly: no checkpoint, clients cut off (what a power cut does to the server
        process; committed transactions are in the WAL and survive)."""
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "stop")

    def restore_from(self, template: str) -> None:
        conn = connect(self.url)
        with conn.cursor() as cursor:
            cursor.execute("CREATE DATABASE fireplan")
        conn.close()
        source = urlsplit(base_url())
        dump = subprocess.Popen(
            [PG_BIN / "pg_dump", "-Fc", "-h", source.hostname or "127.0.0.1", "-p",
             str(source.port or 5432), "-U", source.username or "postgres", template],
            stdout=subprocess.PIPE,
        )  # fmt: skip
        subprocess.run(
            [PG_BIN / "pg_restore", "--no-owner", "-h", "127.0.0.1", "-p", str(self.port),
             "-U", "postgres", "-d", "fireplan"],
            stdin=dump.stdout, check=True, capture_output=True,
        )  # fmt: skip
        dump.wait()

    def __exit__(self, *exc) -> None:
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


class Standby(Cluster):
    """A hot standby of ``primary`` streaming from it: ``pg_basebackup -R`` (which writes
    ``standby.signal`` and ``primary_conninfo``) on its own free loopback port. PostgreSQL 15's
    defaults already allow it (wal_level=replica, max_wal_senders=10, hot_standby=on, and
    initdb's trust lines for replication from 127.0.0.1). Removed at the end like a cluster."""

    def __init__(self, primary: Cluster):
        super().__init__()
        self.primary = primary

    def __enter__(self) -> Standby:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(
            PG_BIN / "pg_basebackup", "-h", "127.0.0.1", "-p", self.primary.port,
            "-U", "postgres", "-D", self.data, "-R", "-X", "stream", "-c", "fast",
        )  # fmt: skip
        self.start(move=True)
        return self

    def wait_caught_up(self, seconds: float = 60) -> None:
        """Until the standby streams from the primary and has replayed everything the primary
        has written so far."""
        primary = connect(self.primary.url)
        with primary.cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()")
            target = cursor.fetchone()[0]
        primary.close()
        deadline = time.monotonic() + seconds
        while True:
            try:
                standby = connect(self.url)
                with standby.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn AND EXISTS"
                        " (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')",
                        [target],
                    )
                    done = cursor.fetchone()[0]
                standby.close()
                if done:
                    return
            except psycopg2.OperationalError:
                pass  # still starting up
            if time.monotonic() > deadline:
                raise RuntimeError(f"the standby did not replay up to {target} in {seconds} s")
            time.sleep(0.1)


# ------------------------------------------------------------------------------ the app


def setup_django(database_url: str) -> None:
    """Configure Django in this process against the fault database (before any model import)."""
    for key, value in app_env(database_url).items():
        if key not in os.environ or os.environ[key] != value:
            os.environ[key] = value
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fireplan.settings")
    import django

    django.setup()


@dataclass
class Cast:
    liaison: str = "fault_liaison_nanyang"
    staff: str = "fault_staff_nanyang"
    importer: str = "fault_liaison_fuxin"
    tokens: dict = field(default_factory=dict)
    pairs: list = field(default_factory=list)  # (target id, region id) the liaison reports


def prepare_cast() -> Cast:
    """Users with tokens, period 2024 open on both plans, the figures the liaison owes."""
    # Here, not at the top: Django is set up first (setup_django).
    import datetime

    from django.contrib.auth.models import User
    from django.utils import timezone

    from accounts.models import Profile
    from accounts.services import issue_api_token
    from core.models import Region
    from planning.models import Plan
    from targets.choices import Feed
    from targets.models import ReportingPeriod, Target
    from targets.owed import owes_period, owing_regions

    cast = Cast()
    for username, role, region in (
        (cast.liaison, "liaison", SAVE_REGION),
        (cast.staff, "staff", SAVE_REGION),
        (cast.importer, "liaison", IMPORT_REGION),
    ):
        user, _ = User.objects.get_or_create(username=username)
        user.set_password(PASSWORD)
        user.save()
        Profile.objects.update_or_create(
            user=user, defaults={"role": role, "region": Region.objects.get(name=region)}
        )
        # set_password ended the user's earlier tokens (accounts.signals): a new one.
        cast.tokens[username] = issue_api_token(user).key
    today = timezone.localdate()
    for code, period in ((SAVE_PLAN, PERIOD), (IMPORT_PLAN, IMPORT_PERIOD)):
        ReportingPeriod.objects.get_or_create(
            plan=Plan.objects.get(code=code),
            period=period,
            defaults={
                "due_on": today + datetime.timedelta(days=10),
                "locks_on": today + datetime.timedelta(days=30),
            },
        )
    owed = Target.objects.filter(plan__code=SAVE_PLAN, feed=Feed.REPORTS)
    for target in owed.select_related("plan").prefetch_related("allocations"):
        if not owes_period(target, PERIOD, target.plan):  # who owes: the one rule
            continue
        for region_id in owing_regions(target):
            cast.pairs.append((target.pk, region_id))
    return cast


class Gunicorn:
    """The app under gunicorn on 127.0.0.1 (sync workers, as in production)."""

    def __init__(
        self,
        database_url: str,
        *,
        workers: int = 2,
        media_root: str | None = None,
        preload: bool = True,
    ):
        # --preload: the app is imported once by the master, so a killed worker is replaced
        # by a fork in milliseconds instead of a fresh Django start-up.
        self.preload = preload
        self.port = free_port(18000, 18999)
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.workers = workers
        self.log = Path(tempfile.mkstemp(prefix="gunicorn-", suffix=".log")[1])
        self.own_media = media_root is None
        self.media_root = media_root or tempfile.mkdtemp(prefix="fireplan-media-")
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        # The port was free when probed; another process (a parallel test run's gunicorn) may
        # bind it first. Then gunicorn exits with "Connection in use": try the next free port.
        for attempt in range(3):
            self._start()
            try:
                self.wait_ready()
                return self
            except RuntimeError:
                if attempt == 2 or "Connection in use" not in self.log.read_text():
                    raise
            self.port = free_port(self.port + 1, 18999)
            self.url = f"http://127.0.0.1:{self.port}"
        return self

    def _start(self) -> None:
        env = app_env(self.database_url, MEDIA_ROOT=self.media_root)
        self.process = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "fireplan.wsgi", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(self.workers), "--timeout", "60", "--graceful-timeout", "5",
             "--log-level", "warning", *(["--preload"] if self.preload else [])],
            cwd=ROOT, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text()[-2000:]}")
            try:
                if requests.get(f"{self.url}/accounts/login/", timeout=2).status_code == 200:
                    if len(self.worker_pids()) >= self.workers:
                        return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not become ready")

    def worker_pids(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.process.pid:
                pids.append(int(entry.name))
        return sorted(pids)

    def kill_worker(self, pid: int | None = None) -> int:
        pid = pid or self.worker_pids()[0]
        os.kill(pid, signal.SIGKILL)
        return pid

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self.own_media:
            shutil.rmtree(self.media_root, ignore_errors=True)


# ------------------------------------------------------------------------------ clients


@dataclass
class Ack:
    """A write the server answered with success: it must be in the database."""

    kind: str  # save, submit, approve, import
    report_id: int | None
    version: int | None
    value: str | None
    status: str | None
    batch_id: int | None = None


class Journal:
    def __init__(self):
        self.acks: list[Ack] = []
        self.failures: list[str] = []  # answers that are wrong whatever the fault (500 etc.)
        self.lost = 0  # requests cut off by the fault (no answer): allowed, not acknowledged
        self.statuses: dict[int, int] = {}
        self.lock = threading.Lock()

    def answer(self, status: int) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1

    def ack(self, ack: Ack) -> None:
        with self.lock:
            self.acks.append(ack)

    def fail(self, message: str) -> None:
        with self.lock:
            self.failures.append(message)

    def cut(self) -> None:
        with self.lock:
            self.lost += 1


def api(base: str, token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    session.base = base  # type: ignore[attr-defined]
    return session


def save_once(session, journal: Journal, pair, value: int, *, submit: bool = False) -> None:
    """Create or change one figure through the API, recording what the server answered."""
    target, region = pair
    base = session.base
    try:
        found = session.get(
            f"{base}/api/v1/reports/",
            params={"target": target, "region": region, "period": PERIOD},
            timeout=30,
        )
        journal.answer(found.status_code)
        if found.status_code != 200:
            if found.status_code >= 500 and found.status_code != 503:
                journal.fail(f"GET reports → {found.status_code}")
            return
        rows = found.json()["results"]
        body = {"value": value, "confirm_note": "故障注入测试", "note": f"v{value}"}
        if rows and rows[0]["status"] not in ("draft", "returned"):
            return
        if rows:
            response = session.patch(
                f"{base}/api/v1/reports/{rows[0]['id']}/",
                json={**body, "version": rows[0]["version"]},
                timeout=30,
            )
        else:
            response = session.post(
                f"{base}/api/v1/reports/",
                json={**body, "target": target, "region": region, "period": PERIOD, "version": 0},
                timeout=30,
            )
        journal.answer(response.status_code)
        if response.status_code in (200, 201):
            data = response.json()
            journal.ack(Ack("save", data["id"], data["version"], str(value), data["status"]))
            if submit:
                done = session.post(
                    f"{base}/api/v1/reports/{data['id']}/submit/",
                    json={"version": data["version"]},
                    timeout=30,
                )
                journal.answer(done.status_code)
                if done.status_code == 200:
                    d = done.json()
                    journal.ack(Ack("submit", d["id"], d["version"], str(value), d["status"]))
                elif done.status_code >= 500 and done.status_code != 503:
                    journal.fail(f"submit → {done.status_code}: {done.text[:200]}")
        elif response.status_code >= 500 and response.status_code != 503:
            journal.fail(f"save → {response.status_code}: {response.text[:200]}")
    except requests.RequestException:
        journal.cut()


def approve_once(session, journal: Journal, report: dict) -> None:
    base = session.base
    try:
        response = session.post(
            f"{base}/api/v1/reports/{report['id']}/approve/",
            json={"version": report["version"]},
            timeout=30,
        )
        journal.answer(response.status_code)
        if response.status_code == 200:
            d = response.json()
            journal.ack(Ack("approve", d["id"], d["version"], str(d["value"]), d["status"]))
        elif response.status_code >= 500 and response.status_code != 503:
            journal.fail(f"approve → {response.status_code}: {response.text[:200]}")
    except requests.RequestException:
        journal.cut()


def browser_login(base: str, username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/accounts/login/"},
        timeout=30,
    )
    assert "/accounts/login/" not in response.url, f"login failed for {username}"
    session.base = base  # type: ignore[attr-defined]
    return session


def csrf(session, html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


@dataclass
class Upload:
    batch_id: int
    commit_url: str
    form: dict
    values: dict  # target code column → value written


def prepare_import(session, plan_id: int, region_id: int, value: int) -> Upload:
    """Download the figures template, fill every row, upload it: a previewed batch."""
    import openpyxl

    base = session.base
    params = {"plan": plan_id, "region": region_id, "period": IMPORT_PERIOD}
    template = session.get(f"{base}/excel/template/", params=params, timeout=60)
    template.raise_for_status()
    workbook = openpyxl.load_workbook(io.BytesIO(template.content))
    sheet = workbook["填报表"]
    values = {}
    for row in range(4, sheet.max_row + 1):
        if sheet.cell(row, 12).value:  # ID column: a row for a target
            sheet.cell(row, 8).value = value
            sheet.cell(row, 10).value = "故障注入测试"
            values[sheet.cell(row, 12).value] = value
    out = io.BytesIO()
    workbook.save(out)
    home = session.get(f"{base}/excel/", timeout=30)
    response = session.post(
        f"{base}/excel/import/",
        data={**params, "mode": "draft", "csrfmiddlewaretoken": csrf(session, home.text)},
        files={"file": ("年度数据.xlsx", out.getvalue())},
        headers={"Referer": f"{base}/excel/"},
        timeout=60,
    )
    if response.status_code != 200:
        raise RuntimeError(f"upload answered {response.status_code}: {response.text[:500]}")
    action = re.search(r'action="(/excel/import/(\d+)/commit/)"', response.text)
    form = {
        "csrfmiddlewaretoken": csrf(session, response.text),
        "confirm_note": "故障注入测试",
    }
    once = re.search(r'name="once_token" value="([^"]+)"', response.text)
    if once:
        form["once_token"] = once.group(1)
    return Upload(int(action.group(2)), f"{base}{action.group(1)}", form, values)


def commit_import(session, journal: Journal, upload: Upload) -> str:
    """Confirm a previewed import: 'committed', 'refused (status)' or 'cut'."""
    try:
        response = session.post(
            upload.commit_url,
            data=upload.form,
            headers={"Referer": upload.commit_url},
            timeout=60,
            allow_redirects=False,
        )
    except requests.RequestException:
        journal.cut()
        return "cut"
    journal.answer(response.status_code)
    if response.status_code == 302 and response.headers["Location"].rstrip("/").endswith("excel"):
        journal.ack(Ack("import", None, None, None, None, batch_id=upload.batch_id))
        return "committed"
    if response.status_code >= 500 and response.status_code != 503:
        journal.fail(f"commit → {response.status_code}")
    return f"refused ({response.status_code})"


@contextlib.contextmanager
def running(threads: list[threading.Thread]):
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        for thread in threads:
            thread.join(120)
