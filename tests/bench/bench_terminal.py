"""Latency at the terminal: the real ``crvs-migrate`` beside a bare Textual app, same tmux, same run.

Run with ``./dev.sh bench -k terminal``. Both programs run in one real tmux terminal at
120x40 (``TERM=xterm-256color``), interleaved run by run so that other work on the
machine weighs on both alike. Figures (medians over ``BENCH_TERMINAL_REPEAT`` runs, 5 by
default), each with the bare app's and the ratio:

  launch -> first screen   a real session's resume (Prepare answered, plan accepted, four
                           phases done; no demo), and ``--demo`` with a fresh sandbox; the
                           bare app shows one word; and the resume launched alone in
                           ``BENCH_TERMINAL_PAIRS`` (10) back-to-back pairs with the bare
                           app, the median of the pairs' ratios (the machine's speed drifts
                           between runs; ``bench_launch_work.py`` counts the work instead)
  key -> first visit       a number key to the phase's screen, for every phase not yet shown
                           in that run (median over phases); the bare app pushes a plain
                           screen of one line (and, for comparison, switches modes as
                           crvs-migrate once did). crvs-migrate draws a phase's frame
                           (sidebar, heading, keys) first and its body a frame later: the
                           figure is the heading on screen; the details also time the body
                           of phases 3, 4 and 1 (``BODY_MARKERS``)
  ? -> help                first and second opening; the bare app pushes a modal with the
                           same text (keys and migration notes) as one plain Static
  key -> echo              one character typed into a Prepare field (the first question of a
                           new session) to the field showing it, p95; the bare app has one Input

"On screen" means: tmux's grid for the pane holds the marker text. It is watched through one
tmux control-mode client (``tests.support.tmux.TmuxControl``): tmux notifies every chunk of
the program's output as it processes it, and the grid is captured (over the same pipe, no
process started) only after new output, so waiting costs the program no CPU. A match is
timed at the arrival of the last output before the matching capture; the printed
resolution bounds how much earlier it can have been. A raw-mode probe measures the
harness itself: output written -> seen, and key sent -> echo seen.

Figures are printed, not asserted (timing depends on the machine and its load, printed too);
the test fails only if a screen does not show what it must. Python's bytecode is compiled
first (as pip does on install), so no run pays for compiling Textual.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import textual

from tasks.demo.sandbox import build_demo_sandbox
from tasks.session.phases import PHASES, VIEWS_BY_ID, StepStatus
from tasks.session.state import Session, now_iso, save_session
from tasks.upgrade.notes import PHASE_NOTES, bundled_notes
from tasks.upgrade.plan import accept_plan, update_plan
from tests.support.plan import full_answers
from tests.support.tmux import TmuxControl

REPEAT = int(os.environ.get("BENCH_TERMINAL_REPEAT", "5"))
PAIRS = int(os.environ.get("BENCH_TERMINAL_PAIRS", "10"))
WIDTH, HEIGHT = 120, 40
ENV = {"TERM": "xterm-256color"}
BIN = Path(sys.executable).parent
CLI = str(BIN / "crvs-migrate")
BARE = str(Path(__file__).with_name("bare_app.py"))
NOTES = Path(__file__).resolve().parents[2] / "assets" / "docs" / "migration-notes-v1.3.md"
RESUME_AT = "verify_local"  # phase 5; phases 1-4 done
VISIT_ORDER = ["2", "3", "4", "6", "7", "8", "9", "1"]  # Prepare last: it holds inputs
REVISIT = ["2", "3", "4"]
# A phase's frame (sidebar, heading, keys) is drawn first and its body a frame later:
# what only the body shows, to time the whole phase on screen as well.
BODY_MARKERS = {"3": "Steps · Tab here", "4": "Steps · Tab here", "1": "country config checkout"}
TYPED = "/srv/opencrvs/farajaland-config"
KEY_GAP_S = 0.1  # a fast typist: ten keys a second
# Help opens over phase 4 (the last one visited): its heading, then its part of the notes.
HELP_AT = "merge_config"
HELP_MARKERS = (
    "crvs-migrate help",
    "Phase 4 of 9 · Merge the country config",
    "Step 2: Update locally and on a QA server",
)
GOALS = {"launch": 1.5, "visit": 2.0, "help": 2.0}
PROBE = (
    "import os, sys, time, tty\n"
    "tty.setraw(0)\n"
    "os.write(1, b'\\x1b[2J\\x1b[Hprobe ready %.6f\\r\\n' % time.monotonic())\n"
    "while (ch := os.read(0, 1)) not in (b'q', b''):\n"
    "    os.write(1, b'\\x1b[2;1H\\x1b[2Kkey %s %.6f' % (ch, time.monotonic()))\n"
)


def has(*markers: str) -> Callable[[str], bool]:
    return lambda screen: all(m in screen for m in markers)


def lacks(*markers: str) -> Callable[[str], bool]:
    return lambda screen: not any(m in screen for m in markers)


def field_shows(text: str) -> Callable[[str], bool]:
    """A one-line field holding exactly ``text`` (not the error line quoting it)."""
    return lambda screen: any(
        part.strip() == text for line in screen.splitlines() for part in line.split("│")
    )


def phase_marker(number: int) -> str:
    return f"Phase {number} of 9"


def cpu_seconds(pid: int) -> float:
    """User + system time of ``pid`` so far (clock ticks, so 10 ms steps)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def busy_jiffies() -> tuple[int, int]:
    values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def resume_session(work: Path) -> Path:
    """A real (not demo) session: Prepare answered, plan accepted, phases 1-4 done."""
    checkouts = build_demo_sandbox(work / "checkouts")
    session = Session()
    session.replace_section(
        full_answers(config_path=str(checkouts.config_path), core_path=str(checkouts.core_path))
    )
    update_plan(session)
    accept_plan(session, now_iso())
    for phase in ("prepare", "update_core", "merge_config"):
        record = session.phase(phase)
        record.finish()
        for step in record.steps.values():
            if step.status is StepStatus.NOT_STARTED:
                step.succeed()
    session.current_view = RESUME_AT
    path = work / "resume-template.toml"
    save_session(path, session)
    return path


