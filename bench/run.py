"""`make bench`: speed and memory of attendance, as one table of figures with ratios against floors measured
in the same run.

1. Check-in API under load: gunicorn on a free loopback port against a fresh database (SQLite in a temp dir;
   PostgreSQL as well when BENCH_DATABASE_URL is set), seeded with the demo and a 10,000-delegate session whose
   last day is today. 32 clients scan distinct badges, a fifth of them a second time; the floor is GET /healthz
   with the same clients against the same server. Then 8 clients fill in the public registration form.
2. PDFs in-process (bench/pdfs.py): a trivial WeasyPrint document as the floor, a badge and a certificate on
   demand, and 100 and 1,000 certificates merged into one PDF (time per certificate and peak-memory growth), and
   the badge sheets of 100 and 1,000 delegates.
3. The headcount report (bench/reports.py) over 10,000 registrations and about 20,000 attendance records.

It is a measurement, not a test: it always exits 0, and says which targets were met. Every load loop is
bounded in count and time; only 127.0.0.1 is contacted. Options: --quick (smaller counts, to try the bench
itself), --skip-http, --skip-pdfs, --skip-reports, --keep (keep the temp dir with the databases and logs), the
gunicorn settings --workers, --worker-class and --threads, and --client-processes. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from urllib.parse import urlsplit

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import data  # noqa: E402
import load  # noqa: E402
from server import ROOT, Gunicorn, SmtpSink, database_cpu_seconds, flask, machine_cpu_seconds  # noqa: E402

# The targets.
CHECKIN_RATIO_MIN = 0.5  # check-in requests/s over healthz requests/s
CHECKIN_P99_MAX_MS = 100
BULK_RATIO_MAX = 2  # ms per certificate in bulk over the floor document
ON_DEMAND_RATIO_MAX = 3
BULK_MEMORY_MARGIN_MB = 24  # peak RSS of the larger bulk export over the smaller's, still called flat

CLIENTS, FORM_CLIENTS = 32, 8
BUDGET_SECONDS = 345  # the whole run; a subprocess still running at the end is stopped and reported
REPEAT_SHARE = 0.2
ROUNDS = 3
PACED_SCANS, SCAN_EVERY = 400, 1.0


class Table:
    """Rows of (measure, result, p50 / p99, floor, ratio, target, met); a row of one cell is a section heading."""

    HEADINGS = ("measure", "result", "p50 / p99", "floor", "ratio", "target", "met")

    def __init__(self):
        self.rows: list[tuple[str, ...]] = []
        self.misses: list[str] = []
        self.current = ""

    def section(self, title: str) -> None:
        self.rows.append((title,))
        self.current = title.split(":")[0].split(" (")[0]

    def add(
        self,
        measure: str,
        result: str,
        latency: str = "",
        floor: str = "",
        ratio: str = "",
        target: str = "",
        met: bool | None = None,
    ) -> None:
        verdict = "" if met is None else ("yes" if met else "NO")
        if met is False:
            self.misses.append(
                f"{self.current}, {measure.strip()}: {result}"
                + (f", ratio {ratio}" if ratio else "")
                + f" (target {target})"
            )
        self.rows.append((measure, result, latency, floor, ratio, target, verdict))

    def render(self) -> str:
        full = [r for r in self.rows if len(r) > 1] + [self.HEADINGS]
        widths = [max(len(r[i]) for r in full) for i in range(len(self.HEADINGS))]
        line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
        out = [line(self.HEADINGS), "  ".join("-" * w for w in widths)]
        for row in self.rows:
            out.append(f"== {row[0]}" if len(row) == 1 else line(row))
        return "\n".join(out)


class Budget:
    """The run's time limit: each in-process part gets what is left of it (at least a minute)."""

    def __init__(self, seconds: float):
        self.deadline = time.monotonic() + seconds

    def timeout(self) -> float:
        return max(60.0, self.deadline - time.monotonic())


budget = Budget(BUDGET_SECONDS)


def ms(value: float) -> str:
    return f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms"


def p50_p99(result: load.Result) -> str:
    p50, p99 = result.percentile_ms(50), result.percentile_ms(99)
    return f"{p50:,.0f} / {p99:,.0f} ms" if p50 >= 10 else f"{p50:.1f} / {p99:,.1f} ms"


