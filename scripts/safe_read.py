"""Reading a data file without trusting what the path points to.

A resource path may name a symlink to /dev/zero, a named pipe or a device: reading
one of those never ends (or blocks before the first byte). So only regular files
are opened, and no more than MAX_BYTES are read, far above any real dataset file
(the 100k-agreement benchmark package's largest file is a few tens of MB).
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_BYTES = int(os.environ.get("DCA_MAX_FILE_BYTES", 512 * 1024 * 1024))


class Unreadable(Exception):
    """The file cannot be read safely; the message says why and what to do."""


def read_data_file(path: Path, limit: int | None = None) -> bytes:
    """The bytes of a regular file; FileNotFoundError if missing, Unreadable if unsafe or too large."""
    limit = MAX_BYTES if limit is None else limit
    st = os.stat(path)  # follows symlinks: what would actually be read
    if not stat.S_ISREG(st.st_mode):
        kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file (a device, pipe or socket, perhaps through a symlink)"
        raise Unreadable(f"is {kind}; a resource must be a plain CSV file: replace it with one")
    if st.st_size > limit:
        raise Unreadable(f"is {st.st_size:,} bytes, more than the {limit:,} dca reads; a dataset file this large is "
                         "surely not the intended one")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(limit + 1)  # the file may grow while it is read
    if len(data) > limit:
        raise Unreadable(f"grew past the {limit:,} bytes dca reads while it was being read")
    return data