@dataclass
class Figures:
    """Samples in seconds, by figure name."""

    samples: dict[str, list[float]] = field(default_factory=dict)
    resolution: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, value: float, resolution: float | None = None) -> None:
        self.samples.setdefault(name, []).append(value)
        if resolution is not None:
            self.resolution.setdefault(name, []).append(resolution)

    def median(self, name: str) -> float:
        return statistics.median(self.samples[name])

    def p95(self, name: str) -> float:
        values = sorted(self.samples[name])
        return values[max(0, round(len(values) * 0.95) - 1)]


class Bench:
    def __init__(self, term: TmuxControl, work: Path) -> None:
        self.term = term
        self.work = work
        self.bare = Figures()
        self.bare_modes = Figures()
        self.real = Figures()
        # Launches back to back, one of each program in turn (``launch_pairs``).
        self.paired = Figures()
        self.harness = Figures()
        self.help_file = work / "help.txt"
        self.help_file.write_text(self._help_like_text())
        self.resume_template = resume_session(work)
        self.runs = 0

    @staticmethod
    def _help_like_text() -> str:
        """What crvs-migrate's help shows over phase 4, for the bare app: its heading, a
        few lines of keys, the phase's part of the notes, then the whole notes."""
        part = PHASE_NOTES[HELP_AT]
        assert part is not None and REVISIT[-1] == "4"  # help is opened over phase 4
        keys = "Keys\nThis screen: x Cancel · c Re-check · d By hand · a Abort · m Commit\n"
        return (
            f"{HELP_MARKERS[1]} · notes: {part.describe()}\n\n{keys}\n"
            + part.markdown(bundled_notes())
            + "\n"
            + NOTES.read_text(encoding="utf-8")
        )

    # -- what is measured ---------------------------------------------------------

    def _seen(
        self, figures: Figures, name: str, since: float, shown: Callable[[str], bool]
    ) -> None:
        seen = self.term.wait_screen(shown, since=since, timeout=60)
        # A wait that starts after the action (the detection, after the first screen) has
        # no useful resolution: it is timed from the action, matched at its first look.
        chained = seen.captures == 1 and name.endswith("detected")
        figures.add(name, seen.at - since, None if chained else seen.resolution)

    def _quit(self) -> None:
        self.term.send_keys("C-q")
        code = self.term.wait_exit()
        assert code == 0, f"exit code {code}:\n{self.term.screen()}"

    def probe(self) -> None:
        """The harness on its own: a raw-mode program that echoes each key at once."""
        probe = self.work / "probe.py"
        probe.write_text(PROBE)
        since = self.term.start([sys.executable, str(probe)], env=ENV)
        seen = self.term.wait_screen(has("probe ready"), since=since)
        written = float(seen.screen.split("probe ready ")[1].split()[0])
        self.harness.add("written -> seen", seen.at - written)
        for ch in "abcdefghijklmnoprstu":  # (q quits the probe)
            sent = self.term.send_keys(ch, literal=True)
            seen = self.term.wait_screen(has(f"key {ch} "), since=sent)
            written = float(seen.screen.split(f"key {ch} ")[1].split()[0])
            self.harness.add("key -> echo seen", seen.at - sent)
            self.harness.add("written -> seen", seen.at - written)
            time.sleep(0.01)
        self.term.send_keys("q", literal=True)
        self.term.wait_exit()
        started = time.monotonic()
        for _ in range(50):
            self.term.screen()
        self.harness.add("one capture", (time.monotonic() - started) / 50)

    def bare_word(self, how: str = "word") -> None:
        titles = [f"{phase_marker(p.number)} · {p.title}" for p in PHASES]
        since = self.term.start(
            [sys.executable, BARE, how, *titles, "--", str(self.help_file)], env=ENV
        )
        if how == "modes":  # only the phase switches, the rest is the same app
            self.term.wait_screen(has("Ready"), since=since)
            self._navigate(self.bare_modes, views=False)
            self._quit()
            return
        self._seen(self.bare, "launch", since, has("Ready"))
        self.bare.add("launch cpu", cpu_seconds(int(self.term.pane("#{pane_pid}"))))
        self._navigate(self.bare, views=False)
        self._help(self.bare)
        self._quit()

    def real_resume(self) -> None:
        run_dir = self.work / f"resume-{self.runs}"
        run_dir.mkdir()
        state = run_dir / "session.toml"
        shutil.copy(self.resume_template, state)
        since = self.term.start([CLI, "--state", str(state)], env=ENV)
        self._seen(self.real, "launch", since, has(phase_marker(5), "Phases", "^q Quit"))
        self.real.add("launch cpu", cpu_seconds(int(self.term.pane("#{pane_pid}"))))
        self._navigate(self.real, views=True)
        self._help(self.real)
        self._quit()

    def real_demo(self) -> None:
        tmp = self.work / f"demo-{self.runs}"
        tmp.mkdir()
        # --demo builds its sandbox in a fresh temporary directory (under TMPDIR)
        since = self.term.start([CLI, "--demo"], env={**ENV, "TMPDIR": str(tmp)})
        self._seen(self.real, "demo launch", since, has(phase_marker(1), "Phases", "^q Quit"))
        self.real.add("demo launch cpu", cpu_seconds(int(self.term.pane("#{pane_pid}"))))
        self._seen(self.real, "demo detected", since, has("✓ detected: 1.3.0"))
        self._quit()

    def _navigate(self, figures: Figures, *, views: bool) -> None:
        for key in VISIT_ORDER:
            time.sleep(0.3)  # let the last screen's own work settle, as an operator reads
            sent = self.term.send_keys(key)
            self._seen(figures, f"visit {key}", sent, has(phase_marker(int(key))))
            if views and key in BODY_MARKERS:
                self._seen(figures, f"body {key}", sent, has(BODY_MARKERS[key]))
        if views:
            for key, view in (("h", "health"), ("R", "report")):
                time.sleep(0.3)
                sent = self.term.send_keys(key)
                self._seen(figures, f"view {key}", sent, has(VIEWS_BY_ID[view].summary[:40]))
        for key in REVISIT:
            time.sleep(0.3)
            sent = self.term.send_keys(key)
            self._seen(figures, f"revisit {key}", sent, has(phase_marker(int(key))))

    def _help(self, figures: Figures) -> None:
        for name in ("help", "help again"):
            time.sleep(0.3)
            sent = self.term.send_keys("?")
            self._seen(figures, name, sent, has(*HELP_MARKERS))
            time.sleep(0.2)
            sent = self.term.send_keys("Escape")
            self._seen(figures, f"{name} closed", sent, lacks(HELP_MARKERS[0]))

    def echo(self, figures: Figures, argv: list[str], ready: Callable[[str], bool]) -> None:
        since = self.term.start(argv, env=ENV)
        self.term.wait_screen(ready, since=since, timeout=60)
        if figures is self.real:
            time.sleep(0.5)  # the first question, as an operator would reach it
            self.term.send_keys("Tab")
        time.sleep(0.3)
        for i in range(1, len(TYPED) + 1):
            sent = self.term.send_keys(TYPED[i - 1], literal=True)
            self._seen(figures, "echo", sent, field_shows(TYPED[:i]))
            time.sleep(KEY_GAP_S)
        self._quit()

    def launch_pairs(self) -> None:
        """Launches alone, the bare app's and crvs-migrate's one after the other, the order
        swapped each time: this machine's speed drifts over seconds (the same work took
        0.26 s and 0.45 s of CPU in two launches a few seconds apart), so each launch is
        compared with the bare one beside it, and the ratios' median is reported."""
        titles = [f"{phase_marker(p.number)} · {p.title}" for p in PHASES]
        for turn in range(PAIRS):
            seen: dict[str, float] = {}
            state = self.work / f"pair-{turn}.toml"
            shutil.copy(self.resume_template, state)
            launches = [
                ("bare", [sys.executable, BARE, "word", *titles, "--", str(self.help_file)],
                 has("Ready")),
                ("resume", [CLI, "--state", str(state)],
                 has(phase_marker(5), "Phases", "^q Quit")),
            ]  # fmt: skip
            for name, argv, shown in launches if turn % 2 == 0 else launches[::-1]:
                since = self.term.start(argv, env=ENV)
                self._seen(self.paired, name, since, shown)
                seen[name] = self.paired.samples[name][-1]
                self._quit()
            self.paired.add("ratio", seen["resume"] / seen["bare"])

    def bare_echo(self) -> None:
        self.echo(self.bare, [sys.executable, BARE, "input"], has("type here"))

    def real_echo(self) -> None:
        state = self.work / f"fresh-{self.runs}" / "session.toml"
        self.echo(self.real, [CLI, "--state", str(state)], has(phase_marker(1), "^q Quit"))

    # -- the report ------------------------------------------------------------

    def resolution_summary(self) -> str:
        pooled = [
            (value, f"{who} {name}")
            for who, figures in (("bare", self.bare), ("crvs-migrate", self.real))
            for name, values in figures.resolution.items()
            for value in values
        ]
        values = sorted(v for v, _ in pooled)
        worst, where = max(pooled)
        return (
            f"median {statistics.median(values) * 1000:.2f} ms, "
            f"p95 {values[max(0, round(len(values) * 0.95) - 1)] * 1000:.2f} ms, "
            f"max {worst * 1000:.1f} ms ({where})"
        )

    def report(self, load_before: tuple[float, ...], busy: float) -> str:
        b, r = self.bare, self.real
        visits = [k for k in r.samples if k.startswith("visit ")]
        phase_medians_real = [r.median(k) for k in visits]
        phase_medians_bare = [b.median(k) for k in visits]
        visit_real = statistics.median(phase_medians_real)
        visit_bare = statistics.median(phase_medians_bare)

        def verdict(ok: bool) -> str:
            return "ok" if ok else "MISSED"

        def row(label: str, bare: float, real: float, goal: float | None) -> str:
            ratio = real / bare
            target = f"<= {goal:g}x {verdict(ratio <= goal)}" if goal else ""
            return f"  {label:<44} {bare * 1000:>8.0f} ms {real * 1000:>9.0f} ms {ratio:>7.1f}x  {target}"

        lines = [
            f"Terminal latency, tmux {WIDTH}x{HEIGHT}, {REPEAT} runs each, medians "
            "(bare Textual app | crvs-migrate | ratio | goal)",
            row(
                "launch -> first screen, resume (no demo)",
                b.median("launch"),
                r.median("launch"),
                GOALS["launch"],
            ),
            row(
                "launch -> first screen, --demo (fresh)",
                b.median("launch"),
                r.median("demo launch"),
                GOALS["launch"],
            ),
            f"  {f'launch, resume, in {PAIRS} back-to-back pairs':<44} "
            f"{self.paired.median('bare') * 1000:>8.0f} ms "
            f"{self.paired.median('resume') * 1000:>9.0f} ms "
            f"{self.paired.median('ratio'):>7.2f}x  <= {GOALS['launch']:g}x "
            f"{verdict(self.paired.median('ratio') <= GOALS['launch'])} (median of the pairs' ratios)",
            row("key -> first visit of a phase (median)", visit_bare, visit_real, GOALS["visit"]),
            row(
                "? -> help on screen (first time)",
                b.median("help"),
                r.median("help"),
                GOALS["help"],
            ),
            row(
                "? -> help on screen (again)",
                b.median("help again"),
                r.median("help again"),
                GOALS["help"],
            ),
            f"  {'key -> echo in a Prepare field, p95':<44} {b.p95('echo') * 1000:>8.1f} ms "
            f"{r.p95('echo') * 1000:>9.1f} ms {r.p95('echo') / b.p95('echo'):>7.1f}x  "
            f"< 50 ms {verdict(r.p95('echo') < 0.050)}",
            "",
            "Details (medians):",
            f"  CPU time of the program at its first screen: bare {b.median('launch cpu'):.2f} s, "
            f"resume {r.median('launch cpu'):.2f} s, demo {r.median('demo launch cpu'):.2f} s",
            f"  --demo: launch -> current version detected in Prepare {r.median('demo detected') * 1000:.0f} ms",
            "  first visit per phase (key: bare | crvs-migrate): "
            + ", ".join(
                f"{k.split()[1]}: {b.median(k) * 1000:.0f} | {r.median(k) * 1000:.0f}"
                for k in visits
            ),
            "  the whole phase on screen, body included (key: frame | body): "
            + ", ".join(
                f"{k}: {r.median(f'visit {k}') * 1000:.0f} | {r.median(f'body {k}') * 1000:.0f}"
                for k in BODY_MARKERS
            ),
            "  a bare app switching modes instead (Textual delays updates 50 ms on a mode switch): "
            f"first visit {statistics.median(self.bare_modes.median(k) for k in visits) * 1000:.0f} ms, "
            f"revisit {statistics.median(self.bare_modes.median(k) for k in self.bare_modes.samples if k.startswith('revisit')) * 1000:.0f} ms",
            "  first visit of a view: "
            + ", ".join(
                f"{k.split()[1]} {r.median(k) * 1000:.0f} ms"
                for k in r.samples
                if k.startswith("view ")
            ),
            "  revisit (key: bare | crvs-migrate): "
            + ", ".join(
                f"{k.split()[1]}: {b.median(k) * 1000:.0f} | {r.median(k) * 1000:.0f}"
                for k in r.samples
                if k.startswith("revisit ")
            ),
            f"  help closed (Esc): bare {b.median('help closed') * 1000:.0f} ms, "
            f"crvs-migrate {r.median('help closed') * 1000:.0f} ms",
            f"  key -> echo median: bare {b.median('echo') * 1000:.1f} ms, "
            f"crvs-migrate {r.median('echo') * 1000:.1f} ms ({len(r.samples['echo'])} keys)",
            "",
            "The measurement itself:",
            f"  program output -> seen: median {self.harness.median('written -> seen') * 1000:.2f} ms, "
            f"max {max(self.harness.samples['written -> seen']) * 1000:.2f} ms",
            f"  key sent -> echo seen (raw-mode probe): median "
            f"{self.harness.median('key -> echo seen') * 1000:.2f} ms, "
            f"p95 {self.harness.p95('key -> echo seen') * 1000:.2f} ms",
            f"  one grid capture: {self.harness.median('one capture') * 1000:.2f} ms; "
            "resolution of the matches (how much earlier each can have been): "
            + self.resolution_summary(),
            "load average (1, 5, 15 min) before: {:.2f} {:.2f} {:.2f}, after: {:.2f} {:.2f} {:.2f}; "
            "CPU busy during the run: {:.0f} % of {} CPUs".format(
                *load_before, *os.getloadavg(), busy * 100, os.cpu_count()
            ),
        ]
        return "\n".join(lines)


