"""The README's "Centreon bugs we fixed" section is generated from shared/checks/bugs.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from shared.checks import bugs

ROOT = Path(__file__).resolve().parent.parent


def test_readme_section_is_the_generated_list() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert bugs.readme_section(readme) == bugs.markdown()


def test_markdown_command_prints_it() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "shared.checks.bugs", "--markdown"], cwd=ROOT, capture_output=True, text=True
    )
    assert (done.returncode, done.stdout) == (0, bugs.markdown())
