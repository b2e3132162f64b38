"""What the PDF benchmarks share: one fresh process per render, and the printed table.

Each benchmark module supplies ``render_once(lines, strategy, queue)`` (module-level, so the
spawned process can import it) which puts
``(seconds, cpu, own_rss_mib, worker_rss_mib, pages, pdf_bytes)`` on the queue: wall time, CPU
time and peak RSS of the render process and of its largest child process (0 when it had none).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
from collections.abc import Callable, Sequence

Result = tuple[float, float, float, float, int, int]


def measure(render_once: Callable, lines: int, strategy: str) -> Result:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=render_once, args=(lines, strategy, queue))
    process.start()
    result = queue.get()
    process.join()
    if process.exitcode != 0:
        raise RuntimeError(f"render of {lines} lines ({strategy}) failed")
    return result


def run(
    render_once: Callable, *, description: str, strategies: Sequence[str]
) -> dict[tuple[int, str], list[Result]]:
    """Measure every size × strategy, print the table; returns the results by (lines, strategy)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, nargs="+", default=[3, 1], help="runs per size")
    parser.add_argument("--strategies", nargs="+", default=list(strategies), choices=strategies)
    args = parser.parse_args()
    runs = args.runs + [args.runs[-1]] * len(args.sizes)
    width = max(8, *(len(s) for s in strategies))

    print(f"cpus={os.cpu_count()}, one fresh process per render; load average {os.getloadavg()}")
    header = (
        f"{'lines':>6} {'strategy':<{width}} {'runs':>4} {'median s':>9} {'cpu s':>7} "
        f"{'RSS MiB':>8} {'+worker':>8} {'pages':>6} {'PDF KiB':>8}"
    )
    print(header)
    print("-" * len(header))
    measured: dict[tuple[int, str], list[Result]] = {}
    for lines, count in zip(args.sizes, runs, strict=False):
        for strategy in args.strategies:
            results = [measure(render_once, lines, strategy) for _ in range(count)]
            measured[lines, strategy] = results
            median = statistics.median(r[0] for r in results)
            cpu = statistics.median(r[1] for r in results)
            own = max(r[2] for r in results)
            worker = max(r[3] for r in results)
            worker_text = f"{worker:.0f}" if worker else "-"
            print(
                f"{lines:>6} {strategy:<{width}} {len(results):>4} {median:>9.1f} {cpu:>7.1f} "
                f"{own:>8.0f} {worker_text:>8} {results[0][4]:>6} {results[0][5] / 1024:>8.0f}",
                flush=True,
            )
    print(f"load average after: {os.getloadavg()}")
    return measured