def cores(result: load.Result) -> str:
    """Cores kept busy on average, by the server and by the whole machine. Where the whole machine's figure stays
    below the floor's, requests waited on something other than CPU (on PostgreSQL, each commit's WAL flush)."""
    return f"{result.cpu['server'] / result.seconds:.2f} / {result.cpu['whole machine'] / result.seconds:.2f}"


def answers(result: load.Result) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(result.outcomes.items(), reverse=True) if k != "exception")


def run_json(script: str, args: list[str], env: dict, log: Path, timeout: int) -> dict:
    """Runs bench/<script> in a subprocess with the bench database's env; its last stdout line is JSON."""
    with open(log, "ab") as err:
        completed = subprocess.run(
            [sys.executable, str(BENCH / script), *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=err,
            timeout=timeout,
        )
    lines = completed.stdout.decode().strip().splitlines()
    if completed.returncode != 0 or not lines:
        raise RuntimeError(f"{script} {' '.join(args)} exited with {completed.returncode}; see {log}")
    return json.loads(lines[-1])


def prepare(engine: str, url: str, env: dict, log: Path, fixture: Path) -> dict:
    """A fresh schema by the migrations, the demo, then the large session (bench/data.py)."""
    if engine == "PostgreSQL":
        data.reset_database(url)
    flask(env, "db", "upgrade", log=log)
    flask(env, "seed-demo", log=log)
    run_json("data.py", [str(fixture)], env, log, timeout=budget.timeout())
    return json.loads(fixture.read_text())


def scan_sequence(badges: list[str], count: int, rng: random.Random) -> list[str]:
    """Distinct badges in a random order, with REPEAT_SHARE of the scans a badge shown again shortly after."""
    fresh = badges[:]
    rng.shuffle(fresh)
    sequence, shown = [], []
    while len(sequence) < count and fresh:
        if shown and rng.random() < REPEAT_SHARE:
            sequence.append(rng.choice(shown[-200:]))
        else:
            shown.append(fresh.pop())
            sequence.append(shown[-1])
    return sequence


def measured(server: Gunicorn, name: str, step, local_database: bool = False, **options) -> load.Result:
    """One load run, with the CPU time the server, this machine's PostgreSQL (when `local_database`) and the whole
    machine used over it."""

    def cpu() -> dict[str, float]:
        parts = {"server": server.cpu_seconds()}
        if local_database:
            parts["PostgreSQL"] = database_cpu_seconds()
        parts["whole machine"] = machine_cpu_seconds()[0]
        return parts

    before = cpu()
    result = load.run(name, server.port, step, **options)
    result.cpu = {part: seconds - before[part] for part, seconds in cpu().items()}
    return result


def http_section(table: Table, engine: str, env: dict, fixture: dict, args, log: Path, smtp: SmtpSink) -> None:
    quick = args.quick
    warmup_badges, badges = fixture["badges"][-64:], fixture["badges"][:-64]
    token = fixture["api_token"]
    with Gunicorn(env, log, workers=args.workers, worker_class=args.worker_class, threads=args.threads) as server:
        table.section(
            f"Check-in API on {engine}: gunicorn {server.description}, {CLIENTS} clients "
            f"in {args.client_processes} processes, {ROUNDS} alternating rounds"
        )
        # Warm up every worker: imports, the database pool, the first check-in's queries.
        load.run("warm-up", server.port, load.healthz(), clients=CLIENTS, max_units=500, max_seconds=10)
        slug = fixture["checkin_slug"]
        load.run(
            "warm-up",
            server.port,
            load.checkins(token, warmup_badges, slug),
            clients=8,
            max_units=len(warmup_badges),
            max_seconds=10,
        )

        # Floor and check-ins alternate in short rounds, so that a change in the machine's other load
        # (this is a shared 2-core machine) weighs on both alike.
        seconds = (6 if quick else 15) / ROUNDS
        badges, paced = badges[:-PACED_SCANS], badges[-PACED_SCANS:]  # kept back for the door's pace below
        sequence = scan_sequence(badges, 1_500 if quick else len(badges), random.Random(7))
        floor, result, done = load.Result("healthz", CLIENTS), load.Result("checkins", CLIENTS), 0
        # PostgreSQL's CPU is measured when it runs here (SQLite works inside the server's processes).
        local_database = engine == "PostgreSQL" and urlsplit(env["DATABASE_URL"]).hostname in (
            "127.0.0.1",
            "localhost",
            None,
        )
        for _ in range(ROUNDS):
            floor.merge(
                measured(
                    server,
                    "healthz",
                    load.healthz(),
                    local_database,
                    clients=CLIENTS,
                    max_units=20_000,
                    max_seconds=seconds,
                    processes=args.client_processes,
                )
            )
            part = measured(
                server,
                "checkins",
                load.checkins(token, sequence[done:], slug),
                local_database,
                clients=CLIENTS,
                max_units=len(sequence) - done,
                max_seconds=seconds,
                processes=args.client_processes,
            )
            done += part.units
            result.merge(part)
        ratio = result.per_second / floor.per_second if floor.per_second else 0.0
        p99 = result.percentile_ms(99)
        table.add(
            "GET /healthz (floor)",
            f"{floor.per_second:,.0f} req/s",
            p50_p99(floor),
            target="errors 0",
            met=floor.errors == 0,
        )
        table.add(
            "POST /api/v1/checkins",
            f"{result.per_second:,.0f} req/s",
            p50_p99(result),
            f"{floor.per_second:,.0f} req/s",
            f"{ratio:.2f}",
            f">= {CHECKIN_RATIO_MIN}",
            ratio >= CHECKIN_RATIO_MIN,
        )
        table.add("  check-in p99 latency", ms(p99), target=f"< {CHECKIN_P99_MAX_MS} ms", met=p99 < CHECKIN_P99_MAX_MS)
        table.add(
            "  check-in errors",
            f"{result.errors} of {result.units} ({answers(result)})",
            target="0",
            met=result.errors == 0,
        )
        # Where the CPU goes: the server, the clients and PostgreSQL share this machine's cores.
        for part, seconds in result.cpu.items():
            cpu, floor_cpu = result.ms_per_unit(seconds), floor.ms_per_unit(floor.cpu[part])
            table.add(
                f"  {part} CPU per request",
                ms(cpu),
                floor=ms(floor_cpu),
                ratio=f"{cpu / floor_cpu:.1f}x" if floor_cpu else "",
            )
        table.add(f"  cores in use: server / whole machine (of {os.cpu_count()})", cores(result), floor=cores(floor))
        # The same 32 scanners at a door's rhythm rather than flat out: what a person at the door waits.
        door = load.run(
            "door pace",
            server.port,
            load.checkins(token, paced, slug),
            clients=CLIENTS,
            max_units=PACED_SCANS,
            max_seconds=4 if quick else 8,
            processes=args.client_processes,
            pace=SCAN_EVERY,
        )
        table.add(
            f"  at a door's pace: {CLIENTS} scanners, a scan every {SCAN_EVERY:g} s each",
            f"{door.per_second:,.0f} req/s, errors {door.errors}",
            p50_p99(door),
        )

        before = smtp.messages
        form = measured(
            server,
            "register",
            load.registrations(
                fixture["register_slug"], fixture["entity_type_ids"], fixture["region_ids"], run_id=secrets.token_hex(3)
            ),
            clients=FORM_CLIENTS,
            max_units=40 if quick else 400,
            max_seconds=5 if quick else 8,
            processes=min(args.client_processes, FORM_CLIENTS),
        )
        table.add(
            f"POST /sessions/<slug>/register ({FORM_CLIENTS} clients)",
            f"{form.per_second:,.1f} /s",
            p50_p99(form),
            target="errors 0",
            met=form.errors == 0,
        )
        table.add(
            "  answers; mails sent during the run; server CPU per form",
            f"{answers(form)}; {smtp.messages - before} mails; {ms(form.ms_per_unit(form.cpu['server']))} (GET+POST)",
        )
        registered = form.units - form.errors
        delivered = deliver_queued_mails(env, smtp, before, registered, log)
        table.add(
            "  confirmations delivered by a job worker afterwards",
            f"{delivered} of {registered}",
            target="each once",
            met=delivered == registered,
        )


def deliver_queued_mails(env: dict, smtp: SmtpSink, before: int, expected: int, log: Path) -> int:
    """Runs a job worker until the queued confirmations reached the SMTP sink (or two minutes passed); how many
    mails the sink received since `before`."""
    with open(log, "a") as out:
        worker = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "huey_consumer"),
                "attendance.jobs.worker.huey",
                "--workers",
                "2",
                "--worker-type",
                "thread",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline, last, quiet_since = time.monotonic() + 120, -1, time.monotonic()
        while time.monotonic() < deadline:
            received = smtp.messages - before
            if received != last:
                last, quiet_since = received, time.monotonic()
            if received >= expected and time.monotonic() - quiet_since > 2:  # and no duplicate follows
                break
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(30)
    return smtp.messages - before


