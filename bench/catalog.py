"""The public list's catalog at a million events, in process: latency per point, writes, memory.

    .venv/bin/python bench/catalog.py                       # 1,000,000 events, ~2 minutes
    .venv/bin/python bench/catalog.py --events 100000 --repeat 50
    .venv/bin/python bench/catalog.py --catalog /tmp/old_catalog.py   # another catalog.py

What it times is ``InMemoryStore.public_events`` (the lock, the catalog's ``select`` and the
look-up of the page's events), not HTTP: the part of ``GET /v1/events`` that grows with the
data. The fixtures (``build_fixtures(seed, events)``) and the store are built once; then, for
each of ``run.py``'s ten points (``CITIES``), ``--repeat`` rounds of

* ``default``: page 1 of 25, no filter, the default 100 km (what ``run.py``'s scale test asks);
* ``mix``: the same point with pages 2 and 40, a sport, a 30-day window, an age range, a level
  and all of them at once, one of each per round.

Rounds visit the points in turn (as wrk's rotating script does), so a point's caches are as
cold as the server's. Every figure is a p50/p99 in milliseconds of ``perf_counter`` (wall
time: what a client waits, other processes' load included); ``default`` is also timed with
``thread_time`` (CPU time of the query alone, which a loaded machine barely changes). Then
``--writes`` creates (``add_event``, new events at the points, so they land in dense cells)
and as many changes of existing events (``replace_event``, moved and re-dated), each timed,
the catalog's merges included, then the points again (the new rows in the catalog's unsorted
delta), and one merge of that delta into the sorted rows, timed; RSS (``/proc/self/status``)
before the store, after it, and after the writes; the catalog's own arrays (``nbytes``).
``--check`` compares every query's total and page with a plain scan of all the events (slow:
seconds a query at a million).

``--catalog FILE`` puts the ``EventCatalog`` of another ``catalog.py`` (an older commit's, say
``git show REF:mock_server/domain/activities/catalog.py > FILE``) in the store, so two versions
run back to back in the same conditions. The collector is frozen after the build, as the
server does (``workers.py``). Results go to stdout and, with ``--json PATH``, to a file.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.run import CITIES  # noqa: E402
from mock_server.domain.activities.catalog import is_listed  # noqa: E402
from mock_server.domain.activities.events import EventQuery, event_order  # noqa: E402
from mock_server.domain.activities.models import PUBLISHED, Event  # noqa: E402
from mock_server.seed.fixtures import FIXTURE_BASE_DATE, build_fixtures  # noqa: E402
from mock_server.state import memory  # noqa: E402

NOW = FIXTURE_BASE_DATE
PER_PAGE = 25
#: The ``mix`` queries of a point: (name, page, extra criteria).
MIX: tuple[tuple[str, int, dict[str, Any]], ...] = (
    ("page 2", 2, {}),
    ("page 40", 40, {}),
    ("sport", 1, {"sport": 121}),
    ("30 days", 1, {"start_date": NOW + timedelta(days=10), "end_date": NOW + timedelta(days=40)}),
    ("ages", 1, {"age_min": 8, "age_max": 12}),
    ("level", 1, {"levels": (20,)}),
    ("all", 1, {"sport": 121, "start_date": NOW, "end_date": NOW + timedelta(days=60),
                "age_min": 18, "age_max": 40, "levels": (10, 20)}),
)


def rss_mb() -> float:
    """Resident set size of this process (VmRSS), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load_catalog_class(path: str) -> type:
    spec = importlib.util.spec_from_file_location("bench_other_catalog", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.EventCatalog  # type: ignore[no-any-return]


def catalog_nbytes(catalog: Any) -> int:
    """Bytes of every NumPy array the catalog holds (one level of containers deep)."""
    seen: set[int] = set()
    total = 0

    def visit(value: Any, depth: int) -> None:
        nonlocal total
        if id(value) in seen or depth > 3:
            return
        seen.add(id(value))
        if hasattr(value, "nbytes") and hasattr(value, "dtype"):
            total += int(value.nbytes)
        elif isinstance(value, dict):
            for item in value.values():
                visit(item, depth + 1)
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item, depth + 1)
        elif hasattr(value, "__dict__"):
            for item in vars(value).values():
                visit(item, depth + 1)

    visit(catalog, 0)
    return total


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"p50": round(statistics.median(ordered), 3), "p99": round(p99, 3),
            "max": round(ordered[-1], 3), "n": len(ordered)}