def compile_bytecode() -> None:
    """Bytecode first, as an installed crvs-migrate has it (pip compiles on install): with
    PYTHONDONTWRITEBYTECODE set nothing would cache it, and every start would compile."""
    site = Path(textual.__file__).parents[1]
    root = NOTES.parents[2]
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", str(site),
         *(str(root / d) for d in ("tui", "screens", "tasks", "tests"))],
        check=True, capture_output=True,
    )  # fmt: skip


@pytest.mark.tmux
@pytest.mark.timeout(3600)
def test_bench_terminal() -> None:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    compile_bytecode()
    load_before = os.getloadavg()
    busy_before = busy_jiffies()
    work = Path(tempfile.mkdtemp(prefix="crvs-bench-terminal-"))
    term = TmuxControl(width=WIDTH, height=HEIGHT)
    try:
        assert term.pane("#{pane_width}x#{pane_height}") == f"{WIDTH}x{HEIGHT}"
        bench = Bench(term, work)
        bench.probe()
        # Run 0 is not counted: .pyc files and the page cache, as on any second start.
        for run in range(REPEAT + 1):
            if run == 1:
                bench.bare, bench.bare_modes, bench.real = Figures(), Figures(), Figures()
            bench.runs = run
            bench.bare_word()
            bench.real_resume()
            bench.bare_word("modes")
            bench.bare_echo()
            bench.real_echo()
            bench.real_demo()
            print(f"  run {run}/{REPEAT} done" + (" (warm-up)" if run == 0 else ""), flush=True)
        bench.launch_pairs()
        print(f"  {PAIRS} launch pairs done", flush=True)
        busy_after = busy_jiffies()
        busy = (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1])
        print("\n" + bench.report(load_before, busy))
    finally:
        term.close()
        shutil.rmtree(work, ignore_errors=True)
