"""Reading earlier versions of the dataset's files from git, for `dca diff`.

Plain `git` subprocesses (no library): CI runners and contributors' machines
already have git, and its own error messages are passed on when they help. Every
failure becomes a GitError whose message a contributor can act on.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path


class GitError(Exception):
    pass


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "LC_ALL": "C"}
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, env=env, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed (or not on PATH); dca diff reads the earlier version of the dataset from git") from None


def _first_line(p: subprocess.CompletedProcess) -> str:
    lines = p.stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[0] if lines else f"git exited with {p.returncode}"


def check_repository(root: Path) -> None:
    p = _git(root, "rev-parse", "--show-toplevel")
    if p.returncode != 0:
        msg = _first_line(p)
        if "not a git repository" in msg:
            raise GitError(f"{root} is not in a git repository; dca diff compares the dataset with a git revision "
                           "(work in a clone of the project's repository)")
        raise GitError(f"git cannot read the repository at {root}: {msg}")


def commit_of(root: Path, rev: str) -> str | None:
    p = _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    return p.stdout.decode().strip() if p.returncode == 0 else None


def resolve_base(root: Path, base: str | None) -> tuple[str, str, bool]:
    """(revision, its commit, whether it is a merge base): BASE as given, or the merge base of HEAD with main."""
    check_repository(root)
    if base:
        if base.startswith("-"):
            raise GitError(f"'{base}' is not a revision")
        sha = commit_of(root, base)
        if not sha:
            raise GitError(f"unknown revision '{base}'; give a branch, tag or commit that exists here (e.g. main, origin/main or HEAD~1)")
        return base, sha, False
    head = commit_of(root, "HEAD")
    if not head:
        raise GitError("the repository has no commit yet, so there is nothing to compare with; commit first or give BASE")
    for branch in ("main", "origin/main"):
        if commit_of(root, branch):
            p = _git(root, "merge-base", "HEAD", branch)
            if p.returncode == 0:
                return branch, p.stdout.decode().strip(), True
    return "HEAD", head, False


def show(root: Path, commit: str, relpath: str) -> bytes | None:
    """The file's bytes at commit (None when it did not exist then)."""
    p = _git(root, "show", f"{commit}:./{relpath}")
    return p.stdout if p.returncode == 0 else None