def brute_force(events: Sequence[Event], query: EventQuery) -> list[int]:
    """The page's reference: every event tested by ``is_listed``, all sorted."""
    return [e.id for e in sorted((e for e in events if is_listed(e, query, NOW)),
                                 key=event_order)]


def time_reads(store: memory.InMemoryStore, repeat: int,
               check: Callable[[EventQuery, int, int, list[int]], None] | None
               ) -> dict[str, Any]:
    points = [EventQuery(latitude=lat, longitude=lon) for lat, lon in CITIES]
    default: list[list[float]] = [[] for _ in points]
    default_cpu: list[list[float]] = [[] for _ in points]
    mix: list[list[float]] = [[] for _ in points]
    totals: list[int] = [0] * len(points)
    clock, cpu = time.perf_counter, time.thread_time
    for _ in range(repeat):
        for index, point in enumerate(points):
            started, started_cpu = clock(), cpu()
            total, page = store.public_events(point, NOW, 0, PER_PAGE)
            default[index].append((clock() - started) * 1e3)
            default_cpu[index].append((cpu() - started_cpu) * 1e3)
            totals[index] = total
            if check is not None:
                check(point, 0, total, [e.id for e in page])
            for _name, number, extra in MIX:
                query = replace(point, **extra)
                offset = (number - 1) * PER_PAGE
                started = clock()
                total, page = store.public_events(query, NOW, offset, PER_PAGE)
                mix[index].append((clock() - started) * 1e3)
                if check is not None:
                    check(query, offset, total, [e.id for e in page])
    rows = []
    for index, (lat, lon) in enumerate(CITIES):
        rows.append({"point": [lat, lon], "matches": totals[index],
                     "default": percentiles(default[index]),
                     "default_cpu": percentiles(default_cpu[index]),
                     "mix": percentiles(mix[index])})
    return {"points": rows,
            "default_all": percentiles([x for xs in default for x in xs]),
            "mix_all": percentiles([x for xs in mix for x in xs])}


