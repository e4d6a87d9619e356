"""Newer releases of shared_resource (e2e/fixtures/releases/), run first on PYTHONPATH.

A release copies the package, adds the fixture's migrations and appends its ``*.append`` files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .system import REPO

FIXTURES = REPO / "e2e" / "fixtures" / "releases"
PACKAGE = REPO / "shared_resource" / "shared_resource"
#: Each release and the fixtures it is made of, oldest first.
RELEASES = {"v2": ["v2"], "v3": ["v2", "v3"]}


def leaf_migration() -> str:
    """The newest migration shipped today (the fixtures' first one depends on it)."""
    return sorted(p.stem for p in (PACKAGE / "migrations").glob("[0-9]*.py"))[-1]


def build_release(name: str, into: Path) -> Path:
    """Build release ``name`` under ``into``; return the directory to put on PYTHONPATH."""
    root = into / name
    shutil.rmtree(root, ignore_errors=True)
    package = root / "shared_resource"
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    leaf = leaf_migration()
    layers = RELEASES[name]
    for layer in layers:
        for migration in sorted((FIXTURES / layer / "migrations").glob("*.py")):
            text = migration.read_text().replace("{leaf}", leaf)
            (package / "migrations" / migration.name).write_text(text)
    for addition in sorted((FIXTURES / layers[-1]).glob("*.append")):
        target = package / addition.name.removesuffix(".append")
        target.write_text(target.read_text() + addition.read_text())
    return root


def pythonpath(release: Path, env: dict[str, str]) -> dict[str, str]:
    """``PYTHONPATH`` for a process of ``release``, given the environment it would get."""
    rest = env.get("PYTHONPATH", "")
    return {"PYTHONPATH": f"{release}:{rest}" if rest else str(release)}
