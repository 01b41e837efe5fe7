"""`dca build` starts the build's first step beside the validation's checks (scripts/cli.py:
_check_beside_first_step): an invalid package must still build nothing, say exactly what `dca validate`
says, and leave the previous build and no half-written stage behind."""
from __future__ import annotations

import threading

import pytest
from typer.testing import CliRunner

import scripts.build as build_mod
import scripts.validate as validate_mod
from scripts.atomic import TMP_PREFIX
from scripts.build import DB_NAME, BuildCancelled, BuildError, build_steps
from scripts.cli import app
from tests.packages import cases, make_package

runner = CliRunner()


@pytest.fixture
def previous(tmp_path):
    """A good build in tmp_path/out, and its database's bytes."""
    out = tmp_path / "out"
    result = runner.invoke(app, ["build", str(make_package(tmp_path / "good")), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    return out, (out / DB_NAME).read_bytes()


def _no_stage_left(out):
    return not [p for p in out.parent.iterdir() if p.name.startswith(TMP_PREFIX)]


@pytest.mark.parametrize("case", cases())
def test_an_invalid_package_builds_nothing_and_says_what_validate_says(tmp_path, previous, case):
    """Every broken fixture (unreadable files, wrong types that the first step cannot even cast, rule
    violations that it builds from happily): the validation's findings, exit 1, no traceback, the previous
    build as it was and no stage folder left."""
    out, before = previous
    bad = make_package(tmp_path / "bad", case)
    validated = runner.invoke(app, ["validate", str(bad)])
    built = runner.invoke(app, ["build", str(bad), "--out", str(out), "-q"])
    assert built.exit_code == 1 and isinstance(built.exception, SystemExit), built.output
    assert validated.stdout and built.stdout == validated.stdout
    assert "Build stopped: fix the problems above first" in built.stderr
    assert (out / DB_NAME).read_bytes() == before
    assert _no_stage_left(out)


def test_the_first_step_runs_while_the_checks_run(tmp_path, monkeypatch):
    """The checks wait (up to a minute) for the first step to start reading the frames: they only see it
    if it runs beside them, not after them."""
    started = threading.Event()
    real_read_frames, real_check = build_mod.read_frames, validate_mod.Reading.check
    seen = []

    def read_frames(*a, **k):
        started.set()
        return real_read_frames(*a, **k)

    def check(self, *a, **k):
        seen.append(started.wait(60))
        return real_check(self, *a, **k)

    monkeypatch.setattr(build_mod, "read_frames", read_frames)
    monkeypatch.setattr(validate_mod.Reading, "check", check)
    result = runner.invoke(app, ["build", str(make_package(tmp_path / "p")), "--out", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 0, result.output
    assert seen == [True]


def test_the_first_step_stops_at_its_next_batch_when_told(tmp_path, monkeypatch):
    """``stop`` is asked between batches of documents: once it says yes the step ends in BuildCancelled
    and its stage folder is gone."""
    out = tmp_path / "out"
    asked = []
    steps = build_steps(make_package(tmp_path / "p"), out, stop=lambda: asked.append(1) or True)
    with pytest.raises(BuildCancelled):
        next(steps)
    assert asked and not out.exists() and _no_stage_left(out)


def test_a_discarded_first_step_removes_its_stage(tmp_path):
    """Closing the steps after the first one (what `dca build` does when the checks find problems) removes
    the stage the first step wrote and touches nothing else."""
    out = tmp_path / "out"
    steps = build_steps(make_package(tmp_path / "p"), out)
    next(steps)
    assert not _no_stage_left(out)  # the first step wrote its stage
    steps.close()
    assert not out.exists() and _no_stage_left(out)


def test_interrupted_checks_stop_the_first_step_and_leave_the_previous_build(tmp_path, previous, monkeypatch):
    out, before = previous

    def interrupted(self, *a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(validate_mod.Reading, "check", interrupted)
    result = runner.invoke(app, ["build", str(make_package(tmp_path / "p")), "--out", str(out), "-q"])
    assert result.exit_code == 130  # click's answer to Ctrl-C (128 + SIGINT)
    assert (out / DB_NAME).read_bytes() == before
    assert _no_stage_left(out)


def test_a_first_step_that_fails_on_a_valid_package_is_reported_as_the_build_error(tmp_path, previous, monkeypatch):
    """The checks pass, the first step failed: its error is the answer (a BuildError as a message)."""
    out, before = previous

    def no_room(*a, **k):
        raise BuildError("no room left on the device for the stage folder")

    monkeypatch.setattr(build_mod, "_load_and_look_up", no_room)
    result = runner.invoke(app, ["build", str(make_package(tmp_path / "p")), "--out", str(out), "-q"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "error: no room left on the device for the stage folder" in result.stderr
    assert (out / DB_NAME).read_bytes() == before
    assert _no_stage_left(out)


def test_progress_of_the_first_step_is_shown_only_once_the_checks_pass(tmp_path):
    bad = runner.invoke(app, ["build", str(make_package(tmp_path / "bad", "dangling_references")), "--out", str(tmp_path / "o1")])
    assert bad.exit_code == 1 and "precomputing" not in bad.stderr and "reading the package" not in bad.stderr
    good = runner.invoke(app, ["build", str(make_package(tmp_path / "good")), "--out", str(tmp_path / "o2")])
    assert good.exit_code == 0
    messages = good.stderr
    assert messages.index("reading the package") < messages.index("precomputing the dyad") < messages.index("done in")