def headcount_section(table: Table, engine: str, env: dict, args, log: Path) -> None:
    result = run_json("reports.py", ["3"], env, log, timeout=budget.timeout())
    table.section(
        f"Headcount report on {engine}: {result['registrations']:,} registrations, "
        f"{result['attendances']:,} attendance records (median of 3)"
    )
    table.add("headcount(meeting).as_dict()", ms(result["headcount_ms"]))
    for name in ("to_csv", "to_xlsx", "to_pdf"):
        table.add(f"formats.{name}(report)", ms(result[f"{name}_ms"]))


def pdf_section(table: Table, env: dict, args, log: Path) -> None:
    repeats = 5 if args.quick else 15
    single = run_json("pdfs.py", ["on-demand", str(repeats)], env, log, timeout=budget.timeout())
    floor = single["floor_ms"]
    table.section(f"PDFs in-process (median of {repeats}; subsetter: {single['subsetter']})")
    table.add("floor: trivial 1-page document, same fonts", ms(floor))
    # The on-demand target is met by either a first render within 3x or a stored copy within 3x (the copy
    # is invalidated when its data changes): one verdict per document, on its stored copy's row, naming both.
    for kind in ("badge", "certificate"):
        first, stored = single[f"{kind}_ms"] / floor, single[f"{kind}_stored_ms"] / floor
        table.add(
            f"{kind}_pdf, first render (stored after)", ms(single[f"{kind}_ms"]), floor=ms(floor), ratio=f"{first:.1f}x"
        )
        table.add(
            f"{kind}_pdf, stored copy",
            ms(single[f"{kind}_stored_ms"]),
            floor=ms(floor),
            ratio=f"{stored:.1f}x",
            target=f"either <= {ON_DEMAND_RATIO_MAX}x",
            met=min(first, stored) <= ON_DEMAND_RATIO_MAX,
        )
    counts = (100, 250) if args.quick else (100, 1_000)
    bulk = {}
    for n in counts:
        bulk[n] = run_json("pdfs.py", ["bulk", str(n)], env, log, timeout=budget.timeout())
        ratio = bulk[n]["ms_per_certificate"] / bulk[n]["floor_ms"]
        pages = "" if bulk[n]["pages"] == n else f" ({bulk[n]['pages']} pages!)"
        # The issue sets the bulk target on the export of 1,000; the smaller export shows how the first batch weighs.
        judged = n == counts[-1]
        table.add(
            f"write_merged_pdf, {n:,} certificates",
            f"{ms(bulk[n]['ms_per_certificate'])}/cert{pages}",
            floor=ms(bulk[n]["floor_ms"]),
            ratio=f"{ratio:.1f}x",
            target=f"<= {BULK_RATIO_MAX}x" if judged else ("a page each" if pages else ""),
            met=(ratio <= BULK_RATIO_MAX and not pages) if judged else (False if pages else None),
        )
    small, large = (bulk[n] for n in counts)
    # Flat: the larger export's peak may exceed the smaller's by some MB: the allocator and native caches (fonts,
    # glyphs) settle over the first batches, while Python keeps nothing per certificate. In batches of 100 the peak
    # grew +58-69 MB for 100 certificates, +65-89 MB for 1,000 and +75 MB for 2,500. Memory held per certificate
    # shows as the slope: 900 more certificates at pypdf's old 50 KB each would be +44 MB.
    peak_memory_row(
        table,
        "certs",
        counts,
        bulk,
        target=f"flat (+{BULK_MEMORY_MARGIN_MB} MB)",
        met=large["peak_growth_mb"] <= small["peak_growth_mb"] + BULK_MEMORY_MARGIN_MB,
    )
    # The organiser's badge sheets, batched the same way. No target in the issue: shown so that memory growing with
    # the number of badges (one document for all took +151 MB at 1,000) would show.
    sheet = {n: run_json("pdfs.py", ["sheets", str(n)], env, log, timeout=budget.timeout()) for n in counts}
    for n in counts:
        pages = "" if sheet[n]["pages"] == math.ceil(n / 4) else f" ({sheet[n]['pages']} pages!)"
        table.add(f"write_badge_sheets, {n:,} badges (4 an A4 page)", f"{ms(sheet[n]['ms_per_badge'])}/badge{pages}")
    peak_memory_row(table, "badges", counts, sheet)


