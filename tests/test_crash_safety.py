"""Kills at every step of the two swaps that replace more than one thing at once:
the build folder (two renames) and a multi-file `dca add` (one rename per file).

A kill is simulated for real: a child process runs the swap with `os.replace`
wrapped so that its k-th call ends the process with `os._exit` (no exception
handler, no finally block runs), then the test looks at what is left on disk and
at what the next command makes of it.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from scripts import build as build_mod
from scripts.atomic import TMP_PREFIX, recover_dir, replace_dir
from scripts.build import DB_NAME, build_package
from scripts.cli import app
from scripts.filewrite import TXN_DIR, Change, recover, replace_files
from scripts.validate import validate_package
from tests.conftest import FIXED_TODAY
from tests.packages import ROOT, make_package
from tests.test_add import record, rows

runner = CliRunner()

_KILLER = """
import os, shutil, sys
sys.path.insert(0, {root!r})
KILL_AT = int(os.environ["KILL_AT"])
calls = [0]
real_replace = os.replace
def replace(a, b):
    calls[0] += 1
    if calls[0] == KILL_AT:
        os._exit(9)
    real_replace(a, b)
os.replace = replace
real_rmtree = shutil.rmtree
"""


def _run_killed(kill_at: int, body: str) -> int:
    code = _KILLER.format(root=str(ROOT)) + textwrap.dedent(body)
    env = dict(os.environ, KILL_AT=str(kill_at))
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True).returncode


def _folder(path: Path, text: str) -> Path:
    path.mkdir(parents=True)
    (path / "dca.sqlite").write_text(text)
    return path


# --- the build folder ----------------------------------------------------------------

SWAP = """
from pathlib import Path
from scripts.atomic import replace_dir
replace_dir(Path(sys.argv[1]), Path(sys.argv[2]))
"""


@pytest.mark.parametrize("kill_at", [1, 2])
def test_a_kill_at_either_rename_of_the_build_swap_loses_nothing(tmp_path, kill_at):
    target = _folder(tmp_path / "build", "old build")
    stage = _folder(tmp_path / f"{TMP_PREFIX}build-1-build", "new build")
    body = SWAP.replace("sys.argv[1]", repr(str(stage))).replace("sys.argv[2]", repr(str(target)))
    assert _run_killed(kill_at, body) == 9
    if kill_at == 2:
        assert not target.exists()  # the moment the issue is about: between the two renames
    recover_dir(target)
    # the newest whole copy is back: the old one when the swap had not begun, else the new one
    assert (target / "dca.sqlite").read_text() == ("old build" if kill_at == 1 else "new build")
    assert not (target / ".dca-complete").exists()


def test_a_kill_after_both_renames_leaves_the_new_build(tmp_path):
    target = _folder(tmp_path / "build", "old build")
    stage = _folder(tmp_path / f"{TMP_PREFIX}build-1-build", "new build")
    body = SWAP.replace("sys.argv[1]", repr(str(stage))).replace("sys.argv[2]", repr(str(target)))
    body = "shutil.rmtree = lambda *a, **k: os._exit(9)\n" + body
    assert _run_killed(99, body) == 9
    assert recover_dir(target) is None
    assert (target / "dca.sqlite").read_text() == "new build"


def test_a_half_written_stage_is_never_restored(tmp_path):
    target = tmp_path / "build"
    old = _folder(tmp_path / f"{TMP_PREFIX}old-build", "old build")
    _folder(tmp_path / f"{TMP_PREFIX}build-7-build", "half a build")  # no completeness marker
    recover_dir(target)
    assert (target / "dca.sqlite").read_text() == "old build" and not old.exists()


def test_an_exception_between_the_renames_puts_the_old_build_back(tmp_path, monkeypatch):
    target = _folder(tmp_path / "build", "old build")
    stage = _folder(tmp_path / f"{TMP_PREFIX}build-1-build", "new build")
    real = os.replace
    calls = []

    def flaky(a, b):
        calls.append(a)
        if len(calls) == 2:
            raise OSError("disk trouble")
        real(a, b)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(OSError):
        replace_dir(stage, target)
    assert (target / "dca.sqlite").read_text() == "old build"


def test_the_next_build_restores_the_killed_swap_instead_of_deleting_it(tmp_path, monkeypatch):
    """Kill a real build between its renames; the next build, even one that fails, keeps a build."""
    pkg = make_package(tmp_path / "p")
    out = tmp_path / "out" / "build"
    build_package(pkg, out)
    body = f"""
