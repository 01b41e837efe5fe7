"""The `dca` command: validate, build and serve the defence cooperation agreements package.

Every command works on the package in the current directory, or on the one given
as PATH / --package. User mistakes end in a message and a non-zero exit, never a
traceback.
"""
from __future__ import annotations

import atexit
import gc
import importlib
import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(
    help="Validate, build and serve the Defence Cooperation Agreements data package.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class OutputFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"


def _package_root(path: Optional[Path], package: Optional[Path]) -> Path:
    root = package or path or Path.cwd()
    root = root.parent if root.is_file() else root
    if not (root / "datapackage.json").exists():
        typer.echo(
            f"error: no datapackage.json in {root}; run dca inside the package folder or pass its path (dca validate PATH)",
            err=True,
        )
        raise typer.Exit(2)
    # Every command starts by finishing (or undoing) a multi-file change that a
    # killed `dca add` or `dca fmt` left half-done, so it sees whole records.
    from .filewrite import recover

    try:
        done = recover(root)
    except OSError as e:
        typer.echo(f"error: cannot finish an interrupted change in {root}: {e}", err=True)
        raise typer.Exit(1) from None
    if done:
        typer.echo(f"note: {done}.", err=True)
    return root


def _version_callback(value: bool) -> None:
    if value:
        from importlib.metadata import version

        root = Path.cwd()
        data_version = "unknown (no datapackage.json here)"
        try:
            data_version = json.loads((root / "datapackage.json").read_text(encoding="utf-8")).get("version", "unknown")
        except (OSError, ValueError):
            pass
        typer.echo(f"dca {version('dca')} (dataset version {data_version})")
        raise typer.Exit()


@app.callback()
def common_options(
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True, help="Show the tool and dataset versions."),
) -> None:
    pass


PathArg = typer.Argument(None, help="Package folder (default: current directory).", show_default=False)
PackageOpt = typer.Option(None, "--package", "-p", help="Package folder (same as PATH).")


@app.command()
def validate(
    path: Optional[Path] = PathArg,
    package: Optional[Path] = PackageOpt,
    format: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f", help="text for people, json for machines, github for CI annotations."),
) -> None:
    """Check the package: Frictionless rules (types, keys, vocabularies) and the dataset's own rules."""
    from .findings import problems, render_github, render_json, render_text
    from .validate import validate_package

    root = _package_root(path, package)
    findings = validate_package(root)
    render = {"text": render_text, "json": render_json, "github": render_github}[format.value]
    sys.stdout.write(render(findings))
    raise typer.Exit(1 if problems(findings) else 0)


@app.command()
def build(
    path: Optional[Path] = PathArg,
    package: Optional[Path] = PackageOpt,
    out: Path = typer.Option(Path("build"), "--out", "-o", help="Output folder (replaced atomically)."),
    database_url: Optional[str] = typer.Option(None, "--database-url", envvar="DCA_BUILD_DATABASE_URL", help="Also load the tables into this database (e.g. postgresql://...)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output."),
) -> None:
    """Validate, then write build/ (SQLite database with indexes and full-text search) atomically."""
    from .findings import render_text
    from .memory import fewer_gc_passes
    from . import validate  # noqa: F401 - first and alone: the build's imports (below) would slow it down

    root = _package_root(path, package)
    # The build's modules (SQLModel, SQLAlchemy, the exports, the codebook: ≈ 1 s) are imported in a thread
    # while the package's files are read, which runs mostly outside the GIL.
    importing = _import_in_background("scripts.build", "scripts.build_exports", "scripts.codebook")
    with fewer_gc_passes():
        out_dir = _out_dir(out, root, path, package)
        held: list[str] = []  # the first step's messages wait for the checks' verdict
        show = [held.append]
        say = None if quiet else (lambda m: show[0](m))

        def start(frames, stop):
            from .build import build_steps

            return build_steps(root, out_dir, say, database_url, frames, stop=stop)

        try:
            findings, steps = _check_beside_first_step(root, importing, start)
            if findings:
                sys.stdout.write(render_text(findings))
                typer.echo("Build stopped: fix the problems above first (the previous build is untouched).", err=True)
                raise typer.Exit(1)
            show[0] = lambda m: typer.echo(m, err=True)
            for m in held:
                show[0](m)
            from .build import finish_build

            result = finish_build(steps)
        except Exception as e:
            from .build import BuildError  # imported here: at the top it would wait for the imports' thread

            if not isinstance(e, BuildError):
                raise
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(1)
    typer.echo(f"Built {result.database} ({result.summary})")


