"""HTTP benchmark: the project's API (`dca serve`) against a bare ASGI server and Datasette, one run.

Run it through ``bench/http/run.sh`` (installs wrk, sqlite3 and a Datasette venv first):

    bench/http/run.sh [--duration 10] [--reps 3] [--conc 1 32] [--before DIR] [--pg URL --replicas 2]

Steps: build the database from the synthetic package (100,000 agreements), serve it
with ``dca serve``, with the bare ASGI reference server (``bare_asgi.py``: the API's
own SQL and stored bytes, nothing around them) and with ``datasette serve -i``
(canned queries running the SQL the API runs, compiled from ``api.queries``), and
optionally with an earlier version of the API (``--before``). Then, each server first
in turn within each repeat, measure with wrk: get one agreement by id (with its
parties), the dyad filter (party=A&party=B, 50 rows), country + date range (50 rows)
and the full filtered CSV export, at each concurrency. Then one-shot probes of a large
filtered CSV (the USA's agreements, ~19,500 rows) against Datasette's table stream,
its canned query and ``sqlite3 -csv`` running the same query, and the API server's
memory while it streams the whole table. Prints Markdown tables; raw figures go to --out.

With ``--pg URL`` (or ``--pg auto``: a throwaway server started and stopped here, see
``pgserver.py``) the API is measured on PostgreSQL instead, as one process and as ``--replicas``
processes on one port (``dca serve --workers``), interleaved; the build is loaded into
it first (``scripts.pgload.load_postgres``) unless it holds that build already, and the
PostgreSQL server's own CPU per request is reported beside the API's.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO))

TICK = os.sysconf("SC_CLK_TCK")
SCENARIOS = ["get", "dyad", "list", "csv"]


# --------------------------------------------------------------------------- helpers

def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _tree(pid: int) -> list[int]:
    """The process and its descendants (uvicorn workers are children of the server process)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def cpu_seconds(pid: int) -> float:
    """CPU time of the process and its descendants."""
    total = 0.0
    for p in _tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICK  # utime + stime (fields 14, 15)
    return total


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory; field RssAnon is the process's own (heap), without file pages."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early ({proc.returncode}): see its log")
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"no answer from {url}")


def fetch(url: str) -> tuple[bytes, dict[str, str], float]:
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=600) as r:
        body = r.read()
        headers = {k.lower(): v for k, v in r.headers.items()}
    return body, headers, time.perf_counter() - t0


def med(xs: list[float]) -> str:
    if not xs:
        return "–"
    m = statistics.median(xs)
    fmt = (lambda v: f"{v:,.0f}") if m >= 100 else ((lambda v: f"{v:.1f}") if m >= 10 else (lambda v: f"{v:.2f}"))
    return f"{fmt(m)} [{fmt(min(xs))}–{fmt(max(xs))}]" if len(xs) > 1 else fmt(m)


# --------------------------------------------------------------------------- the SQL

def compiled_sql() -> dict[str, tuple[str, dict]]:
    """The API's statements for the four scenarios, as named-parameter SQLite SQL."""
    from sqlalchemy.dialects import sqlite

    from api.queries import AgreementFilter, agreement_detail, agreements_page

    dialect = sqlite.dialect(paramstyle="named")

    def sql(stmt):
        c = stmt.compile(dialect=dialect)
        return c.string, dict(c.params)

    return {
        "get": sql(agreement_detail()),
        "dyad": sql(agreements_page(AgreementFilter(parties=("AAA", "BBB")), False, False, True)),
        "list": sql(agreements_page(AgreementFilter(parties=("AAA",), signed_from="x", signed_to_incl="y"), False, False, True)),
        "csv": sql(agreements_page(AgreementFilter(parties=("AAA",), signed_from="x", signed_to_incl="y"), False, False, False, csv=True)),
    }


