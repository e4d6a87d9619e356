"""compose.yaml without a Docker engine: (a) valid against the Compose Specification; (b) its
images' names, entry points, users, ports and health checks are what the Nix image outputs
declare; (c) each duet service runs natively as Compose runs it, through a round trip."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from dev.servers import Postgres, Process, Redis
from dev.system import REPO, STATE, clean_env, free_port, pg_bindir, run, wait_for, write_secret
from dev.venvs import python, venv_dir
from nix_offline.nixcheck import image_facts

from .test_json_logs import json_lines

COMPOSE = REPO / "compose.yaml"
#: Compose services built from duet's images, and the image outputs that make them.
IMAGES = {"web-image": "web", "worker-image": "worker"}
#: Environment variables that hold a secret: never in ``environment:``, only as ``_FILE``.
SECRET_VARIABLES = {"DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "DJANGO_SECRET_KEY"}
SECRET_VARIABLES |= {"OPENAI_API_KEY", "DUET_METRICS_TOKEN", "POSTGRES_PASSWORD"}


def interpolate(value: str) -> str:
    """Compose's ``${NAME:-default}`` with nothing set (the defaults), and ``$$``."""
    value = re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}", r"\1", value)
    return value.replace("$$", "$")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def images() -> dict[str, dict]:
    """What the Nix image outputs declare, by image reference (``duet-web:0.1.0``)."""
    facts = image_facts(IMAGES)
    return {f"{f['name']}:{f['tag']}": {**f, "service": IMAGES[o]} for o, f in facts.items()}


def scripts(service: str) -> dict[str, str]:
    """The console scripts an image's package installs in its /bin, from its pyproject."""
    project = tomllib.loads((REPO / service / "pyproject.toml").read_text())
    return project["tool"]["poetry"]["scripts"]


# --- (a) the schema ----------------------------------------------------------------------


def check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    argv = [str(venv_dir("web") / "bin" / "check-jsonschema"), "--builtin-schema"]
    return subprocess.run([*argv, "vendor.compose-spec", str(path)], capture_output=True, text=True)


