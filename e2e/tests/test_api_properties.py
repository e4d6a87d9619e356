"""Schemathesis against the live API: at least 1,000 generated requests, no response >= 500,
no answer that breaks the OpenAPI schema (status codes, content types, bodies, headers)."""

import re
import subprocess

from harness.venvs import venv_dir

MIN_CASES = 1000


def test_the_live_api_holds_to_its_schema(stack, token, tmp_path):
    result = subprocess.run(
        [
            str(venv_dir("web") / "bin" / "schemathesis"),
            "run",
            f"{stack.base_url}/api/schema/?format=json",
            "--header",
            f"Authorization: Token {token}",
            "--checks",
            "all",
            "--max-examples",
            "250",
            "--seed",
            "20261125",
            "--workers",
            "2",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=1200,
        cwd=tmp_path,
    )
    output = result.stdout + result.stderr
    print(output[-4000:])
    assert result.returncode == 0, output[-4000:]
    generated = sum(int(n) for n in re.findall(r"(\d+) generated", output))
    assert generated >= MIN_CASES, output[-2000:]