# The same rows and columns as the API's agreement CSV, as plain SQL (for Datasette's
# canned query and the sqlite3 CLI): parties and party names in ISO3 order.
FLAT_CSV_SQL = """
SELECT a.agreement_id, a.title, a.agreement_type, a.signed_on, a.signed_precision, a.venue_city,
       a.venue_country_iso3, vc.name AS venue_country_name, a.status, a.status_as_of, a.entry_into_force_on,
       a.end_on, a.summary,
       (SELECT group_concat(country_iso3, ';') FROM (SELECT p.country_iso3 FROM parties p
          WHERE p.agreement_id = a.agreement_id ORDER BY p.country_iso3)) AS parties,
       (SELECT group_concat(name, ';') FROM (SELECT coalesce(c.name, '') AS name FROM parties p
          JOIN countries c ON c.iso3 = p.country_iso3 WHERE p.agreement_id = a.agreement_id ORDER BY p.country_iso3)) AS party_names
FROM party_index d JOIN agreements a ON a.agreement_id = d.agreement_id
LEFT JOIN countries vc ON vc.iso3 = a.venue_country_iso3
WHERE d.country_iso3 = :country AND d.signed_on >= :from AND d.signed_on <= :to
ORDER BY d.signed_on, d.agreement_id
""".strip()


# --------------------------------------------------------------------------- paths

def make_paths(db: Path, out: Path, n: int = 1000, seed: int = 7) -> dict[str, dict[str, Path]]:
    """Request paths for each scenario and server (the same requests, in the same order)."""
    con = sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True)
    rng = random.Random(seed)
    sql = compiled_sql()
    ids = [r[0] for r in con.execute("SELECT agreement_id FROM agreements ORDER BY agreement_id")]
    pick_ids = rng.sample(ids, n)
    dyads = con.execute("SELECT iso3_a, iso3_b, COUNT(*) FROM dyad_index GROUP BY 1, 2 HAVING COUNT(*) >= 50 ORDER BY 1, 2").fetchall()
    pick_dyads = [rng.choice(dyads)[:2] for _ in range(n)]
    countries = [r[0] for r in con.execute("SELECT iso3 FROM country_summary WHERE agreement_count >= 300 ORDER BY iso3")]
    ranges = []
    while len(ranges) < n:
        c = rng.choice(countries)
        y1 = rng.randint(1980, 2018)
        y2 = rng.randint(y1 + 1, 2025)
        lo, hi = f"{y1}-01-01", f"{y2}-12-31"
        k = con.execute("SELECT COUNT(*) FROM party_index WHERE country_iso3 = ? AND signed_on >= ? AND signed_on <= ?", (c, lo, hi)).fetchone()[0]
        if k >= 50:
            ranges.append((c, lo, hi, k))
    q = urllib.parse.urlencode
    paths = {
        "get": {
            "project": [f"/v1/agreements/{i}" for i in pick_ids],
            "datasette": [f"/dca/agreement_by_id.json?{q({'agreement_id': i, '_shape': 'array'})}" for i in pick_ids],
        },
        "dyad": {
            "project": [f"/v1/agreements?party={a}&party={b}" for a, b in pick_dyads],
            "datasette": [f"/dca/agreements_by_dyad.json?{q({'p0': a, 'p1': b, 'limit': 51, 'param_1': 0, '_shape': 'array'})}"
                          for a, b in pick_dyads],
        },
        "list": {
            "project": [f"/v1/agreements?country={c}&signed_from={lo}&signed_to={hi}" for c, lo, hi, _ in ranges],
            "datasette": [f"/dca/agreements_by_country.json?{q({'p0': c, 'signed_from': lo, 'signed_to_incl': hi, 'limit': 51, 'param_1': 0, '_shape': 'array'})}"
                          for c, lo, hi, _ in ranges],
        },
        "csv": {
            "project": [f"/v1/agreements?country={c}&signed_from={lo}&signed_to={hi}&format=csv&limit=all" for c, lo, hi, _ in ranges],
            "datasette": [f"/dca/agreements_csv_flat.csv?{q({'country': c, 'from': lo, 'to': hi, '_size': 'max'})}"
                          for c, lo, hi, _ in ranges],
        },
    }
    for by_server in paths.values():  # the bare ASGI server answers the API's own URLs
        by_server["bare"] = by_server["project"]
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, dict[str, Path]] = {}
    for scen, by_server in paths.items():
        for server, lines in by_server.items():
            f = out / f"{scen}_{server}.txt"
            f.write_text("\n".join(lines) + "\n")
            files.setdefault(scen, {})[server] = f
    # The canned queries: the API's own SQL (and the flat CSV query).
    metadata = {"databases": {"dca": {"queries": {
        "agreement_by_id": {"sql": sql["get"][0]},
        "agreements_by_dyad": {"sql": sql["dyad"][0]},
        "agreements_by_country": {"sql": sql["list"][0]},
        "agreements_csv_records": {"sql": sql["csv"][0]},
        "agreements_csv_flat": {"sql": FLAT_CSV_SQL},
    }}}}
    (out / "datasette_metadata.json").write_text(json.dumps(metadata, indent=2))
    rows = [k for *_, k in ranges]
    (out / "paths_info.json").write_text(json.dumps({"csv_rows_mean": statistics.mean(rows), "csv_rows_median": statistics.median(rows),
                                                     "csv_rows_max": max(rows), "sql": sql}, indent=2))
    return files