def _check_beside_first_step(root: Path, importing: threading.Thread, start):
    """Validate the package at root; the findings, and the build's steps with the first one done
    (scripts/build.py: build_steps), or None when there are findings.

    Once the files are read, the build's first step (resources loaded, documents made, codebook text:
    ~5 s at 100k agreements) runs in a thread beside the checks (~4 s, mostly polars outside the GIL), so
    that on two cores the build is done that much sooner. The first step only writes its own stage folder,
    which is removed unless the checks find nothing: an invalid package still builds nothing, and its
    findings are the answer even if the first step failed on its data. ``start(frames, stop)`` makes the
    steps; ``importing``: the build's imports, waited for before it starts. When the files were not all
    read cleanly the checks run alone (the build would only stop)."""
    from .validate import read_package

    reading = read_package(root)
    importing.join()
    frames = reading.frames
    if frames is None:
        findings, frames = reading.check()
        if findings:
            return findings, None
    bad = threading.Event()
    steps = start(dict(frames), bad.is_set)
    del frames
    first = ThreadPoolExecutor(1, thread_name_prefix="dca-build")
    done = first.submit(next, steps)
    first.shutdown(wait=False)
    try:
        findings, _ = reading.check()
        del reading  # the files' tables: the build holds the frames it needs
        if findings:
            bad.set()
            _discard(steps, done)
            return findings, None
        done.result()  # the first step's own error (a BuildError is reported as one)
    except BaseException:
        bad.set()
        _discard(steps, done)
        raise
    return [], steps


def _discard(steps, done) -> None:
    """Wait for the first step to end (it stops at its next batch once told), then close the steps, which
    removes their stage folder. Its error, if any, is not the answer: the checks' findings are."""
    from concurrent.futures import wait

    wait([done])
    steps.close()


def _import_in_background(*modules: str) -> threading.Thread:
    """A daemon thread importing `modules`; an import error is left for the import in the caller to raise."""
    def run() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - raised again, with its traceback, where the caller imports it
                return

    thread = threading.Thread(target=run, name="dca-imports", daemon=True)
    thread.start()
    return thread


@app.command()
def countries(
    path: Optional[Path] = PathArg,
    package: Optional[Path] = PackageOpt,
    check: bool = typer.Option(False, "--check", help="Exit 1 if the committed table differs from what the packages give."),
) -> None:
    """Regenerate dataset/countries.csv from pycountry and countrycode."""
    from .countries import country_rows, render_csv

    root = _package_root(path, package)
    target = root / "dataset" / "countries.csv"
    text = render_csv(country_rows())
    _check_or_write(target, text, check, "dca countries", f"{text.count(chr(10)) - 1} countries")


@app.command()
def coverage(
    path: Optional[Path] = PathArg,
    package: Optional[Path] = PackageOpt,
    write: bool = typer.Option(False, "--write", help="Rewrite the coverage block in README.md."),
    check: bool = typer.Option(False, "--check", help="Exit 1 if README.md's coverage block is out of date."),
) -> None:
    """Show (or write into README.md) the dataset's coverage: counts, years, regions, types."""
    from .coverage import coverage_markdown, replace_block

    root = _package_root(path, package)
    block = coverage_markdown(root)
    readme = root / "README.md"
    if not (write or check):
        typer.echo(block)
        return
    current = readme.read_text(encoding="utf-8") if readme.exists() else ""
    try:
        updated = replace_block(current, block)
    except ValueError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2)
    _check_or_write(readme, updated, check, "dca coverage --write", "coverage block")


def _check_or_write(target: Path, text: str, check: bool, command: str, what: str) -> None:
    """Generated files: either say whether the committed one is current, or write it atomically."""
    from .atomic import write_text_atomic

    if check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != text:
            typer.echo(f"{target} is out of date: run `{command}` and commit the result", err=True)
            raise typer.Exit(1)
        typer.echo(f"{target} is up to date")
        return
    write_text_atomic(target, text)
    typer.echo(f"Wrote {target} ({what})")



