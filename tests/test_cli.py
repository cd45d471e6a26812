"""The CLI, run as a user runs it: a real process, a real database URL."""

from __future__ import annotations

import os
import subprocess
import sys

import orjson

from .conftest import FIXTURE_VOCAB, Database


def run(db: Database, *args: str, flag: bool = False) -> subprocess.CompletedProcess[str]:
    """The CLI with the database named by ``DRUGRADAR_DB``, or by ``--db`` when ``flag``."""
    env = {k: v for k, v in os.environ.items() if k != "DRUGRADAR_DB"}
    if not flag:
        env["DRUGRADAR_DB"] = db.url
    pre = ["--db", db.url] if flag else []
    return subprocess.run(
        [sys.executable, "-m", "drugradar.cli", *pre, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_load_stats_resolve(db: Database) -> None:
    out = run(db, "load", "vocab", "--data", str(FIXTURE_VOCAB))
    assert out.returncode == 0, out.stderr
    assert "Loaded" in out.stdout and "Dictionary updated" in out.stdout
    again = run(db, "load", "vocab", "--data", str(FIXTURE_VOCAB))
    assert "Dictionary unchanged." in again.stdout and "(10 skipped" not in again.stdout
    stats = run(db, "stats", flag=True)  # the same database, named by --db
    assert stats.returncode == 0 and "drugs" in stats.stdout and "unii" in stats.stdout
    res = run(db, "resolve", "MK3475", "--json")
    assert res.returncode == 0, res.stderr
    body = orjson.loads(res.stdout)
    assert body["query"] == "MK3475" and body["ambiguous"] is False
    assert body["matches"][0]["preferred_name"] == "Pembrolizumab"
    assert body["matches"][0]["matched_alias"] == "MK-3475"
    text = run(db, "resolve", "Imlygic")
    assert "Talimogene laherparepvec" in text.stdout and "brand alias 'IMLYGIC'" in text.stdout
    miss = run(db, "resolve", "qqqqzzzz")
    assert miss.returncode == 1 and "No drug matches 'qqqqzzzz'." in miss.stdout


def test_errors_are_one_clear_sentence(db: Database, tmp_path: object) -> None:
    out = run(db, "load", "vocab", "--data", "/nonexistent/vocab")
    assert out.returncode == 2
    assert "does not exist" in out.stderr and "Traceback" not in out.stderr


def test_show(db: Database) -> None:
    assert run(db, "load", "vocab", "--data", str(FIXTURE_VOCAB)).returncode == 0
    out = run(db, "show", "Gleevec")
    assert out.returncode == 0, out.stderr
    assert "Imatinib" in out.stdout and "Modality: small molecule" in out.stdout
    assert "ABL1" in out.stdout and "GLEEVEC" in out.stdout
    miss = run(db, "show", "qqqqzzzz")
    assert miss.returncode == 1 and "No drug matches" in miss.stdout


def test_trials_commands(db: Database) -> None:
    from .test_ctgov_v2 import SAMPLE

    assert run(db, "load", "vocab", "--data", str(FIXTURE_VOCAB)).returncode == 0
    out = run(db, "load", "ctgov", str(SAMPLE))
    assert out.returncode == 0, out.stderr
    assert "v2-json, 1 release(s): 36 studies read (+36 new" in out.stdout
    again = run(db, "load", "ctgov", str(SAMPLE))
    assert "Skipped: already loaded" in again.stdout
    older = run(db, "load", "ctgov", str(SAMPLE), "--as-of", "2026-02-10")
    assert "older than stored" in older.stdout
    listed = run(db, "unresolved", "--limit", "50")
    assert listed.returncode == 0 and "COM902" in listed.stdout
    profile = orjson.loads(run(db, "drug", "Keytruda").stdout)
    assert profile["preferred_name"] == "Pembrolizumab" and profile["modality"] == "antibody"
    nct = {t["nct_id"] for t in profile["trials"]}
    assert "NCT04303169" in nct
    assert all(t["match_kind"] for t in profile["trials"])
    missing = run(db, "load", "ctgov", "/nonexistent.json")
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_serve_answers_from_two_warmed_processes(db: Database) -> None:
    """``drugradar serve`` as a user starts it: two server processes by default on two cores,
    each with its name indexes built before it listens; pages and the API answer; a key's rate
    limit holds across the processes."""
    import socket
    import time

    import httpx

    from drugradar.dictionary import load_vocab
    from drugradar.store import migrate

    migrate(db.engine)
    load_vocab(db.engine, FIXTURE_VOCAB)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DRUGRADAR_DB": db.url, "DRUGRADAR_RATE_LIMIT": "4"}
    cmd = [sys.executable, "-m", "drugradar.cli", "serve", "--port", str(port)]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
            assert time.monotonic() < deadline, "the server did not answer"
            time.sleep(0.3)
        found = httpx.get(f"{base}/api/drugs", params={"q": "Keytruda"}, timeout=30).json()
        assert found["results"][0]["preferred_name"].lower() == "pembrolizumab"
        page = httpx.get(f"{base}/search", params={"q": "T-VEC"}, timeout=30)
        assert page.status_code == 200 and "alimogene" in page.text
        if (os.cpu_count() or 1) >= 2:  # the default: two processes serving the one port
            assert len(_spawned_children(server.pid)) == 2
        # 4 requests a minute per key, however the processes share them: never more pass
        key = {"Authorization": "Bearer a-key-for-this-test"}
        codes = [
            httpx.get(f"{base}/api/health", headers=key, timeout=30).status_code for _ in range(10)
        ]
        assert codes.count(200) <= 4 and set(codes) == {200, 429}, codes
    finally:
        server.terminate()
        server.wait(timeout=30)


def _spawned_children(pid: int) -> list[int]:
    """Processes ``pid`` started with multiprocessing's spawn (uvicorn's workers)."""
    from pathlib import Path

    out = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (proc / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid and b"spawn_main" in cmdline:
            out.append(int(proc.name))
    return out