# --------------------------------------------------------------------------- servers

class Server:
    def __init__(self, name: str, cmd: list[str], port: int, log: Path, probe: str, env: dict | None = None,
                 paths: str = "project", cwd: Path | None = None) -> None:
        self.name, self.port, self.probe, self.paths = name, port, probe, paths  # paths: whose request URLs
        self.log = log.open("w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env or os.environ.copy(),
                                     cwd=cwd or REPO)
        wait_http(f"http://127.0.0.1:{port}{probe}", self.proc)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def run_wrk(server: Server, paths: Path, conc: int, duration: int, timeout: int, pg_pid: int | None = None) -> dict:
    from pgserver import cpu_seconds as pg_cpu

    p0 = pg_cpu(pg_pid)
    c0 = cpu_seconds(server.proc.pid)
    out = subprocess.run(["wrk", "-t1", f"-c{conc}", f"-d{duration}s", f"--timeout", f"{timeout}s", "-s", str(HERE / "cycle.lua"),
                          server.url, "--", str(paths)], capture_output=True, text=True)
    c1 = cpu_seconds(server.proc.pid)
    p1 = pg_cpu(pg_pid)
    line = [x for x in out.stdout.splitlines() if x.startswith("WRK ")]
    if not line:
        raise SystemExit(f"wrk failed: {out.stdout}\n{out.stderr}")
    r = json.loads(line[0][4:])
    r["rps"] = r["requests"] / r["seconds"] if r["seconds"] else 0.0
    r["cpu_ms_per_req"] = (c1 - c0) * 1000 / r["requests"] if r["requests"] else None
    r["pg_cpu_ms_per_req"] = (p1 - p0) * 1000 / r["requests"] if r["requests"] and p0 is not None and p1 is not None else None
    r["mb_per_s"] = r["bytes"] / r["seconds"] / 1e6 if r["seconds"] else 0.0
    return r


# --------------------------------------------------------------------------- probes