from pathlib import Path
from scripts.build import build_package
build_package(Path({str(pkg)!r}), Path({str(out)!r}))
"""
    assert _run_killed(2, body) == 9
    assert not out.exists()
    beside = sorted(p.name for p in out.parent.iterdir())
    assert len(beside) == 2 and all(n.startswith(TMP_PREFIX) for n in beside)

    def boom(*a, **k):
        raise RuntimeError("this build fails")

    monkeypatch.setattr(build_mod, "_load_and_look_up", boom)
    with pytest.raises(RuntimeError):
        build_package(pkg, out)
    assert (out / DB_NAME).stat().st_size > 0
    assert [p.name for p in out.parent.iterdir()] == ["build"]


def test_serving_restores_a_killed_swap_at_start_up(tmp_path):
    from scripts.serve import ServeError, check

    db_dir = tmp_path / "build"
    _folder(tmp_path / f"{TMP_PREFIX}old-build", "not a database")
    with pytest.raises(ServeError):
        check(db_dir / DB_NAME)  # not a real database, but it is back in place to be checked
    assert (db_dir / DB_NAME).read_text() == "not a database"


# --- several dataset files at once -------------------------------------------------------

def _files(tmp_path: Path) -> tuple[Path, list[Path]]:
    root = tmp_path / "pkg"
    (root / "dataset").mkdir(parents=True)
    paths = [root / "dataset" / f"{n}.csv" for n in ("a", "b", "c")]
    for p in paths:
        p.write_bytes(b"old " + p.name.encode())
    return root, paths


# os.replace calls: 1 = the journal (commit point), 2..4 = the three files
@pytest.mark.parametrize("kill_at", [1, 2, 3, 4])
def test_a_kill_at_any_rename_of_a_multi_file_change_is_completed_or_undone(tmp_path, kill_at):
    root, paths = _files(tmp_path)
    body = f"""
from pathlib import Path
from scripts.filewrite import Change, replace_files
paths = [Path(p) for p in {[str(p) for p in paths]!r}]
replace_files([Change(p, b"old " + p.name.encode(), b"new " + p.name.encode()) for p in paths], Path({str(root)!r}))
"""
    assert _run_killed(kill_at, body) == 9
    assert not [p for p in (root / "dataset").iterdir() if p.name.startswith(".")]  # no debris in dataset/
    recover(root)
    contents = {p.read_bytes()[:3] for p in paths}
    assert contents == ({b"old"} if kill_at == 1 else {b"new"})
    assert not (root / TXN_DIR).exists()


def test_a_change_interrupted_before_an_edit_is_undone_not_forced(tmp_path):
    root, (a, b, c) = _files(tmp_path)
    body = f"""
from pathlib import Path
from scripts.filewrite import Change, replace_files
paths = [Path(p) for p in {[str(p) for p in (a, b, c)]!r}]
replace_files([Change(p, b"old " + p.name.encode(), b"new " + p.name.encode()) for p in paths], Path({str(root)!r}))
"""
    assert _run_killed(3, body) == 9  # a.csv replaced, b.csv and c.csv not yet
    c.write_bytes(b"someone's edit")
    message = recover(root)
    assert "undid" in message and "dataset/c.csv" in message
    assert (a.read_bytes(), b.read_bytes(), c.read_bytes()) == (b"old a.csv", b"old b.csv", b"someone's edit")


ADD = """
from pathlib import Path
from scripts.add import run_add
run_add(Path({pkg!r}), Path({rec!r}), None, __import__("datetime").date(2026, 1, 1))
"""


@pytest.mark.parametrize("kill_at", [1, 2, 3, 4, 5, 6])
def test_a_killed_dca_add_is_completed_by_the_next_command(tmp_path, kill_at):
    pkg = make_package(tmp_path / "p")
    rec = tmp_path / "record.yaml"
    rec.write_text(yaml.safe_dump(record(), sort_keys=False), encoding="utf-8")
    before = {p.name: p.read_bytes() for p in (pkg / "dataset").iterdir()}
    assert _run_killed(kill_at, ADD.format(pkg=str(pkg), rec=str(rec))) == 9
    assert not [p for p in (pkg / "dataset").iterdir() if p.name.startswith(".")]
    result = runner.invoke(app, ["validate", str(pkg)])  # any command finishes the change first
    after = {p.name: p.read_bytes() for p in (pkg / "dataset").iterdir()}
    if kill_at == 1:  # killed at the commit point: nothing happened
        assert after == before
    else:
        assert "completed an interrupted change" in result.output
        added = [r for r in rows(pkg, "agreements.csv") if r["title"] == "Synthetic Test Agreement D"]
        assert len(added) == 1
        aid = added[0]["agreement_id"]
        assert len([r for r in rows(pkg, "parties.csv") if r["agreement_id"] == aid]) == 2
        assert len([r for r in rows(pkg, "sources.csv") if r["agreement_id"] == aid]) == 2
    assert not [f for f in validate_package(pkg, FIXED_TODAY) if f.code != "rules-skipped"]
    assert not (pkg / TXN_DIR).exists()


def test_fmt_and_add_leave_no_temp_files_in_the_dataset(tmp_path, monkeypatch):
    pkg = make_package(tmp_path / "p", "crlf_line_endings")
    seen = []
    real = os.replace

    def spy(a, b):
        seen.append(Path(a))
        real(a, b)

    monkeypatch.setattr(os, "replace", spy)
    assert runner.invoke(app, ["fmt", str(pkg)]).exit_code == 0
    rec = tmp_path / "record.yaml"
    rec.write_text(yaml.safe_dump(record(), sort_keys=False), encoding="utf-8")
    assert runner.invoke(app, ["add", str(pkg), "--from", str(rec)]).exit_code == 0
    assert seen and all((pkg / "dataset") not in p.parents for p in seen)
    assert not [p for p in (pkg / "dataset").iterdir() if p.name.startswith(".")]
    assert not (pkg / TXN_DIR).exists()
    ignored = (ROOT / ".gitignore").read_text()
    assert ".dca-txn/" in ignored and ".dca-tmp-*" in ignored
