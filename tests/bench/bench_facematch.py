"""Face match (人证比对) cost on this machine, each figure a line `name: value unit (goal …) ok|MISS`.

- loading the dlib models once (goal ≤ 3 s), paid at the first comparison or at start-up;
- one comparison of two JPEG photos (decode, detect, embed both, compare): the median
  wall time over a few runs (goal ≤ 1 s, so a citizen waits no longer than the
  screen's own transition), and the CPU seconds it takes of one core.

Run: `.venv/bin/python tests/bench/bench_facematch.py` (or scripts/bench.sh).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from central.facematch import FaceMatcher  # noqa: E402

FACES = ROOT.parent / "shared" / "data" / "faces"
RUNS = 5


def line(name: str, value: float, unit: str, goal: str, ok: bool) -> None:
    print(f"{name}: {value:.3g} {unit} (goal {goal}) {'ok' if ok else 'MISS'}", flush=True)


def main() -> None:
    if not FACES.is_dir():
        raise SystemExit(f"face test photos missing: {FACES}")
    record = (FACES / "obama.jpg").read_bytes()
    live = (FACES / "obama3.jpg").read_bytes()  # the largest photo: 2333x1434
    matcher = FaceMatcher()
    start = time.perf_counter()
    matcher.load()
    load = time.perf_counter() - start
    line("facematch_model_load", load, "s", "≤ 3 s", load <= 3.0)

    walls, cpus = [], []
    for _ in range(RUNS):
        wall, cpu = time.perf_counter(), time.process_time()
        result = matcher.compare(record, live)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        assert result.match, result
    wall = statistics.median(walls)
    line("facematch_compare_wall", wall, "s", "≤ 1 s", wall <= 1.0)
    cpu = statistics.median(cpus)
    line("facematch_compare_cpu", cpu, "s", "≤ 1 s of one core", cpu <= 1.0)


if __name__ == "__main__":
    main()
