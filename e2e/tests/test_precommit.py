"""The git hooks (.pre-commit-config.yaml) pass on a clean checkout and refuse a bad file."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dev.system import REPO, run
from dev.venvs import venv_dir

PRE_COMMIT = Path(sys.executable).parent / "pre-commit"

BAD = '''"""A file that breaks a rule of each hook."""

import summaries

LIMIT=1


def late(x: int) -> str:
    return x
'''


def checkout(target: Path) -> Path:
    """The working tree's files that git would commit, in a new repository of their own."""
    listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO)
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree, not yet in the index
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name, follow_symlinks=False)
    # The hooks run the locked venvs that ./dev builds; a checkout shares them.
    (target / ".state").mkdir()
    (target / ".state" / "venvs").symlink_to(venv_dir("web").parent)
    run(["git", "init", "-q"], cwd=target)
    run(["git", "add", "-A"], cwd=target)
    return target


def pre_commit(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PRE_COMMIT_HOME": str(root.parent / "pre-commit-home")}
    return subprocess.run(
        [str(PRE_COMMIT), "run", "--color", "never", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )


def verdicts(output: str) -> list[str]:
    """Each hook's verdict, in the config's order: ruff check, ruff format, mypy."""
    return [line.rsplit(".", 1)[-1] for line in output.splitlines() if "...." in line]


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return checkout(tmp_path_factory.mktemp("hooks") / "duet")


def test_every_hook_passes_on_a_clean_checkout(clean):
    result = pre_commit(clean, "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr
    assert verdicts(result.stdout) == ["Passed", "Passed", "Passed"]


def test_every_hook_refuses_a_bad_file(clean):
    bad = clean / "web" / "documents" / "late.py"
    bad.write_text(BAD)
    subprocess.run(["git", "add", "-A"], cwd=clean, check=True)
    try:
        result = pre_commit(clean, "--files", "web/documents/late.py")
    finally:
        bad.unlink()
        subprocess.run(["git", "add", "-A"], cwd=clean, check=True)
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "TID251" in out  # the web's banned import
    assert "would be reformatted" in out.split("ruff format --check")[1]
    assert 'web/documents/late.py:9: error: Incompatible return value type (got "int"' in out
    assert verdicts(out) == ["Failed", "Failed", "Failed"]