def peak_memory_row(table: Table, unit: str, counts: tuple[int, int], results: dict, **verdict) -> None:
    """The peak-memory growth of the smaller and the larger export, and its slope: what each document adds."""
    small, large = (results[n] for n in counts)
    slope_kb = (large["peak_growth_mb"] - small["peak_growth_mb"]) * 1024 / (counts[1] - counts[0])
    table.add(
        f"  peak RSS growth, {counts[0]:,} / {counts[1]:,} {unit} (batches of {large['batch']})",
        f"+{small['peak_growth_mb']:.0f} MB / +{large['peak_growth_mb']:.0f} MB",
        ratio=f"{slope_kb:+.1f} KB/{unit.rstrip('s')}",
        **verdict,
    )


def server_env(url: str, smtp_port: int, jobs_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("FLASK_APP", "TEST_DATABASE_URL")}
    env.update(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench-" + secrets.token_hex(16),
            "RATELIMIT_ENABLED": "false",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp_port),
            "SMTP_STARTTLS": "false",
            "PUBLIC_URL": "http://127.0.0.1",
            "ATTENDANCE_ENV": "development",
            "PYTHONUNBUFFERED": "1",
            # The bench's own queue: the registrations' mails wait there for the worker started after the form's run.
            "JOBS_URL": jobs_url,
        }
    )
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts, to try the bench itself")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-pdfs", action="store_true")
    parser.add_argument("--skip-reports", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (databases, logs)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--client-processes", type=int, default=4, help="processes the clients are spread over")
    args = parser.parse_args()

    started, stolen = time.monotonic(), machine_cpu_seconds()[1]
    table = Table()
    tmp = Path(tempfile.mkdtemp(prefix="attendance-bench-"))
    log = tmp / "bench.log"
    engines = [("SQLite", f"sqlite:///{tmp / 'bench.sqlite3'}")]
    if os.environ.get("BENCH_DATABASE_URL"):
        engines.append(("PostgreSQL", os.environ["BENCH_DATABASE_URL"]))
    print(
        f"attendance bench, {dt.datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f}; log {log}",
        flush=True,
    )

    def attempt(what: str, action) -> None:
        print(f"... {what}", end="", flush=True)
        step_started = time.monotonic()
        try:
            action()
        except Exception as error:  # a measurement that fails is reported, and the others still run
            table.add(f"{what}: FAILED", str(error)[:160])
            with open(log, "a") as out:
                traceback.print_exc(file=out)
        print(f" ({time.monotonic() - step_started:.0f} s)", flush=True)

    with SmtpSink() as smtp:
        sqlite_env = None
        for engine, url in engines:
            env = server_env(url, smtp.port, f"sqlite:///{tmp / f'jobs-{engine}.sqlite3'}")
            fixture: dict = {}
            attempt(
                f"{engine}: migrate and seed",
                lambda: fixture.update(prepare(engine, url, env, log, tmp / f"fixture-{engine}.json")),
            )
            if not fixture:
                continue
            sqlite_env = sqlite_env or (env if engine == "SQLite" else None)
            if not args.skip_reports:
                attempt(f"{engine}: headcount report", lambda: headcount_section(table, engine, env, args, log))
            if not args.skip_http:
                attempt(f"{engine}: HTTP load", lambda: http_section(table, engine, env, fixture, args, log, smtp))
        if sqlite_env and not args.skip_pdfs:
            attempt("PDFs", lambda: pdf_section(table, sqlite_env, args, log))

    print()
    print(table.render())
    print(f"\nTargets missed: {len(table.misses)}" + "".join(f"\n  - {m}" for m in table.misses))
    print(
        f"Took {time.monotonic() - started:.0f} s; load average at the end {os.getloadavg()[0]:.1f}; the "
        f"hypervisor gave {machine_cpu_seconds()[1] - stolen:.1f} s of CPU to other machines meanwhile (other work "
        "slows the figures, ratios less)."
    )
    failed = any(row[0].endswith("FAILED") for row in table.rows)
    if args.keep or failed:
        print(f"Kept {tmp} (databases, fixtures and bench.log)")
    else:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except Exception:
        traceback.print_exc()
    sys.exit(0)
