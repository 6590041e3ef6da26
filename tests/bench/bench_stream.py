"""Benchmark: stream 1,000,000 lines from a fast subprocess into the real output pane.

Run with ``./dev.sh bench`` (or ``python tests/bench/bench_stream.py``). Prints:
- lines per second through tasks.local.process + screens.widgets.output_pane (headless app);
- that time relative to the same subprocess read and discarded by plain asyncio
  (target: within 2x);
- p95 delay of a key press handled while streaming (target: under 100 ms);
- peak RSS of this process (target: under 200 MB).
Figures are printed, not asserted as pass/fail gates (timing varies by machine);
the test only fails if the stream itself is wrong (lines lost, wrong exit code).
"""

from __future__ import annotations

import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from screens.widgets.output_pane import OutputPane  # noqa: E402
from tasks.local.process import Command, ProcessRun  # noqa: E402

LINES = int(os.environ.get("BENCH_LINES", "1000000"))
# A fast producer: one Python process writing ~60-byte lines through a buffered stdout,
# with some ANSI colour and markup-looking text, as yarn and git print.
PRODUCER = (
    "import sys\n"
    "w = sys.stdout.write\n"
    f"for i in range({LINES}):\n"
    "    if i % 100 == 0:\n"
    "        w(f'\\x1b[32m[{i}/4] Resolving packages...\\x1b[0m [bold]not markup[/bold]\\n')\n"
    "    else:\n"
    "        w(f'{i:07d} info fetching package tarball from the registry cache\\n')\n"
)
ARGV = (sys.executable, "-c", PRODUCER)
KEY_INTERVAL_S = 0.02


async def plain_asyncio_read() -> float:
    """The floor: the same subprocess, read in 64 KiB chunks and thrown away."""
    start = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        *ARGV, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    while await proc.stdout.read(65536):
        pass
    await proc.wait()
    return time.perf_counter() - start


class BenchApp(App[None]):
    BINDINGS = [Binding("x", "probe", "Probe")]

    def __init__(self) -> None:
        super().__init__()
        self.sent: dict[int, float] = {}
        self.delays: list[float] = []
        self.probe_id = 0

    def compose(self) -> ComposeResult:
        yield OutputPane(id="pane")

    def action_probe(self) -> None:
        # Probes are handled in order: the oldest unanswered one is this one.
        n = min(self.sent)
        self.delays.append(time.perf_counter() - self.sent.pop(n))


async def stream_into_pane(log_dir: Path) -> dict[str, float]:
    app = BenchApp()
    async with app.run_test(headless=True, size=(100, 30)) as pilot:
        pane = app.query_one(OutputPane)
        run = ProcessRun(
            Command(ARGV, log_dir), log_file=log_dir / "bench.log", on_lines=pane.write_lines
        )
        pane.start(ARGV, log_dir)
        done = asyncio.Event()

        async def press_keys() -> None:
            # A key press as the terminal driver delivers it: a Key event posted to the app.
            while not done.is_set():
                app.probe_id += 1
                app.sent[app.probe_id] = time.perf_counter()
                app.post_message(events.Key("x", "x"))
                await asyncio.sleep(KEY_INTERVAL_S)

        start = time.perf_counter()
        presser = asyncio.create_task(press_keys())
        result = await run.run()
        pane.finish(result.exit_code, result.duration_s)
        elapsed = time.perf_counter() - start
        done.set()
        await presser
        await pilot.pause()
        shown = pane.lines
        assert result.exit_code == 0, result
        assert result.line_count == LINES, (result.line_count, LINES)
        assert shown[-1].startswith(f"{LINES - 1:07d}"), shown[-1]
        assert len(shown) <= pane.max_lines
        assert not any("\x1b" in line for line in shown)
        delays = sorted(app.delays)
    p95 = delays[int(len(delays) * 0.95) - 1] if delays else float("nan")
    return {
        "elapsed": elapsed,
        "p95_key_ms": p95 * 1000,
        "median_key_ms": statistics.median(delays) * 1000 if delays else float("nan"),
        "max_key_ms": max(delays) * 1000 if delays else float("nan"),
        "probes": len(delays),
    }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def bench() -> dict[str, float]:
    baseline = min([await plain_asyncio_read() for _ in range(2)])
    with tempfile.TemporaryDirectory() as tmp:
        figures = await stream_into_pane(Path(tmp))
    figures["baseline"] = baseline
    figures["ratio"] = figures["elapsed"] / baseline
    figures["lines_per_s"] = LINES / figures["elapsed"]
    figures["peak_rss_mb"] = peak_rss_mb()
    return figures


def report(f: dict[str, float]) -> str:
    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    return "\n".join(
        [
            f"stream {LINES:,} lines into the output pane (headless app)",
            f"  pane:           {f['elapsed']:.2f} s  ({f['lines_per_s']:,.0f} lines/s)",
            f"  plain asyncio:  {f['baseline']:.2f} s  (read and discarded)",
            f"  ratio:          {f['ratio']:.2f}x   target <= 2x: {verdict(f['ratio'] <= 2)}",
            f"  key press p95:  {f['p95_key_ms']:.1f} ms (median {f['median_key_ms']:.1f}, "
            f"max {f['max_key_ms']:.1f}, {f['probes']} presses)   "
            f"target < 100 ms: {verdict(f['p95_key_ms'] < 100)}",
            f"  peak RSS:       {f['peak_rss_mb']:.0f} MB   "
            f"target < 200 MB: {verdict(f['peak_rss_mb'] < 200)}",
        ]
    )


def test_stream_benchmark() -> None:
    figures = asyncio.run(bench())
    print("\n" + report(figures))


if __name__ == "__main__":
    print(report(asyncio.run(bench())))
