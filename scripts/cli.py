"""The `dca` command: validate, build and serve the defence cooperation agreements package.

Every command works on the package in the current directory, or on the one given
as PATH / --package. User mistakes end in a message and a non-zero exit, never a
traceback.
"""
from __future__ import annotations

import json
import sys
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
def main(
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
    from .build import BuildError, build_package
    from .findings import render_text
    from .validate import validate_package

    root = _package_root(path, package)
    findings = validate_package(root)
    if findings:
        sys.stdout.write(render_text(findings))
        typer.echo("Build stopped: fix the problems above first (the previous build is untouched).", err=True)
        raise typer.Exit(1)
    out_dir = out if out.is_absolute() else (root / out if path or package else Path.cwd() / out)
    try:
        result = build_package(root, out_dir, progress=None if quiet else (lambda m: typer.echo(m, err=True)), database_url=database_url)
    except BuildError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1)
    typer.echo(f"Built {result.database} ({result.summary})")


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


if __name__ == "__main__":  # pragma: no cover
    app()
