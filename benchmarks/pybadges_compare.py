"""One badge render, ours (badges/render.py) beside pybadges, with the same text.

pybadges is not a project dependency: it lives in make bench's own
environment (.venv-bench, requirements-bench.txt). So each renderer is timed
in its own subprocess, ours with the project's Python and pybadges with the
bench environment's, each taking the best of 5 timeit runs, in alternating
rounds. The text is what
the badge views pass for the demo's first member (badges/faces.py: label,
value, and a title naming the member), in the default flat style.

Run: make bench (or python -m benchmarks.pybadges_compare [--bench-python PATH]).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LABEL = "Passalong beta"
VALUE = "#1 · brought in 3"
TITLE = f"Ada Lovelace: {LABEL} · {VALUE}"
COLOR = "#007ec6"  # badges/render.py's "blue", our default


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bench-python", default=str(ROOT / ".venv-bench" / "bin" / "python"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--render", choices=("ours", "pybadges"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.render:
        print(json.dumps(_time(args.render)))
        return
    # Alternating rounds, the best of each: a shared machine's load then
    # weighs on both renderers alike.
    runs = [
        (_child(sys.executable, "ours"), _child(args.bench_python, "pybadges"))
        for _ in range(args.rounds)
    ]
    ours = min((run[0] for run in runs), key=lambda run: run["us"])
    theirs = min((run[1] for run in runs), key=lambda run: run["us"])
    print(
        f"\nOne badge render, the same text ({LABEL!r} | {VALUE!r}, a title), "
        f"best of {args.rounds} alternating rounds of 5 timeit runs"
    )
    print(f"{'renderer':<34} {'us/render':>10} {'bytes':>7}")
    print(f"{'pybadges ' + theirs['version'] + ' (baseline)':<34} {theirs['us']:>10.1f} ", end="")
    print(f"{theirs['bytes']:>7}")
    print(f"{'ours: badges.render.badge_svg':<34} {ours['us']:>10.1f} {ours['bytes']:>7}")
    ratio = theirs["us"] / ours["us"]
    verdict = "met" if ratio >= 50 else "NOT met"
    print(f"goal: ours >= 50x faster than pybadges: {ratio:.1f}x, {verdict}")


def _child(python: str, which: str) -> dict:
    if not Path(python).exists():
        sys.exit(f"{python} is missing: make bench installs it (requirements-bench.txt)")
    out = subprocess.run(
        [python, "-m", "benchmarks.pybadges_compare", "--render", which],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


def _time(which: str) -> dict:
    if which == "ours":
        from badges import render

        def once() -> str:
            return render.badge_svg(label=LABEL, value=VALUE, color="blue", title=TITLE)

        version = "-"
    else:
        from importlib.metadata import version as installed

        import pybadges

        def once() -> str:
            return pybadges.badge(
                left_text=LABEL, right_text=VALUE, right_color=COLOR, whole_title=TITLE
            )

        version = installed("pybadges")
    timer = timeit.Timer(once)
    number, _ = timer.autorange()  # enough renders for 0.2 s
    best = min(timer.repeat(repeat=5, number=number)) / number
    return {"us": best * 1e6, "bytes": len(once().encode()), "version": version}


if __name__ == "__main__":
    main()