# --- researcher exports, codebook and release (scripts/export.py, codebook.py, release.py) ---

class CountRule(str, Enum):
    until_ended = "until-ended"
    attested = "attested"


def _out_dir(out: Path, root: Path, path: Optional[Path], package: Optional[Path]) -> Path:
    """Like `dca build`: relative to the package when one is named, else to the current directory."""
    return out if out.is_absolute() else (root / out if path or package else Path.cwd() / out)


def _validate_or_exit(root: Path, what: str, aside: str = ""):
    """Exit with the findings unless the package is valid; else the data as validate read it (text frames)."""
    from .findings import render_text
    from .validate import check_package

    findings, frames = check_package(root)
    if findings:
        sys.stdout.write(render_text(findings))
        typer.echo(f"{what} stopped: fix the problems above first{aside}.", err=True)
        raise typer.Exit(1)
    return frames


@app.command()
def export(
    path: Optional[Path] = PathArg,
    package: Optional[Path] = PackageOpt,
    out: Path = typer.Option(Path("build/exports"), "--out", "-o", help="Output folder (replaced atomically)."),
    rule: CountRule = typer.Option(
        CountRule.until_ended, "--rule",
        help="until-ended: an agreement with no known end counts through the last year the release covers (the "
             "convention); attested: only through the year its status is last attested."),
    year_from: Optional[int] = typer.Option(None, "--from", help="First year of the dyad-year tables (default: the earliest)."),
    year_to: Optional[int] = typer.Option(None, "--to", help="Last year of the dyad-year tables (default: the latest)."),
    full_panel: bool = typer.Option(False, "--full-panel", help="Also dyad_years_full: every pair of COW states in every year, zeros included (Parquet and Stata)."),
) -> None:
    """Write the researcher exports (flat, dyads, dyad-years, undirected and directed, as CSV, Parquet and Stata) with their data package."""
    from .export import ExportError, ExportOptions, export_package

    root = _package_root(path, package)
    try:
        options = ExportOptions(rule=rule.value, year_from=year_from, year_to=year_to, full_panel=full_panel)
    except ExportError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2)
    _validate_or_exit(root, "Export")
    out_dir = _out_dir(out, root, path, package)
    try:
        files = export_package(root, out_dir, options)
    except ExportError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1)
    typer.echo(f"Wrote {len(files)} files to {out_dir}")