def time_writes(store: memory.InMemoryStore, count: int) -> dict[str, Any]:
    template = store.events()[0]
    owner = template.owner
    adds: list[float] = []
    for step in range(count):
        lat, lon = CITIES[step % len(CITIES)]
        event = replace(template, id=0, latitude=lat + (step % 7) * 0.01, longitude=lon,
                        status=PUBLISHED, publish_date=None, places_taken=0, owner=owner,
                        start_date=NOW + timedelta(hours=step), end_date=NOW +
                        timedelta(hours=step + 2))
        started = time.perf_counter()
        store.add_event(event)
        adds.append((time.perf_counter() - started) * 1e3)
    changes: list[float] = []
    ids = [e.id for e in store.events()[: count * 50: 50]]
    for step, event_id in enumerate(ids):
        current = store.get_event(event_id)
        assert current is not None
        changed = replace(current, latitude=current.latitude + 0.01,
                          start_date=current.start_date - timedelta(days=1))
        started = time.perf_counter()
        store.replace_event(changed)
        changes.append((time.perf_counter() - started) * 1e3)
        del step
    return {"add_event": percentiles(adds), "replace_event": percentiles(changes),
            "add_mean_ms": round(statistics.fmean(adds), 4),
            "replace_mean_ms": round(statistics.fmean(changes), 4)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=100, help="rounds over the ten points")
    parser.add_argument("--writes", type=int, default=1_000)
    parser.add_argument("--catalog", help="a catalog.py whose EventCatalog the store uses")
    parser.add_argument("--check", action="store_true", help="compare with a plain scan")
    parser.add_argument("--json", help="write the results there too")
    args = parser.parse_args(argv)

    if args.catalog:
        memory.EventCatalog = load_catalog_class(args.catalog)  # type: ignore[misc]
    started = time.perf_counter()
    fixtures = build_fixtures(seed=args.seed, events=args.events)
    fixtures_s = time.perf_counter() - started
    rss_fixtures = rss_mb()
    started = time.perf_counter()
    store = memory.InMemoryStore(fixtures)
    store_s = time.perf_counter() - started
    gc.collect()
    gc.freeze()
    rss_store = rss_mb()
    catalog = store._state.catalog  # the bench looks inside on purpose: its memory
    nbytes = catalog_nbytes(catalog)
    started = time.perf_counter()
    catalog.copy()
    copy_s = time.perf_counter() - started

    check = None
    if args.check:
        events = list(fixtures.events)

        def check(query: EventQuery, offset: int, total: int, ids: list[int]) -> None:
            expected = brute_force(events, query)
            if total != len(expected) or ids != expected[offset: offset + PER_PAGE]:
                raise SystemExit(f"mismatch for {query} at {offset}")

    reads = time_reads(store, args.repeat, check)
    writes = time_writes(store, args.writes)
    after_writes = time_reads(store, max(1, args.repeat // 5), None)
    # What one write pays when the delta is full: folding it into the sorted rows.
    started = time.perf_counter()
    store._state.catalog._merge()
    merge_s = time.perf_counter() - started
    result = {
        "catalog": args.catalog or "mock_server/domain/activities/catalog.py",
        "events": args.events, "seed": args.seed, "repeat": args.repeat,
        "load_average": os.getloadavg()[0],
        "fixtures_s": round(fixtures_s, 2), "store_s": round(store_s, 2),
        "catalog_copy_s": round(copy_s, 3), "merge_s": round(merge_s, 3),
        "rss_mb": {"fixtures": round(rss_fixtures), "store": round(rss_store),
                   "after_writes": round(rss_mb())},
        "catalog_mb": round(nbytes / 2**20, 1),
        "reads": reads, "writes": writes, "reads_after_writes": after_writes,
    }
    print_result(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


def print_result(result: dict[str, Any]) -> None:
    print(f"catalog: {result['catalog']}; {result['events']:,} events, seed {result['seed']}, "
          f"{result['repeat']} rounds, load {result['load_average']:.2f}")
    print(f"fixtures {result['fixtures_s']} s, store {result['store_s']} s, "
          f"catalog copy {result['catalog_copy_s']} s, merge {result['merge_s']} s; "
          f"RSS MB {result['rss_mb']}, catalog arrays {result['catalog_mb']} MB")
    print("| point | matches | default p50 | p99 | CPU p50 | p99 | mix p50 | p99 "
          "| after writes p50 | p99 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row, later in zip(result["reads"]["points"], result["reads_after_writes"]["points"],
                          strict=True):
        d, c, m, a = row["default"], row["default_cpu"], row["mix"], later["default"]
        print(f"| {row['point'][0]:.4f}, {row['point'][1]:.4f} | {row['matches']:,} | "
              f"{d['p50']:.2f} | {d['p99']:.2f} | {c['p50']:.2f} | {c['p99']:.2f} | "
              f"{m['p50']:.2f} | {m['p99']:.2f} | "
              f"{a['p50']:.2f} | {a['p99']:.2f} |")
    w = result["writes"]
    print(f"add_event p50 {w['add_event']['p50']} ms p99 {w['add_event']['p99']} ms max "
          f"{w['add_event']['max']} ms; replace_event p50 {w['replace_event']['p50']} ms p99 "
          f"{w['replace_event']['p99']} ms max {w['replace_event']['max']} ms")


if __name__ == "__main__":
    raise SystemExit(main())
