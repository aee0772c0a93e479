"""The README's command-line examples work as printed (run from a checkout's root)."""

from __future__ import annotations

import re
import subprocess

import pytest
from conftest import ROOT

README = (ROOT / "README.md").read_text()


def cli_examples() -> list[str]:
    block = re.search(r"## Command line\n\n```sh\n(.*?)```", README, re.S)
    assert block, "README.md has no command-line example block"
    return [line.split("  #")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_there_are_examples():
    assert len(cli_examples()) >= 4


@pytest.mark.dot
@pytest.mark.parametrize("command", cli_examples())
def test_cli_example_runs_as_printed(command, tmp_path):
    # A scratch copy of the checkout's root: the package, the venv and the Dockerfile.
    for name in ("webapp", ".venv"):
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / "Dockerfile").write_bytes((ROOT / "Dockerfile").read_bytes())
    result = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr.decode()
    assert b"Traceback" not in result.stderr
    for output in re.findall(r"-o (\S+)", command):
        assert (tmp_path / output).stat().st_size > 100