@app.command()
def codebook(
    path: Optional[Path] = PathArg,
    package: Optional[Path] = PackageOpt,
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder for codebook.md, codebook.html and figures/ (default: the package's docs/)."),
    check: bool = typer.Option(False, "--check", help="Exit 1 if the committed codebook differs from what the package gives."),
) -> None:
    """Generate docs/codebook.md, docs/codebook.html and docs/figures/ from the schemas and the data."""
    from .codebook import stale_files, write_codebook

    root = _package_root(path, package)
    docs = root / "docs" if out is None else (out if out.is_absolute() else Path.cwd() / out)
    if check:
        stale = stale_files(root, docs)
        if stale:
            typer.echo(f"{docs}: out of date: {', '.join(stale)}; run `dca codebook` and commit the result", err=True)
            raise typer.Exit(1)
        typer.echo(f"{docs}: the codebook is up to date")
        return
    written = write_codebook(root, docs)
    typer.echo(f"Wrote {len(written)} files to {docs}")


@app.command()
def release(
    path: Optional[Path] = PathArg,
    package: Optional[Path] = PackageOpt,
    out: Path = typer.Option(Path("dist"), "--out", "-o", help="Folder for <name>-<version>.zip and its .sha256."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output."),
) -> None:
    """Validate, then write the reproducible release bundle dist/<name>-<version>.zip (with SHA256SUMS)."""
    from .release import ReleaseError, build_release

    root = _package_root(path, package)
    try:
        result = build_release(root, _out_dir(out, root, path, package), progress=None if quiet else (lambda m: typer.echo(m, err=True)))
    except ReleaseError as e:
        typer.echo(f"error: {e}", err=True)
        typer.echo("Release stopped: nothing was written.", err=True)
        raise typer.Exit(1)
    typer.echo(f"Wrote {result.archive} ({len(result.files)} files, sha256 {result.sha256})")


class DiffFormat(str, Enum):
    markdown = "markdown"
    json = "json"


@app.command()
def add(
    path: Optional[Path] = PathArg,
    package: Optional[Path] = PackageOpt,
    record: Optional[Path] = typer.Option(None, "--from", help="Record file (.yaml, .yml or .json; - reads standard input) instead of questions."),
    template: bool = typer.Option(False, "--template", help="Print an annotated record file to fill in for --from, and exit."),
    force: Optional[str] = typer.Option(None, "--force", metavar="REASON", help="Add even if it looks like a duplicate; REASON (why it is not one) is kept in the record's notes."),
) -> None:
    """Add an agreement with its parties, sources and equipment: by questions, or from a YAML/JSON file."""
    root = _package_root(path, package)
    if template:
        from schema.tableschema import load_package

        from .template import template as make_template

        sys.stdout.write(make_template(load_package(root)))
        return
    from .add import run_add

    raise typer.Exit(run_add(root, record, force))


@app.command()
def fmt(
    path: Optional[Path] = PathArg,
    package: Optional[Path] = PackageOpt,
    check: bool = typer.Option(False, "--check", help="Change nothing: list the files that are not in canonical form and exit 1 if any."),
) -> None:
    """Rewrite the dataset's CSV files in canonical form (row order, quoting, spaces, line endings)."""
    from schema.tableschema import DescriptorError

    from .filewrite import ChangedMeanwhile
    from .fmt import format_package, render

    root = _package_root(path, package)
    try:
        results = format_package(root, write=not check)
    except DescriptorError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1)
    except ChangedMeanwhile as e:
        typer.echo(f"error: {e.path} changed while dca fmt was running; nothing was written: run it again", err=True)
        raise typer.Exit(1)
    text, code = render(results, check)
    sys.stdout.write(text)
    raise typer.Exit(code)


@app.command()
def diff(
    base: Optional[str] = typer.Argument(None, help="Git revision to compare with (default: the merge base of HEAD with main).", show_default=False),
    package: Optional[Path] = PackageOpt,
    format: DiffFormat = typer.Option(DiffFormat.markdown, "--format", "-f", help="markdown for a pull-request comment, json for machines."),
) -> None:
    """What changed in the dataset since BASE (working tree included): agreements added, removed and changed, field by field."""
    from .diff import DiffError, diff_package, render_json, render_markdown

    root = _package_root(None, package)
    try:
        result = diff_package(root, base)
    except DiffError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2)
    sys.stdout.write(render_json(result) if format is DiffFormat.json else render_markdown(result))


@app.command()
def serve(
    path: Optional[Path] = typer.Argument(None, help="Package folder whose build/dca.sqlite to serve (default: DCA_DB, or build/dca.sqlite here).", show_default=False),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    db: Optional[Path] = typer.Option(None, "--db", help="The SQLite build to serve (overrides PATH)."),
    database_url: Optional[str] = typer.Option(None, "--database-url", envvar="DATABASE_URL", help="Serve this PostgreSQL database instead (loaded by dca build --database-url)."),
    access_log: bool = typer.Option(False, "--access-log", help="Log every request."),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="Server processes sharing the port (each opens the database itself; with SQLite, each keeps its own copy of the build)."),
) -> None:
    """Serve the read-only HTTP API over an existing build (make one with `dca build`)."""
    from .serve import ServeError
    from .serve import serve as run

    if db is None and path is not None:
        db = (path.parent if path.is_file() else path) / "build" / "dca.sqlite"
    try:
        run(host, port, db, database_url, access_log=access_log, workers=workers, say=lambda m: typer.echo(m, err=True))
    except ServeError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1)


def main() -> None:
    """The `dca` program (the console script and ``python -m scripts.cli``): the commands, then an exit
    that skips the cyclic collector's last passes. At exit CPython collects every object still alive (the
    modules of SQLAlchemy, pandera and pandas, FastAPI: ~170,000 objects) two or three times over, about
    0.55 s here after every command; every file the command wrote is closed by then, so the objects are
    frozen (gc.freeze) and only freed by reference counting. Registered here, not at import, so that a
    process that imports this module (the tests) keeps the usual exit. Freed pages of polars' frames are
    returned to the system as they are freed (scripts/memory.py), set before anything imports polars."""
    from .memory import return_freed_pages_promptly

    return_freed_pages_promptly()
    atexit.register(gc.freeze)
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
