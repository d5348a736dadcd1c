"""Files that hold a secret (the simulator's client secret, the demo's keys and settings): created owner-only.

Created with mode 0600 from the start, not chmod-ed afterwards, so no other user can open the file in
between; written to a temporary name and renamed, so a reader never sees half of it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def write_private(path: Path, text: str) -> Path:
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()  # left by an interrupted run, perhaps with wider permissions
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    return path
