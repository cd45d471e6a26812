"""The reader in a second process (``drugradar.background``): items in order, idle work done
while waiting, and no process left behind once the items are read."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from itertools import pairwise

from .test_ctgov_v2 import SAMPLE

SCRIPT = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from drugradar.background import background
    from drugradar.trials.load import read_records

    def main():
        idle = []
        def step():
            idle.append(1)
            return len(idle) < 50
        path = Path(sys.argv[1])
        got = [r.record_id for r in background(read_records, "v2-json", [path], None, idle=step)]
        here = [r.record_id for r in read_records("v2-json", [path], None)]
        left = []
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit():
                try:
                    stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(stat[1]) == os.getpid():
                    left.append((proc.name, stat[0]))
        print(len(got), got == here, len(idle) > 0, left)

    if __name__ == "__main__":
        main()
    """
)


def test_background_reader_yields_in_order_works_while_idle_and_leaves_no_process(
    tmp_path: object,
) -> None:
    from pathlib import Path

    script = Path(str(tmp_path)) / "reader.py"
    script.write_text(SCRIPT)
    out = subprocess.run(
        [sys.executable, str(script), str(SAMPLE)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["36", "True", "True", "[]"], out.stdout


def slow_numbers(n: int, pause: float) -> Iterator[int]:
    """A reader that takes its time (run in the child process by the test below)."""
    for i in range(n):
        time.sleep(pause)
        yield i


def test_waiting_is_said_once_the_idle_work_is_done_then_the_items_come() -> None:
    """With ``waiting``, a caller whose idle work is done hears once that nothing is ready (to do
    work of its own), then gets the items as they come; without, only the items."""
    from drugradar.background import background

    idle: list[int] = []

    def step() -> bool:
        idle.append(1)
        return len(idle) < 3

    got = list(background(slow_numbers, 3, 0.3, idle=step, waiting="W"))
    assert got[0] == "W" and len(idle) >= 3  # the reader takes 0.9 s: the caller waits first
    assert [x for x in got if x != "W"] == [0, 1, 2]
    assert all(a != "W" or b != "W" for a, b in pairwise(got))  # once a wait
    assert list(background(slow_numbers, 2, 0.1, idle=lambda: False)) == [0, 1]