def csv_probe(project: Server, datasette: Server, db: Path, reps: int, datasette_stream: bool) -> dict:
    """One large filtered CSV (country USA, 1980-2025) from each source; rows checked to be the same."""
    c, lo, hi = "USA", "1980-01-01", "2025-12-31"
    urls = {
        "project": f"{project.url}/v1/agreements?country={c}&signed_from={lo}&signed_to={hi}&format=csv&limit=all",
        "datasette_canned": f"{datasette.url}/dca/agreements_csv_flat.csv?" + urllib.parse.urlencode({"country": c, "from": lo, "to": hi, "_size": "max"}),
    }
    if datasette_stream:
        where = f"agreement_id in (select agreement_id from parties where country_iso3 = '{c}')"
        # As ANCHORS.md measured it: Datasette's streaming table export (it re-runs the
        # filtered query for each page of rows).
        urls["datasette_table_stream"] = (f"{datasette.url}/dca/agreements.csv?" + urllib.parse.urlencode(
            {"_where": where, "signed_on__gte": lo, "signed_on__lte": hi, "_stream": "on"}))
    out: dict[str, dict] = {}
    project_rows = None
    for rep in range(reps):
        for name, url in urls.items():
            body, headers, secs = fetch(url)
            rows = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
            d = out.setdefault(name, {"seconds": [], "rows": len(rows) - 1, "mb": len(body) / 1e6})
            d["seconds"].append(secs)
            if name == "project":
                assert headers.get("x-row-count") == str(len(rows) - 1), "X-Row-Count disagrees with the body"
                project_rows = rows[1:]
        # sqlite3 CLI running the same query (same columns, same rows) into a file.
        sql = FLAT_CSV_SQL.replace(":country", f"'{c}'").replace(":from", f"'{lo}'").replace(":to", f"'{hi}'")
        dst = Path(os.environ.get("TMPDIR", "/tmp")) / "dca-bench-sqlite3.csv"
        t0 = time.perf_counter()
        subprocess.run(["sqlite3", "-csv", "-header", f"file:{db}?mode=ro&immutable=1", sql], check=True, stdout=dst.open("wb"))
        secs = time.perf_counter() - t0
        data = dst.read_bytes()
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
        d = out.setdefault("sqlite3_cli", {"seconds": [], "rows": len(rows) - 1, "mb": len(data) / 1e6})
        d["seconds"].append(secs)
        if rep == 0:
            d["same_rows_as_project"] = rows[1:] == project_rows
    return out


