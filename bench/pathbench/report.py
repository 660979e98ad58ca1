"""The bench's figures, computed from what the phases recorded and printed side by side.

Every figure compares configurations measured in the same run (and, for latency and
throughput, interleaved in time), so the machine's noise cancels as far as it can.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from dataclasses import dataclass

from pathbench.client import Hit
from pathbench.configs import BACKGROUND, CONFIGS, LABELS, NO_APP, SEED
from pathbench.phases import Memory, Record

WIDTH = 17
#: The kinds of timed request, as the latency table names them.
LATENCY_ROWS = {"first login": "first login", "login": "login again", "view": "dashboard view"}


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def row(label: str, cells: Iterator[str] | list[str]) -> str:
    return f"{label:<36}" + "".join(f"{cell:>{WIDTH}}" for cell in cells)


@dataclass
class Activity:
    """What a record says about one configuration's requests and Upsolve calls."""

    record: Record
    config: str

    def hits(self, *kinds: str) -> list[Hit]:
        return [hit for hit in self.record.hits if hit.config == self.config and hit.kind in kinds]

    @property
    def views(self) -> list[Hit]:
        return self.hits("view")

    @property
    def logins(self) -> list[Hit]:
        return self.hits("first login", "login")

    def web_calls(self) -> list[str]:
        """The views (or logins) named by this configuration's web calls, one per call."""
        return [view for source, _, view in self.record.calls if source == f"web-{self.config}"]

    def worker_calls(self) -> int:
        """Calls the worker made (the background configuration's: it alone has one)."""
        if self.config != BACKGROUND:
            return 0
        return sum(source == "worker" for source, _, _ in self.record.calls)

    def share_calling(self, hits: list[Hit]) -> float:
        """The share of ``hits`` during which the web process called Upsolve."""
        calling = set(self.web_calls())
        return sum(hit.view in calling for hit in hits) / max(len(hits), 1)

    def share_pending(self) -> float:
        """The share of page views that showed the pending frame (a token on its way)."""
        return sum(hit.shown == "pending" for hit in self.views) / max(len(self.views), 1)

    def per_1000_views(self) -> tuple[float, float]:
        """Upsolve calls per 1,000 page views: by the web processes, by the worker."""
        views = max(len(self.views), 1)
        return len(self.web_calls()) * 1000 / views, self.worker_calls() * 1000 / views

    def total_per_1000_views(self) -> float:
        return sum(self.per_1000_views())


@dataclass
class Results:
    """Everything the phases recorded, and the figures the report prints."""

    latency: Record
    throughput: Record
    #: Views per second per configuration and round, by the rows of the page's table (0: bare).
    rates: dict[int, dict[str, list[float]]]
    first_hour: Record
    day: Record
    memory: Memory

    def times_ms(self, config: str, kind: str) -> list[float]:
        return [hit.seconds * 1000 for hit in Activity(self.latency, config).hits(kind)]

    def added_ms(self, config: str, kind: str, pct: float) -> float:
        """What ``config`` adds to no app's ``pct`` percentile for requests of ``kind``."""
        ours, base = self.times_ms(config, kind), self.times_ms(NO_APP, kind)
        return percentile(ours, pct) - percentile(base, pct)

    def throughput_ratio(self, config: str, rows: int = 0) -> float:
        """Each round's rate over no app's in the same round (adjacent in time); the median."""
        rates = self.rates[rows]
        pairs = zip(rates[config], rates[NO_APP], strict=True)
        return statistics.median(rate / base for rate, base in pairs)

    def day_calls_vs_seed(self, config: str) -> float:
        """Working-day calls per view, over the seed middleware's."""
        seed = Activity(self.day, SEED).total_per_1000_views()
        return Activity(self.day, config).total_per_1000_views() / seed


def latency_lines(results: Results) -> Iterator[str]:
    for kind, label in LATENCY_ROWS.items():
        cells = []
        for config in CONFIGS:
            values = results.times_ms(config, kind)
            cells.append(f"{percentile(values, 50):.1f} / {percentile(values, 95):.1f}")
        yield row(f"{label}, p50 / p95 ms", cells)
        added = ["—"] + [
            f"{results.added_ms(config, kind, 50):+.2f} / {results.added_ms(config, kind, 95):+.1f}"
            for config in CONFIGS[1:]
        ]
        yield row("  added over no app", added)


