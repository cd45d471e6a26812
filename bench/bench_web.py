"""Latency of the web app and the API under load: ``python bench/bench_web.py --db URL --out
FILE.json [--seconds 20] [--clients 4]``.

Starts ``drugradar serve`` (the real uvicorn server, as many processes as it starts by default,
two on two cores; ``--workers`` to choose) on a free loopback port against the database, warms
it up with a few requests (it builds its indexes before it listens), then a separate load
process (this script with ``--load``: ``clients`` threads, one httpx client each, no think time)
drives each endpoint in turn for ``seconds`` at each concurrency of ``--clients`` (default
``1,4``: what one user sees, then four at once):

- search page ``/search?q=NAME`` and search API ``/api/drugs?q=NAME`` over real names (a seeded
  sample of the names of drugs with development-status rows, and of any drug);
- drug page ``/drugs/ID`` and API profile ``/api/drugs/ID`` over real ids of drugs with status
  rows.

Writes p50/p95/p99/mean/max latency in ms, requests/s and non-2xx counts per endpoint and
concurrency, with the issue's goals (p95 ≤ 50 ms for search, ≤ 100 ms for a drug page or
profile). The load process shares the machine with the server, so requests/s is a floor; with
several clients, latency is what each sees while the others keep the server busy.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

SAMPLE = 200
SEED = 8
GOALS_MS = {"search_page": 50, "search_api": 50, "drug_page": 100, "drug_api": 100}
NAME_TYPES = ("official", "inn", "brand", "code")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def redact(url: str) -> str:
    """The URL without a password (the JSON may be shared)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


# -- what to ask for ------------------------------------------------------------------------------
def sample(db: str) -> dict[str, Any]:
    """Real names and ids from the database (seeded), and its size."""
    from sqlalchemy import func, select

    from drugradar.store import make_engine
    from drugradar.store.schema import dev_status, drug, synonym

    rnd = random.Random(SEED)
    engine = make_engine(db)
    d, s = drug.c, synonym.c
    with engine.connect() as conn:
        live = sorted(conn.execute(select(d.id).where(d.retired.is_(False))).scalars())
        busy = sorted(conn.execute(select(dev_status.c.drug_id).distinct()).scalars())
        n_names = conn.execute(select(func.count()).select_from(synonym)).scalar_one()
        n_status = conn.execute(select(func.count()).select_from(dev_status)).scalar_one()
        ids = rnd.sample(busy, min(SAMPLE, len(busy)))
        named = ids[: SAMPLE // 2] + rnd.sample(live, min(SAMPLE // 2, len(live)))
        names_of: dict[str, list[str]] = {}
        for r in conn.execute(
            select(s.drug_id, s.name)
            .where(s.drug_id.in_(named), s.alias_type.in_(NAME_TYPES))
            .order_by(s.drug_id, s.name)
        ):
            names_of.setdefault(r.drug_id, []).append(r.name)
    engine.dispose()
    names = [rnd.choice(v) for _, v in sorted(names_of.items())]
    if not names or not ids:
        raise SystemExit("The database holds no drug with development-status rows to ask for.")
    return {
        "names": names,
        "ids": ids,
        "size": {
            "drugs": len(live),
            "drugs_with_status": len(busy),
            "names": int(n_names),
            "status_rows": int(n_status),
        },
    }


def endpoints(names: list[str], ids: list[str]) -> dict[str, list[str]]:
    return {
        "search_page": [f"/search?q={quote(n)}" for n in names],
        "search_api": [f"/api/drugs?q={quote(n)}" for n in names],
        "drug_page": [f"/drugs/{quote(i)}" for i in ids],
        "drug_api": [f"/api/drugs/{quote(i)}" for i in ids],
    }


# -- the server ---------------------------------------------------------------------------------
def start_server(db: str, port: int, log: Path, workers: int) -> subprocess.Popen[bytes]:
    exe = shutil.which("drugradar", path=str(Path(sys.executable).parent))
    cmd = [exe] if exe else [sys.executable, "-m", "drugradar.cli"]
    cmd += ["--db", db, "serve", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--workers", str(workers)]
    env = {**os.environ, "DRUGRADAR_RATE_LIMIT": "0"}
    with log.open("wb") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)


def wait_ready(server: subprocess.Popen[bytes], base: str, log: Path, timeout: float = 120) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"drugradar serve exited ({server.returncode}):\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/api/drugs?limit=1&facets=false", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"drugradar serve did not answer within {timeout:.0f} s:\n{log.read_text()}")


