"""Import boundaries, enforced by ruff (TID251) through each part's ruff.toml: the lists
match the boundaries below, and ``ruff check .`` from the root bites."""

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from dev.system import REPO

WEB = {"duet_web", "documents", "api_tokens"}
WORKER = {"duet_worker", "summaries"}
DRF = {"rest_framework", "drf_spectacular"}

FORBIDDEN = {
    "shared_resource": WEB | WORKER | DRF | {"celery", "kombu"},
    "web": WORKER | {"openai"},
    "worker": WEB | DRF | {"gunicorn"},
}

RUFF = Path(sys.executable).parent / "ruff"


def ruff_tid251(root: Path) -> list[dict]:
    """TID251 findings of ``ruff check .`` run in ``root``, as ruff reports them."""
    result = subprocess.run(
        [str(RUFF), "check", "--no-cache", "--select", "TID251", "--output-format", "json", "."],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_each_part_bans_what_it_must_not_import(part):
    config = tomllib.loads((REPO / part / "ruff.toml").read_text())
    assert config["extend"] == "../ruff.toml"
    assert set(config["lint"]["flake8-tidy-imports"]["banned-api"]) == FORBIDDEN[part]


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_ruff_from_the_root_refuses_each_banned_import(part, tmp_path):
    shutil.copy(REPO / "ruff.toml", tmp_path / "ruff.toml")
    (tmp_path / part / "pkg").mkdir(parents=True)
    shutil.copy(REPO / part / "ruff.toml", tmp_path / part / "ruff.toml")
    banned = sorted(FORBIDDEN[part])
    # Every form: a plain import, a submodule, and a name from a submodule.
    lines = [f"import {name}\nimport {name}.sub\nfrom {name}.sub import thing\n" for name in banned]
    probe = tmp_path / part / "pkg" / "probe.py"
    probe.write_text("".join(lines) + "import shared_resource.contract\nimport json\n")
    flagged = sorted(
        finding["location"]["row"]
        for finding in ruff_tid251(tmp_path)
        if finding["code"] == "TID251" and Path(finding["filename"]) == probe
    )
    assert flagged == list(range(1, 3 * len(banned) + 1))


def test_the_tree_keeps_its_boundaries():
    assert [
        f"{f['filename']}:{f['location']['row']} {f['message']}" for f in ruff_tid251(REPO)
    ] == []


def test_the_web_enqueues_by_name_only():
    publish = (REPO / "web" / "documents" / "publish.py").read_text()
    assert "send_task(" in publish and "SUMMARISE_TASK" in publish


def test_only_the_web_has_a_manage_py():
    assert [
        p.relative_to(REPO).as_posix() for p in REPO.rglob("manage.py") if ".state" not in p.parts
    ] == ["web/manage.py"]
