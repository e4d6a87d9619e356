"""The two locks: fresh, separate, and each holding only its own side's libraries."""

import shutil
import subprocess
import tomllib

import pytest

from dev.system import REPO
from dev.venvs import SERVICES, poetry, python


def locked(service):
    lock = tomllib.loads((REPO / service / "poetry.lock").read_text())
    return {package["name"]: package for package in lock["package"]}, lock["metadata"]


@pytest.mark.parametrize("service", SERVICES)
def test_a_lock_that_lags_its_pyproject_is_caught(service, tmp_path):
    copy = tmp_path / service
    shutil.copytree(REPO / service, copy, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    shutil.copytree(REPO / "shared_resource", tmp_path / "shared_resource")
    poetry("check", "--lock", "--directory", str(copy))  # fresh: passes
    pyproject = copy / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            "[tool.poetry.dependencies]\n", '[tool.poetry.dependencies]\nsix = "*"\n'
        )
    )
    with pytest.raises(Exception, match=r"poetry\.lock"):
        poetry("check", "--lock", "--directory", str(copy))


@pytest.mark.parametrize("service", SERVICES)
def test_both_locks_take_shared_resource_from_the_tree(service):
    packages, metadata = locked(service)
    shared = packages["shared-resource"]
    assert shared["source"] == {"type": "directory", "url": "../shared_resource"}
    assert shared["develop"] is False
    # Resolved for CPython 3.11 (native) and 3.12 (nixpkgs' python312) alike.
    assert metadata["python-versions"] == ">=3.11,<3.13"
    assert metadata["lock-version"] == "2.0"


def test_the_web_lock_holds_no_llm_client():
    packages, _ = locked("web")
    assert not {"openai", "httpx2", "jiter", "pydantic"} & packages.keys()
    assert {"djangorestframework", "gunicorn", "celery"} <= packages.keys()


def test_the_worker_lock_holds_neither_drf_nor_gunicorn():
    packages, _ = locked("worker")
    assert not {"djangorestframework", "drf-spectacular", "gunicorn"} & packages.keys()
    assert {"openai", "celery", "django"} <= packages.keys()


@pytest.mark.parametrize(
    ("service", "absent"),
    [("web", "openai"), ("worker", "rest_framework"), ("worker", "gunicorn")],
)
def test_each_venv_lacks_the_other_sides_libraries(service, absent):
    result = subprocess.run(
        [str(python(service)), "-c", f"import {absent}"], capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "ModuleNotFoundError" in result.stderr