def warm_up(base: str, paths: dict[str, list[str]]) -> dict[str, float]:
    """One request per endpoint (the first search builds the resolver), then a few more; how
    long the first request of each took, in ms."""
    import httpx

    first: dict[str, float] = {}
    with httpx.Client(base_url=base, timeout=300) as client:
        for name, urls in paths.items():
            t0 = time.perf_counter()
            client.get(urls[0]).raise_for_status()
            first[name] = round((time.perf_counter() - t0) * 1000, 1)
            for url in urls[1:10]:
                client.get(url)
    return first


# -- the load process ---------------------------------------------------------------------------
def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of sorted ``values``."""
    if not values:
        return float("nan")
    k = max(0, min(len(values) - 1, math.ceil(p / 100 * len(values)) - 1))
    return values[k]


def drive(base: str, urls: list[str], seconds: float, clients: int) -> dict[str, Any]:
    """``clients`` threads asking for ``urls`` (each its own seeded order) for ``seconds``."""
    import httpx

    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    stop = time.perf_counter() + seconds

    def client(n: int) -> None:
        order = urls[:]
        random.Random(SEED + n).shuffle(order)
        with httpx.Client(base_url=base, timeout=30) as http:
            i = 0
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                try:
                    ok = http.get(order[i % len(order)]).status_code < 300
                except httpx.HTTPError:
                    ok = False
                latencies[n].append((time.perf_counter() - t0) * 1000)
                errors[n] += not ok
                i += 1

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    every = sorted(x for xs in latencies for x in xs)
    return {
        "requests": len(every),
        "non_2xx": sum(errors),
        "seconds": round(elapsed, 2),
        "rps": round(len(every) / elapsed, 1),
        "p50_ms": round(percentile(every, 50), 1),
        "p95_ms": round(percentile(every, 95), 1),
        "p99_ms": round(percentile(every, 99), 1),
        "mean_ms": round(sum(every) / len(every), 1) if every else None,
        "max_ms": round(every[-1], 1) if every else None,
    }


def load_main() -> None:
    """``--load``: read the plan as JSON on stdin, drive each endpoint at each concurrency,
    print JSON results: ``{endpoint: {"clients_N": figures}}``."""
    plan = json.load(sys.stdin)
    out = {
        name: {
            f"clients_{n}": drive(plan["base"], urls, plan["seconds"], n) for n in plan["clients"]
        }
        for name, urls in plan["endpoints"].items()
    }
    json.dump(out, sys.stdout)


def run_load(base: str, paths: dict[str, list[str]], seconds: float, clients: list[int]) -> Any:
    plan = {"base": base, "endpoints": paths, "seconds": seconds, "clients": clients}
    done = subprocess.run(
        [sys.executable, __file__, "--load"],
        input=json.dumps(plan).encode(),
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"the load process failed:\n{done.stderr.decode()}")
    return json.loads(done.stdout)


# -- the run ------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", help="Database URL (SQLite file or PostgreSQL)")
    ap.add_argument("--out", type=Path, help="JSON file to write")
    ap.add_argument("--seconds", type=float, default=20.0, help="per endpoint")
    ap.add_argument(
        "--clients", default="1,4", help="concurrent clients (threads), comma-separated runs"
    )
    ap.add_argument("--workers", type=int, default=2, help="server processes (serve's default)")
    ap.add_argument("--load", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.load:
        load_main()
        return
    if not args.db or not args.out:
        ap.error("--db and --out are required")
    clients = [int(c) for c in str(args.clients).split(",") if c.strip()]
    asked = sample(args.db)
    paths = endpoints(asked["names"], asked["ids"])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        server = start_server(args.db, port, log, args.workers)
        try:
            wait_ready(server, base, log)
            first = warm_up(base, paths)
            results = run_load(base, paths, args.seconds, clients)
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
    for name, runs in results.items():
        runs["first_request_ms"] = first[name]
        runs["goal_p95_ms"] = GOALS_MS[name]
        for r in runs.values():
            if isinstance(r, dict):
                r["meets_goal"] = r["p95_ms"] <= GOALS_MS[name]
    report = {
        "db": redact(args.db),
        "backend": urlsplit(args.db).scheme.split("+")[0],
        "size": asked["size"],
        "sampled": {"names": len(asked["names"]), "drug_ids": len(asked["ids"])},
        "seconds_per_endpoint": args.seconds,
        "clients": clients,
        "server": f"drugradar serve (uvicorn, {args.workers} process(es))",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "endpoints": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    for name, runs in results.items():
        for n in clients:
            r = runs[f"clients_{n}"]
            print(
                f"{name:12} {n:2} client(s)  p50 {r['p50_ms']:7.1f}  p95 {r['p95_ms']:7.1f}"
                f"  p99 {r['p99_ms']:7.1f} ms  {r['rps']:7.1f} req/s  non-2xx {r['non_2xx']}"
                f"  p95 ≤ {GOALS_MS[name]} ms: {'yes' if r['meets_goal'] else 'NO'}"
            )


if __name__ == "__main__":
    main()