def test_the_compose_file_follows_the_compose_specification(tmp_path):
    result = check_jsonschema(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr
    # The validator does catch a mistake of this kind.
    broken, condition = tmp_path / "compose.yaml", "service_completed_successfully"
    broken.write_text(COMPOSE.read_text().replace(condition, "service_completed_successfuly", 1))
    assert check_jsonschema(broken).returncode != 0


# --- (b) against the images ----------------------------------------------------------------


def test_images_entry_points_users_ports_and_health_checks_match_the_nix_images(compose, images):
    services = {name: s for name, s in compose["services"].items() if s["image"] in images}
    assert set(services) == {"migrate", "web", "worker", "sweeper"}
    assert {s["image"] for s in services.values()} == set(images)
    for name, service in services.items():
        image = images[service["image"]]
        config, package = image["config"], image["service"]
        installed = scripts(package)
        # The image's default command runs one of its package's scripts.
        default = config["Cmd"][0]
        assert f"-duet-{package}-{image['tag']}/bin/" in default, default
        assert Path(default).name in installed
        command = service.get("command", [Path(default).name, *config["Cmd"][1:]])
        assert command[0] in installed, f"{name}: {command[0]} is not in the {package} image"
        assert service.get("user", config["User"]) == config["User"]
        for mapping in service.get("ports", []):
            container_port = str(mapping).rsplit(":", 1)[-1]
            assert f"{container_port}/tcp" in config["ExposedPorts"]
            bind = dict(e.split("=", 1) for e in config["Env"])["DUET_WEB_BIND"]
            assert bind.endswith(f":{container_port}")
        if "healthcheck" in service:
            test = service["healthcheck"]["test"]
            assert test[0] == "CMD" and test[1] in installed
            declared = config["Healthcheck"]["Test"]
            assert declared[0] == "CMD" and Path(declared[1]).name == test[1]
    assert "healthcheck" in services["web"] and "healthcheck" in services["worker"]


def test_start_order_and_roles(compose):
    services = compose["services"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("web", "worker", "sweeper"):
        needs = services[name]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully"
        assert needs["redis"]["condition"] == "service_healthy"
    database_url = {
        name: s["environment"]["DATABASE_URL_FILE"]
        for name, s in services.items()
        if "DATABASE_URL_FILE" in s.get("environment", {})
    }
    assert database_url == {
        "migrate": "/run/secrets/database_url_migrator",
        "web": "/run/secrets/database_url_web",
        "worker": "/run/secrets/database_url_worker",
        "sweeper": "/run/secrets/database_url_web",
    }
    postgres = services["postgres"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in postgres["volumes"]}
    assert mounts["/duet/roles.sql"] == "./shared_resource/shared_resource/sql/roles.sql"
    assert mounts["/docker-entrypoint-initdb.d/10-duet-roles.sh"] == "./compose/initdb.sh"


def test_every_secret_is_a_compose_secret_read_as_a_file(compose, tmp_path):
    declared = compose["secrets"]
    subprocess.run([str(REPO / "compose" / "make-secrets.sh"), str(tmp_path)], check=True)
    made = {path.name for path in tmp_path.iterdir()}
    assert {Path(s["file"]).name for s in declared.values()} == made
    assert all(Path(s["file"]).parent == Path("compose/secrets") for s in declared.values())
    assert tmp_path.stat().st_mode & 0o777 == 0o700
    for name, service in compose["services"].items():
        environment = service.get("environment", {})
        assert not SECRET_VARIABLES & set(environment), f"{name} has a secret in environment:"
        for variable, value in environment.items():
            if variable.endswith("_FILE"):
                secret = value.removeprefix("/run/secrets/")
                assert value.startswith("/run/secrets/") and secret in service["secrets"]
        assert set(service.get("secrets", [])) <= set(declared)


# --- (c) natively, as Compose would run them ------------------------------------------------


def native_argv(package: str, command: list[str]) -> list[str]:
    """A console script of the image, run from the checkout with the package's venv."""
    module, function = scripts(package)[command[0]].split(":")
    code = (
        f"import sys; from {module} import {function} as main; "
        f"sys.argv[0] = {command[0]!r}; sys.exit(main())"
    )
    return [str(python(package)), "-c", code, *command[1:]]


class NativeCompose:
    """The duet services of compose.yaml as processes, with the images' environment."""

    def __init__(self, compose: dict, images: dict, root: Path) -> None:
        self.compose, self.images, self.root = compose, images, root
        self.secrets = root / "run-secrets"
        self.web_port = free_port()
        self.processes: list[Process] = []

    def image(self, name: str) -> dict:
        return self.images[self.compose["services"][name]["image"]]

    def package(self, name: str) -> str:
        return self.image(name)["service"]

    def env(self, name: str) -> dict[str, str]:
        env = clean_env({"PYTHONDONTWRITEBYTECODE": "1"})
        image_env = dict(entry.split("=", 1) for entry in self.image(name)["config"]["Env"])
        env.update({key: value for key, value in image_env.items() if key != "PATH"})
        environment = self.compose["services"][name]["environment"]
        env.update({k: interpolate(str(v)) for k, v in environment.items()})
        # What a container has and this machine has not, and only that: /run/secrets is a
        # folder, the store paths of static files and the heartbeat move under the test's
        # folder, and the web listens on a free loopback port.
        for key, value in env.items():
            if value.startswith("/run/secrets/"):
                env[key] = str(self.secrets / value.removeprefix("/run/secrets/"))
        if "DUET_WEB_BIND" in env:
            env["DUET_WEB_BIND"] = f"127.0.0.1:{self.web_port}"
        if "DJANGO_STATIC_ROOT" in env:
            env["DJANGO_STATIC_ROOT"] = str(self.root / "static")
        if "DUET_WORKER_HEARTBEAT_FILE" in env:
            env["DUET_WORKER_HEARTBEAT_FILE"] = str(self.root / "worker.heartbeat")
        env["PATH"] = f"{venv_dir(self.package(name)) / 'bin'}:{env['PATH']}"
        return env

    def command(self, name: str, override: list[str] | None = None) -> list[str]:
        cmd = self.image(name)["config"]["Cmd"]
        default = self.compose["services"][name].get("command", [Path(cmd[0]).name, *cmd[1:]])
        return native_argv(self.package(name), override or default)

    def call(self, name: str, argv: list[str]) -> subprocess.CompletedProcess[str]:
        """``argv`` with the service's environment, from its package's folder."""
        cwd = REPO / self.package(name)
        return subprocess.run(
            argv, env=self.env(name), cwd=cwd, capture_output=True, text=True, timeout=120
        )

    def run(self, name: str, override: list[str] | None = None) -> str:
        """``docker compose run --rm <name> [override]``: to completion."""
        result = self.call(name, self.command(name, override))
        assert result.returncode == 0, f"{name}: {result.stdout}{result.stderr}"
        return result.stdout

    def start(self, name: str) -> Process:
        log, cwd = self.root / "logs" / f"{name}.log", REPO / self.package(name)
        process = Process(name, self.command(name), log=log, env=self.env(name), cwd=cwd).start()
        self.processes.append(process)
        return process

    def healthy(self, name: str) -> bool:
        """The service's own Compose health check, run natively."""
        for process in self.processes:
            assert process.alive(), f"{process.name} exited:\n{process.tail()}"
        test = self.compose["services"][name]["healthcheck"]["test"]
        return self.call(name, native_argv(self.package(name), test[1:])).returncode == 0

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()


def test_each_service_runs_natively_as_compose_runs_it_through_a_round_trip(compose, images):
    root = STATE / "compose"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    native = NativeCompose(compose, images, root)
    # The secrets, as compose/make-secrets.sh writes them.
    subprocess.run([str(REPO / "compose" / "make-secrets.sh"), str(native.secrets)], check=True)
    secret = {p.name: p.read_text() for p in native.secrets.iterdir()}
    # PostgreSQL with the postgres_password secret (POSTGRES_PASSWORD_FILE), Redis with
    # the redis_conf secret's password.
    assert compose["services"]["postgres"]["environment"] == {
        "POSTGRES_PASSWORD_FILE": "/run/secrets/postgres_password"
    }
    assert secret["redis_conf"].strip() == f"requirepass {secret['redis_password']}"
    write_secret(root / "secrets" / "postgres-superuser", secret["postgres_password"])
    write_secret(root / "secrets" / "redis", secret["redis_password"])
    postgres, redis = Postgres(root, fast=True), Redis(root)
    try:
        postgres.start()
        redis.start()
        # Compose's host names become this machine's loopback ports.
        for name, value in secret.items():
            value = value.replace("@postgres:5432/", f"@127.0.0.1:{postgres.port}/")
            value = value.replace("@redis:6379/", f"@127.0.0.1:{redis.port}/")
            (native.secrets / name).write_text(value)
        # The database's first start: compose/initdb.sh runs roles.sql with the passwords.
        initdb = {
            "PATH": f"{pg_bindir()}:{clean_env()['PATH']}",
            "PGHOST": "127.0.0.1",
            "PGPORT": str(postgres.port),
            "PGPASSWORD": secret["postgres_password"],
            "POSTGRES_USER": "postgres",
            "DUET_SECRETS_DIR": str(native.secrets),
            "DUET_ROLES_SQL": str(REPO / "shared_resource/shared_resource/sql/roles.sql"),
        }
        run([str(REPO / "compose" / "initdb.sh")], env=clean_env(initdb), quiet=True)
        native.run("migrate")
        # The image collects its static files at build time (nix/packages/web-static.nix).
        native.run("web", ["duet-manage", "collectstatic", "--noinput", "--verbosity", "0"])
        for name in ("web", "worker", "sweeper"):
            native.start(name)
        wait_for(lambda: native.healthy("web"), "the web's Compose health check", 90)
        wait_for(lambda: native.healthy("worker"), "the worker's Compose health check", 90)
        token = native.run("web", ["duet-manage", "create_api_user", "compose"]).strip()
        argv = [sys.executable, str(REPO / "e2e" / "scenario.py"), "--token", token]
        argv += ["--base-url", f"http://127.0.0.1:{native.web_port}", "--timeout", "60"]
        scenario = subprocess.run(argv, capture_output=True, text=True, timeout=180)
        assert scenario.returncode == 0, scenario.stdout + scenario.stderr
        assert scenario.stdout.strip().splitlines()[-1].startswith("roundtrip: ok")
        # The Compose file asks for JSON logs: every line of every service is one object.
        for process in native.processes:
            json_lines(process.log)
    finally:
        native.stop()
        redis.stop()
        postgres.stop()
