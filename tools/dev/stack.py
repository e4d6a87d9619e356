"""The whole native stack, started one way for ``./dev up``, demo, e2e, faults and bench."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from typing import Any

import requests

from .servers import ROLES, Postgres, Process, Redis
from .system import (
    REPO,
    HarnessError,
    clean_env,
    pg_bindir,
    read_or_create_secret,
    read_since,
    remembered_port,
    run,
    say,
    wait_for,
    write_secret,
)
from .venvs import venv_dir


@dataclass
class Stack:
    state: Path
    development: bool = False
    """DUET_ENV=development (browsable API, built-in fallbacks) instead of production."""
    web_workers: int = 2
    worker_concurrency: int = 2
    sweep_interval: float | None = 5.0
    """Seconds between sweeps; None runs no sweeper process."""
    fast_db: bool = False
    web_env: dict[str, str] = field(default_factory=dict)
    worker_env: dict[str, str] = field(default_factory=dict)
    broker_url: str | None = None
    """The Celery broker for both services; None: the stack's own Redis."""
    serve: bool = True
    """Start gunicorn, a worker and the sweeper; False: only the servers and migrate."""
    session_settings: dict[str, str] = field(default_factory=dict)
    """PostgreSQL settings for every session of the web and worker roles (ALTER ROLE SET)."""

    def __post_init__(self) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        self.logs = self.state / "logs"
        self.postgres = Postgres(self.state, fast=self.fast_db)
        self.redis = Redis(self.state)
        self.web: Process | None = None
        self.workers: list[Process] = []
        self.sweeper: Process | None = None
        self.web_port = 0

    # -- environments ------------------------------------------------------------------------

    def service_env(self, service: str, role: str | None = None) -> dict[str, str]:
        """A web or worker process's environment, as ``role``; secrets only as 0600 ``*_FILE``s."""
        role, secrets = role or service, self.state / "secrets"
        broker = self.broker_url or self.redis.url(0)
        env = clean_env(
            {
                "DUET_ENV": "development" if self.development else "production",
                "DATABASE_URL_FILE": str(self.postgres.url_file(role)),
                "CELERY_BROKER_URL_FILE": str(write_secret(secrets / "broker-url", broker)),
                "PYTHONUNBUFFERED": "1",
                "PYTHONDONTWRITEBYTECODE": "1",
                "PATH": f"{venv_dir(service) / 'bin'}:{os.environ['PATH']}",
            }
        )
        if service == "web":
            env.update(
                {
                    "DJANGO_SECRET_KEY_FILE": str(secrets / "django-secret-key"),
                    "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
                    "CACHE_URL_FILE": str(write_secret(secrets / "cache-url", self.redis.url(1))),
                    "DUET_WORKER_DB_ROLE": ROLES["worker"],
                    "DJANGO_STATIC_ROOT": str(self.state / "static"),
                    **self.web_env,
                }
            )
            read_or_create_secret(secrets / "django-secret-key")
        else:
            env.update(self.worker_env)
        return env

    @staticmethod
    def role_for(command: str) -> str:
        """The database role a management command runs as: only migrate has DDL."""
        return "migrator" if command == "migrate" else "web"

    def manage(self, *args: str, role: str = "web", env: dict[str, str] | None = None) -> str:
        """Run a web management command (``role="migrator"`` for migrate)."""
        argv, what = [sys.executable, "manage.py", *args], f"manage.py {' '.join(args[:1])}"
        env = {**self.service_env("web", role), **(env or {})}
        return run(argv, env=env, cwd=REPO / "web", what=what)

    def web_side(self, *args: str) -> None:
        """Run tools/dev/webside.py: jobs published through the web's own code, no HTTP."""
        argv = [sys.executable, str(Path(__file__).with_name("webside.py")), *args]
        env = {**self.service_env("web"), "DJANGO_LOG_LEVEL": "WARNING"}
        run(argv, env=env, cwd=REPO / "web", what=f"webside.py {args[0]}", quiet=True)

    def attach(self) -> Stack:
        """Use the servers a running ``./dev up`` started in this state folder, as they are."""
        ports_file = self.state / "ports.json"
        ports = json.loads(ports_file.read_text()) if ports_file.exists() else {}
        self.postgres.port = ports.get("postgres", 0)
        self.redis.port = ports.get("redis", 0)
        self.web_port = ports.get("web", 0)
        if not (self.postgres.port and self.redis.port and self.postgres.accepting()):
            raise HarnessError(f"no stack is running in {self.state}: start one with ./dev up")
        return self

    def manage_interactive(self, args: list[str]) -> int:
        """Run a management command on the caller's terminal, as the role it needs."""
        env = self.service_env("web", self.role_for(args[0]) if args else "web")
        return subprocess.run(
            [sys.executable, "manage.py", *args], env=env, cwd=REPO / "web"
        ).returncode

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start(self) -> Stack:
        say(f"starting PostgreSQL and Redis under {self.state}")
        self.postgres.start()
        self.postgres.create_roles()
        for role in ("web", "worker"):
            for name, value in self.session_settings.items():
                self.sql(f"ALTER ROLE {ROLES[role]} SET {name} = '{value}'")
        self.redis.start()
        self.migrate()
        if not self.serve:
            return self
        self.collect_static()
        self.start_web()
        self.start_worker()
        if self.sweep_interval is not None:
            self.start_sweeper()
        return self

    def migrate(self) -> None:
        say("migrating as the migrator role")
        self.manage("migrate", "--noinput", role=self.role_for("migrate"))

    def collect_static(self) -> None:
        """Swagger UI, ReDoc and browsable API files, as the image collects them at build time."""
        self.manage("collectstatic", "--noinput", "--verbosity", "0")

    def service_process(self, name: str, service: str, argv: list[str], **options: Any) -> Process:
        """A process of ``service``: its venv's program, in its folder, logging to logs/."""
        env = {**self.service_env(service), **options.pop("env", {})}
        argv = [str(venv_dir(service) / "bin" / argv[0]), *argv[1:]]
        log = self.logs / f"{name}.log"
        return Process(name, argv, log=log, env=env, cwd=REPO / service, **options)

    def start_web(self) -> Process:
        if not self.web_port:
            self.web_port = remembered_port(self.state, "web")
        env = {
            "DUET_WEB_BIND": f"127.0.0.1:{self.web_port}",
            "WEB_CONCURRENCY": str(self.web_workers),
        }
        conf = ["--config", "python:duet_web.gunicorn_conf"]
        argv = ["gunicorn", *conf, "duet_web.wsgi:application"]
        self.web = self.service_process("web", "web", argv, env=env, ready=self.web_answers).start()
        return self.web

    def web_answers(self) -> bool:
        try:
            return http_json("GET", f"{self.base_url}/api/health/")[0] == 200
        except OSError:
            return False

    def start_worker(
        self, concurrency: int | None = None, env: dict[str, str] | None = None
    ) -> Process:
        """Start one more Celery worker node; returns it once it is consuming."""
        index = len(self.workers) + 1
        argv = ["celery", "--app", "duet_worker", "worker", "--loglevel", "INFO", "--concurrency"]
        argv += [str(concurrency or self.worker_concurrency), "--hostname", f"worker{index}@%h"]
        # Nothing here uses broadcast state; skipping it saves seconds per start.
        argv += ["--without-mingle", "--without-gossip"]
        env = {"DUET_WORKER_HEARTBEAT_FILE": str(self.heartbeat(index)), **(env or {})}
        worker = self.service_process(f"worker{index}", "worker", argv, env=env, timeout=90)
        self.workers.append(start_celery(worker))
        return worker

    def heartbeat(self, index: int) -> Path:
        """The heartbeat file of worker node ``index`` (1-based)."""
        run_dir = self.state / "run"
        run_dir.mkdir(exist_ok=True)
        return run_dir / f"worker{index}.heartbeat"

    def start_sweeper(self) -> Process:
        argv = ["python", "manage.py", "sweep_jobs", "--interval", str(self.sweep_interval)]
        self.sweeper = self.service_process("sweeper", "web", argv).start()
        return self.sweeper

    def scenario(
        self, token: str, other_token: str | None = None, capture: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run the standalone scenario program (e2e/scenario.py) against this stack."""
        argv = [sys.executable, str(REPO / "e2e" / "scenario.py"), "--base-url", self.base_url]
        argv += ["--token", token, "--timeout", "60"]
        if other_token:
            argv += ["--other-token", other_token]
        return subprocess.run(argv, capture_output=capture, text=True, timeout=180)

    def create_token(self, username: str, *options: str) -> str:
        """A new token for ``username`` (created if missing); printed once, stored hashed."""
        return self.manage("create_api_user", username, *options).strip()

    def remembered_token(self, username: str) -> str:
        """The token kept (0600) for ``username`` while it still works; else a new one, kept."""
        if not re.fullmatch(r"[\w.@+-]+", username):
            raise HarnessError(f"invalid user name {username!r}")
        path = self.state / "secrets" / f"api-token-{username}"
        if path.exists():
            token = path.read_text().strip()
            if http_json("GET", f"{self.base_url}/api/documents/?page_size=1", token)[0] == 200:
                return token
        token = self.create_token(username, "--name", "./dev (kept in .state)")
        write_secret(path, token)
        return token

    def pg_dump(self) -> str:
        """duet's whole database as SQL, dumped as the superuser (what a backup holds)."""
        argv = [str(pg_bindir() / "pg_dump"), "--no-password", "-h", "127.0.0.1"]
        argv += ["-p", str(self.postgres.port), "-U", "postgres", "-d", "duet"]
        return run(argv, env=self.postgres.psql_env(), what="pg_dump", quiet=True)

    def processes(self) -> list[Process]:
        return [p for p in (self.sweeper, *self.workers, self.web) if p is not None]

    def stop(self) -> None:
        for process in self.processes():
            process.stop()
        self.redis.stop()
        self.postgres.stop()

    def __enter__(self) -> Stack:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- observing -----------------------------------------------------------------------------

    def sql(self, query: str, database: str = "duet") -> list[list[str]]:
        """Run one query as the superuser (on duet's database); rows of strings."""
        out = self.postgres.psql("-At", "-F", "\t", "-c", query, database=database)
        return [line.split("\t") for line in out.splitlines() if line]

    def wait_for_jobs(self, total: int, timeout: float) -> None:
        """Wait until ``total`` jobs are terminal."""
        query = "SELECT count(*) FROM common_summaryjob WHERE status IN ('succeeded', 'failed')"
        wait_for(lambda: int(self.sql(query)[0][0]) >= total, f"{total} jobs", timeout, 0.5)


def start_celery(worker: Process) -> Process:
    """Start a Celery worker node; it is ready once its log says `` ready.``."""
    offset = worker.log.stat().st_size if worker.log.exists() else 0
    worker.ready = lambda: " ready." in read_since(worker.log, offset)
    return worker.start()


_sessions = threading.local()


def _session() -> requests.Session:
    """This thread's session: ``requests.request`` builds and tears down a new one per call,
    about 1 ms of the harness's CPU in every latency ``./dev bench`` reports. It keeps no
    cookies, so every call stands alone as before."""
    if not hasattr(_sessions, "session"):
        _sessions.session = requests.Session()
        _sessions.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return _sessions.session


def http_json(
    method: str,
    url: str,
    token: str | None = None,
    body: object | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], object]:
    """One JSON request: (status, headers, decoded body, or its text if it is not JSON)."""
    headers = {"Accept": "application/json", **(headers or {})}
    if token:
        headers["Authorization"] = f"Token {token}"
    reply = _session().request(method, url, json=body, headers=headers, timeout=30)
    try:
        parsed = reply.json() if reply.content else None
    except ValueError:
        parsed = reply.text
    return reply.status_code, dict(reply.headers), parsed