def memory_probe(project: Server) -> dict:
    """The server's RSS while it streams small and large exports (sampled every 5 ms)."""
    results = {}
    for label, path in [("csv, 1 page (50 rows)", "/v1/agreements?format=csv"),
                        ("csv, USA (19.5k rows)", "/v1/agreements?country=USA&format=csv&limit=all"),
                        ("csv, whole table (100k rows)", "/v1/agreements?format=csv&limit=all"),
                        ("ndjson, whole table (100k rows)", "/v1/agreements?format=ndjson&limit=all"),
                        ("csv, whole table again", "/v1/agreements?format=csv&limit=all")]:
        base = rss_mb(project.proc.pid)
        base_anon = rss_mb(project.proc.pid, "RssAnon")
        peak = [base, base_anon]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], rss_mb(project.proc.pid))
                peak[1] = max(peak[1], rss_mb(project.proc.pid, "RssAnon"))
                time.sleep(0.005)

        t = threading.Thread(target=sample)
        t.start()
        body, headers, secs = fetch(project.url + path)
        stop.set()
        t.join()
        results[label] = {"rss_before_mb": round(base, 1), "rss_peak_mb": round(peak[0], 1),
                          "anon_before_mb": round(base_anon, 1), "anon_peak_mb": round(peak[1], 1), "bytes": len(body),
                          "rows": int(headers.get("x-row-count", 0)), "seconds": round(secs, 3)}
    return results


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--package", type=Path, default=REPO / "bench" / "data" / "n100000")
    ap.add_argument("--work", type=Path, default=REPO / "bench" / "data" / "http")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "data" / "http" / "results")
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--conc", type=int, nargs="+", default=[1, 32])
    ap.add_argument("--datasette", default=str(REPO / "bench" / ".venv-peers" / "bin" / "datasette"))
    ap.add_argument("--rebuild", action="store_true", help="rebuild the database even if one exists")
    ap.add_argument("--no-table-stream", action="store_true", help="skip Datasette's (slow) table stream probe")
    ap.add_argument("--scenarios", nargs="+", default=SCENARIOS, choices=SCENARIOS)
    ap.add_argument("--no-probes", action="store_true", help="only the wrk scenarios")
    ap.add_argument("--servers", nargs="+", default=["project", "bare", "datasette"], choices=["project", "bare", "datasette"],
                    help="SQLite servers to measure (the ratio columns need bare and datasette)")
    ap.add_argument("--before", type=Path, default=None,
                    help="also serve an earlier version of the API: a folder holding its api/ and scripts/ "
                         "(git archive REV api scripts | tar -x -C DIR), measured as 'before'")
    ap.add_argument("--pg", default=None, metavar="URL",
                    help="PostgreSQL instead: serve this database (the build is loaded into it unless it holds it "
                         "already; 'auto': start a throwaway server) with 1 and with --replicas processes on one "
                         "port, interleaved")
    ap.add_argument("--replicas", type=int, default=2)
    args = ap.parse_args(argv)

    py = Path(sys.executable)
    dca = py.parent / "dca"
    if not (args.package / "datapackage.json").exists():
        print(f"generating the synthetic package in {args.package}…", file=sys.stderr)
        subprocess.run([str(py), str(REPO / "bench" / "make_package.py"), "--n", "100000", "--out", str(args.package)], check=True)
    build = args.work / "build"
    db = build / "dca.sqlite"
    if args.rebuild or not db.exists():
        print(f"building {db}…", file=sys.stderr)
        t0 = time.perf_counter()
        subprocess.run([str(dca), "build", str(args.package), "-o", str(build.resolve()), "-q"], check=True)
        print(f"  built in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = args.out / stamp
    files = make_paths(db, out / "paths")

    env = os.environ.copy()
    env.pop("DATABASE_URL", None)
    pg_server = None
    pg_load_s = None
    if args.pg:
        import pgserver  # bench/http/pgserver.py, beside this script

        pg_server = pgserver.PgServer(args.pg, args.work / "pg.state")
        args.pg_url = pg_server.url
        try:
            pg_load_s = pgserver.ensure_loaded(pg_server.url, db, lambda m: print(m, file=sys.stderr))
        except BaseException:
            pg_server.stop()
            raise
        if pg_load_s is not None:
            print(f"  loaded into PostgreSQL in {pg_load_s:.0f} s (load average {os.getloadavg()[0]:.1f})", file=sys.stderr)
    try:
        servers = start_servers(args, dca, py, db, out, env)
    except BaseException:
        if pg_server:
            pg_server.stop()
        raise
    pg_pid = pg_server.pid if pg_server else None
    results: list[dict] = []
    load = [os.getloadavg()]
    try:
        for s in servers.values():  # warm-up (not recorded): each server's page cache (its own copy) and connections
            for scen in args.scenarios:
                run_wrk(s, files[scen][s.paths], 4, 3, 30)
        names = list(servers)
        for rep in range(1, args.reps + 1):
            for scen in args.scenarios:
                for conc in args.conc:
                    k = (rep - 1) % len(names)
                    order = names[k:] + names[:k]  # each server first in turn
                    for name in order:
                        duration = args.duration * (2 if scen == "csv" else 1)
                        r = run_wrk(servers[name], files[scen][servers[name].paths], conc, duration, 60, pg_pid)
                        r.update(rep=rep, scenario=scen, conc=conc, server=name, load=os.getloadavg()[0])
                        results.append(r)
                        print(f"rep {rep} {scen:5} c={conc:<3} {name:10} {r['rps']:9.1f} req/s  p50 {r['p50_ms']:8.2f}  "
                              f"p99 {r['p99_ms']:8.2f} ms  cpu {r['cpu_ms_per_req'] or 0:7.2f} ms/req  "
                              + (f"pg cpu {r['pg_cpu_ms_per_req'] or 0:7.2f} ms/req  " if pg_pid else "")
                              + f"errors {r['errors']}  "
                              f"load {r['load']:.1f}", file=sys.stderr)
        load.append(os.getloadavg())
        probes = not args.no_probes and not args.pg and "datasette" in servers
        probe = csv_probe(servers["project"], servers["datasette"], db, args.reps, not args.no_table_stream) if probes else {}
        memory = memory_probe(servers["project"]) if probes else {}
    finally:
        for s in servers.values():
            s.stop()
        if pg_server:
            pg_server.stop()
    versions = {"wrk": subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("\n")[0].strip()}
    if "datasette" in servers:
        versions["datasette"] = subprocess.run([args.datasette, "--version"], capture_output=True, text=True).stdout.strip()
        versions["sqlite3"] = subprocess.run(["sqlite3", "--version"], capture_output=True, text=True).stdout.split()[0]
    if pg_load_s is not None:
        versions["pgload_s"] = f"{pg_load_s:.0f}"
    (out / "results.json").write_text(json.dumps({"wrk": results, "csv_probe": probe, "memory": memory, "versions": versions,
                                                  "load": load, "args": {k: str(v) for k, v in vars(args).items()}}, indent=2))
    report = render(results, probe, memory, versions, args, list(servers), load)
    (out / "summary.md").write_text(report)
    print(report)
    print(f"\nraw results: {out}", file=sys.stderr)
    return 0


def start_servers(args, dca: Path, py: Path, db: Path, out: Path, env: dict) -> dict[str, "Server"]:
    """The servers to measure, started and answering (each on a free port)."""
    servers: dict[str, Server] = {}

    def add(name: str, cmd: list[str], probe: str = "/healthz", paths: str = "project", cwd: Path | None = None,
            extra_env: dict | None = None) -> None:
        port = free_port()
        cmd = [c.replace("{port}", str(port)) for c in cmd]
        servers[name] = Server(name, cmd, port, out / f"server_{name}.log", probe, {**env, **(extra_env or {})},
                               paths=paths, cwd=cwd)

    if args.pg:
        serve = [str(dca), "serve", "--database-url", args.pg_url, "--port", "{port}"]
        add("pg_1", serve)
        add(f"pg_{args.replicas}", serve + ["--workers", str(args.replicas)])
        return servers
    # Each server keeps its own private copy of the build (api.db.private_copy).
    if "project" in args.servers:
        add("project", [str(dca), "serve", "--db", str(db.resolve()), "--port", "{port}"])
    if args.before:
        add("before", [str(py), "-m", "scripts.serve", "--db", str(db.resolve()), "--port", "{port}"], cwd=args.before,
            extra_env={"PYTHONPATH": str(args.before.resolve())})
    if "bare" in args.servers:
        add("bare", [str(py), "-m", "uvicorn", "bench.http.bare_asgi:app", "--port", "{port}", "--loop", "uvloop",
                     "--http", "httptools", "--no-access-log"], paths="bare", extra_env={"BENCH_DB": str(db.resolve())})
    if "datasette" in args.servers:
        # Datasette cannot decode the stored documents: it serves a copy that holds them as text
        from plain_docs import check_answers, plain_copy

        add("datasette", [args.datasette, "serve", "-i", str(plain_copy(db)), "-h", "127.0.0.1", "-p", "{port}",
                          "-m", str(out / "paths" / "datasette_metadata.json"),
                          "--setting", "num_sql_threads", "3", "--setting", "max_returned_rows", "100000",
                          "--setting", "sql_time_limit_ms", "60000"], probe="/-/versions.json", paths="datasette")
        ref = servers.get("project") or servers.get("bare")
        if ref:  # it serves them as text, the API's bytes
            print(f"datasette: {check_answers(ref.url, servers['datasette'].url, out / 'paths')} answers "
                  f"are the {ref.name}'s bytes", file=sys.stderr)
    return servers


def _ratios(results: list[dict], r0: list[dict], other: str, key: str = "rps") -> list[float]:
    """Per repeat: this server's figure ÷ the other server's in the same repeat (same scenario and concurrency)."""
    out = []
    for r in r0:
        d = [x for x in results if x["scenario"] == r["scenario"] and x["conc"] == r["conc"] and x["server"] == other
             and x["rep"] == r["rep"]]
        if d and d[0][key]:
            out.append(r[key] / d[0][key])
    return out


def render(results: list[dict], probe: dict, memory: dict, versions: dict, args, names: list[str], load: list) -> str:
    refs = [n for n in ("bare", "datasette", "pg_1") if n in names]
    pg = any(r.get("pg_cpu_ms_per_req") is not None for r in results)
    lines = [f"Versions: {'; '.join(f'{k} {v}' for k, v in versions.items())}. {args.reps} repeats × {args.duration} s per "
             f"wrk run (csv: {2 * args.duration} s), servers interleaved (each first in turn); median [min–max]; "
             "÷ X = req/s ÷ X's req/s within each repeat, then the median. "
             f"Load average (1, 5, 15 min) before: {', '.join(f'{x:.1f}' for x in load[0])}"
             + (f"; after: {', '.join(f'{x:.1f}' for x in load[-1])}" if len(load) > 1 else "") + ".", "",
             "| scenario | conc | server | req/s | p50 ms | p99 ms | server CPU ms/req | "
             + ("PostgreSQL CPU ms/req | " if pg else "") + "MB/s | errors | "
             + " | ".join(f"÷ {n}" for n in refs) + " |",
             "|---|---|---|---|---|---|---|---|---|" + "---|" * (len(refs) + pg)]
    for scen in SCENARIOS:
        for conc in args.conc:
            for name in names:
                rs = [r for r in results if r["scenario"] == scen and r["conc"] == conc and r["server"] == name]
                if not rs:
                    continue
                cells = ["1" if ref == name else med(_ratios(results, rs, ref)) for ref in refs]
                lines.append(f"| {scen} | {conc} | {name} | {med([r['rps'] for r in rs])} | {med([r['p50_ms'] for r in rs])} | "
                             f"{med([r['p99_ms'] for r in rs])} | {med([r['cpu_ms_per_req'] for r in rs if r['cpu_ms_per_req'] is not None])} | "
                             + (f"{med([r['pg_cpu_ms_per_req'] for r in rs if r.get('pg_cpu_ms_per_req') is not None])} | " if pg else "")
                             + f"{med([r['mb_per_s'] for r in rs])} | {sum(r['errors'] for r in rs)} | " + " | ".join(cells) + " |")
    if not probe:
        return "\n".join(lines) + "\n"
    lines += ["", "Large filtered CSV (country USA, 1980–2025), one request at a time:", "",
              "| source | rows | MB | seconds | rows/s | ÷ project time |", "|---|---|---|---|---|---|"]
    pt = statistics.median(probe["project"]["seconds"])
    for name, d in probe.items():
        t = statistics.median(d["seconds"])
        same = f" (same rows: {d['same_rows_as_project']})" if "same_rows_as_project" in d else ""
        lines.append(f"| {name}{same} | {d['rows']:,} | {d['mb']:.1f} | {med(d['seconds'])} | {d['rows'] / t:,.0f} | {t / pt:.1f} |")
    lines += ["", "API server memory while streaming (RSS, sampled every 5 ms):", "",
              "| export | rows | MB sent | seconds | RSS before → peak MB | of which anonymous (heap) before → peak MB |",
              "|---|---|---|---|---|---|"]
    for label, m in memory.items():
        lines.append(f"| {label} | {m['rows']:,} | {m['bytes'] / 1e6:.1f} | {m['seconds']} | {m['rss_before_mb']} → {m['rss_peak_mb']} | "
                     f"{m['anon_before_mb']} → {m['anon_peak_mb']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
