"""Import boundaries: the contract between web and worker is task names and payloads."""

import ast

import pytest

from dev.system import REPO

FORBIDDEN = {
    "shared_resource": {
        "duet_web",
        "documents",
        "api_tokens",
        "duet_worker",
        "summaries",
        "celery",
        "rest_framework",
        "drf_spectacular",
        "kombu",
    },
    "web": {"duet_worker", "summaries", "openai"},
    "worker": {
        "duet_web",
        "documents",
        "api_tokens",
        "rest_framework",
        "drf_spectacular",
        "gunicorn",
    },
}


def imported_modules(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_no_part_imports_what_it_must_not(part):
    offenders = [
        f"{path.relative_to(REPO)} imports {module}"
        for path in (REPO / part).rglob("*.py")
        for module in imported_modules(path)
        if module.split(".")[0] in FORBIDDEN[part]
    ]
    assert offenders == []


def test_the_web_enqueues_by_name_only():
    publish = (REPO / "web" / "documents" / "publish.py").read_text()
    assert "send_task(" in publish and "SUMMARISE_TASK" in publish


def test_only_the_web_has_a_manage_py():
    assert [
        p.relative_to(REPO).as_posix() for p in REPO.rglob("manage.py") if ".state" not in p.parts
    ] == ["web/manage.py"]
