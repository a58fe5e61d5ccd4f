"""How fast the CLI starts: wall time and peak memory of light verbs, in fresh processes, medians of rounds.

The workspace holds a dataset and a finished run of every task (an empty one hid that listing runs imported torch).
Usage: python -m benchmarks.cli_startup [--rounds 5]
Writes benchmarks/results/cli_startup.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parents[1]
COMMANDS = (
    ["--help"],
    ["runs", "list"],
    ["jobs", "list"],
    ["searches", "list"],
    ["weights", "list"],
    ["data", "formats"],
)


def run(args: list[str], workspace: Path) -> tuple[float, float]:
    """(seconds, peak RSS MB) of one ``python -m engine ARGS`` process."""
    extra = [] if args == ["--help"] else ["--workspace", str(workspace)]
    began = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "engine", *args, *extra], cwd=ROOT, stdout=subprocess.DEVNULL)
    _, status, usage = _wait(proc)
    if status:
        msg = f"`engine {' '.join(args)}` failed ({status})"
        raise SystemExit(msg)
    return time.perf_counter() - began, usage.ru_maxrss / 1024


HEAVY = ("torch", "torchvision", "nncf", "openvino", "datumaro", "cv2")
PROBE = f"""
import contextlib, io, sys
from engine import cli
with contextlib.redirect_stdout(io.StringIO()):
    try:
        cli.main(sys.argv[1:])
    except SystemExit:  # --help
        pass
print(",".join(m for m in {HEAVY!r} if m in sys.modules))
"""


def imported(args: list[str], workspace: Path) -> list[str]:
    """The heavy libraries ``engine ARGS`` imports (one more process, not timed)."""
    extra = [] if args == ["--help"] else ["--workspace", str(workspace)]
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args, *extra], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return [m for m in proc.stdout.strip().splitlines()[-1].split(",") if m] if proc.stdout.strip() else []


def _wait(proc: subprocess.Popen):
    return os.wait4(proc.pid, 0)  # the child's own peak RSS


def _populate(workspace: Path) -> None:
    """A dataset and a finished run of every task, in a child process (this one must not import the engine's
    stores before measuring): listing runs is what once imported every task, and torch with them."""
    code = (
        "import sys\n"
        "from engine.pipeline.context import Context\n"
        "from engine.tasks import TASK_NAMES\n"
        "db = Context.open(sys.argv[1]).db\n"
        "for task in TASK_NAMES:\n"
        "    dataset = db.add_dataset(name=task, task=task, fmt='datumaro', source=sys.argv[1])\n"
        "    db.update_run(db.add_run(dataset_id=dataset, task=task, model='any', config={}), status='completed')\n"
    )
    subprocess.run([sys.executable, "-c", code, str(workspace)], cwd=ROOT, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows = {" ".join(c): {"seconds": [], "rss_mb": []} for c in COMMANDS}
    with tempfile.TemporaryDirectory() as tmp:
        _populate(Path(tmp) / "ws")
        for _ in range(args.rounds):
            for command in COMMANDS:  # interleaved: every command once per round
                seconds, rss = run(list(command), Path(tmp) / "ws")
                rows[" ".join(command)]["seconds"].append(seconds)
                rows[" ".join(command)]["rss_mb"].append(rss)
        for command in COMMANDS:
            rows[" ".join(command)]["heavy"] = imported(list(command), Path(tmp) / "ws")
    # imported after the measurements: a child forked from a parent holding OpenVINO starts with its peak RSS
    from benchmarks.common import write_results
    from engine.benchmark.machine import cpu_facts

    machine = cpu_facts()
    lines = [
        f"CPU: {machine['cpu_model']} ({machine['cores']} cores; {', '.join(machine['isa'])})",
        "",
        "| command | median s | median peak RSS (MB) | heavy libraries |",
        "|---|---|---|---|",
    ]
    for name, row in rows.items():
        row["median_s"], row["median_rss_mb"] = statistics.median(row["seconds"]), statistics.median(row["rss_mb"])
        heavy = ", ".join(row["heavy"]) or "none"
        lines.append(f"| `{name}` | {row['median_s']:.2f} | {row['median_rss_mb']:.0f} | {heavy} |")
    write_results(
        OUT, "cli_startup", {"machine": machine, "rounds": args.rounds, "rows": rows}, "\n".join(lines) + "\n"
    )


if __name__ == "__main__":
    main()