def throughput_lines(results: Results) -> Iterator[str]:
    for rows, rates in results.rates.items():
        yield "the bare page:" if not rows else f"the page with a table of {rows} rows:"
        yield row(
            "  views / s (median of rounds)",
            (f"{statistics.median(rates[c]):.0f}" for c in CONFIGS),
        )
        yield row(
            "  × no app (same round; median)",
            (f"{results.throughput_ratio(c, rows):.2f}×" for c in CONFIGS),
        )


def activity_lines(records: dict[str, Record]) -> Iterator[str]:
    for name, record in records.items():
        activities = [Activity(record, config) for config in CONFIGS]
        yield f"{name}:"
        yield row(
            "  logins / page views", (f"{len(a.logins)} / {len(a.views)}" for a in activities)
        )
        yield row(
            "  logins during which web called",
            (f"{a.share_calling(a.logins):.1%}" for a in activities),
        )
        yield row(
            "  views during which web called",
            (f"{a.share_calling(a.views):.1%}" for a in activities),
        )
        yield row("  views showing 'pending'", (f"{a.share_pending():.1%}" for a in activities))


def calls_lines(records: dict[str, Record]) -> Iterator[str]:
    for name, record in records.items():
        cells = []
        for config in CONFIGS:
            web, worker = Activity(record, config).per_1000_views()
            cells.append(f"{web:.0f} + {worker:.0f}" if config == BACKGROUND else f"{web:.0f}")
        yield row(f"  {name} (web [+ worker])", cells)


def memory_lines(memory: Memory) -> Iterator[str]:
    yield f"  idle, before the sweep          {memory.idle_kib / 1024:7.1f} MiB"
    for fraction in (0.1, 0.5, 1.0):
        sample = memory.at(fraction)
        yield (
            f"  {fraction:4.0%} refreshed, at {sample.seconds:5.0f} s     "
            f"{sample.rss_kib / 1024:7.1f} MiB"
        )
    peak = max(sample.rss_kib for sample in memory.samples)
    yield f"  peak of {len(memory.samples)} samples{'':<13}{peak / 1024:7.1f} MiB"
    yield f"  growth, 10% → 100% refreshed    {memory.growth():+7.1%}"


def target_lines(results: Results) -> Iterator[str]:
    """Issue 9's targets for background mode, this run's figure, and whether it is met."""
    login = results.added_ms(BACKGROUND, "login", 50)
    render = results.added_ms(BACKGROUND, "view", 50)
    day = Activity(results.day, BACKGROUND)
    waiting = day.share_calling(day.views)
    throughput = results.throughput_ratio(BACKGROUND)
    calls = results.day_calls_vs_seed(BACKGROUND)
    growth = results.memory.growth()
    targets = [
        ("login adds ≤ 2 ms p50", f"{login:+.2f} ms", login <= 2.0),
        ("0% of working-day views wait on Upsolve", f"{waiting:.1%}", waiting == 0),
        ("a render adds ≤ 0.5 ms p50", f"{render:+.2f} ms", render <= 0.5),
        ("throughput ≥ 0.9× no app", f"{throughput:.2f}×", throughput >= 0.9),
        ("working-day calls ≤ 1/10 of seed", f"{calls:.3f}×", calls <= 0.1),
        ("worker memory flat (≤ 10% growth)", f"{growth:+.1%}", growth <= 0.1),
    ]
    for label, value, met in targets:
        yield f"  {label:<44}{value:>10}   {'met' if met else 'MISSED'}"
    for rows in results.rates:
        if rows:
            ratio = results.throughput_ratio(BACKGROUND, rows)
            yield f"  (the same, page with {rows} table rows{'':<9}{ratio:.2f}×)"


def print_report(results: Results, headings: dict[str, str]) -> None:
    """Print every table, each under its heading (``headings`` names the run's conditions)."""
    columns = row("", (LABELS[config] for config in CONFIGS))
    sections = [
        ("latency", latency_lines(results), True),
        ("throughput", throughput_lines(results), True),
        (
            "activity",
            activity_lines(
                {
                    "latency phase (fresh tokens)": results.latency,
                    "throughput phase (fresh tokens)": results.throughput,
                    "first hour of new users": results.first_hour,
                    "working day of the same users, the next day": results.day,
                }
            ),
            True,
        ),
        (
            "calls",
            calls_lines({"first hour": results.first_hour, "working day": results.day}),
            True,
        ),
        ("memory", memory_lines(results.memory), False),
        ("targets", target_lines(results), False),
    ]
    print(f"\n{headings['title']}")
    for name, lines, columnar in sections:
        print(f"\n{headings[name]}")
        if columnar:
            print(columns)
        for line in lines:
            print(line)
