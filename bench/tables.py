"""The report as Markdown tables (what bench/README.md shows), and the issue's targets checked
against the figures of the run.

Each table carries the load it was measured under: the 1-minute load average as each
measurement began and the cores that processes outside the benchmark used meanwhile
(``others``), since on a shared machine a figure means little without them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

PRISM = "prism"
DEFAULT = "mock"
POSTGRES = "mock pg"
POSTGRES_NOFSYNC = "mock pg nofsync"


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], right_from: int = 1) -> str:
    lines = ["| " + " | ".join(header) + " |",
             "| " + " | ".join("---" if i < right_from else "---:"
                               for i in range(len(header))) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def number(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def loads(row: dict[str, Any]) -> str:
    """The 1-minute load average of a row."""
    return str(row["load_average"]).split()[0]


def by_target(rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(row["target"], row["scenario"]): row for row in rows}


def cpu(row: dict[str, Any], name: str) -> str:
    value = row.get("cpu_us", {}).get(name)
    return number(value) if value else "-"


def throughput_tables(report: dict[str, Any]) -> list[str]:
    rows = report.get("throughput") or []
    if not rows:
        return []
    out = [table(
        ["target", "scenario", "req/s", "p50 ms", "p99 ms", "requests", "errors",
         "load (1 min, per round)", "others (cores)"],
        ([r["target"], r["scenario"], number(r["rps"]), number(r["p50_ms"], 2),
          number(r["p99_ms"], 2), number(r["requests"]), number(r["errors"]), r["load_average"],
          r["others_cores"]] for r in rows), right_from=2)]
    by = by_target(rows)
    scenarios = list(dict.fromkeys(r["scenario"] for r in rows))
    ratios = []
    for scenario in scenarios:
        mock, pg = by.get((DEFAULT, scenario)), by.get((POSTGRES, scenario))
        nofsync = by.get((POSTGRES_NOFSYNC, scenario))
        static, dynamic = by.get((PRISM, scenario)), by.get(("prism -d", scenario))

        def get(row: dict[str, Any] | None, key: str) -> float | None:
            return row[key] if row else None

        ratios.append([scenario, number(ratio(get(mock, "rps"), get(static, "rps")), 2),
                       number(ratio(get(mock, "p99_ms"), get(static, "p99_ms")), 2),
                       number(ratio(get(mock, "rps"), get(dynamic, "rps")), 2),
                       number(ratio(get(pg, "rps"), get(mock, "rps")), 2),
                       number(ratio(get(pg, "rps"), get(static, "rps")), 2),
                       number(ratio(get(pg, "p99_ms"), get(static, "p99_ms")), 2),
                       number(ratio(get(nofsync, "rps"), get(mock, "rps")), 2)])
    out.append(table(["scenario", "default / prism req/s", "default p99 / prism p99",
                      "default / prism -d req/s", "pg / default req/s", "pg / prism req/s",
                      "pg p99 / prism p99", "pg nofsync / default req/s"], ratios))
    out.append(table(["target", "scenario", "mock CPU us/req", "PostgreSQL CPU us/req",
                      "wrk CPU us/req"],
                     ([r["target"], r["scenario"], cpu(r, "mock"), cpu(r, "postgresql"),
                       cpu(r, "wrk")] for r in rows if r["target"].startswith("mock")),
                     right_from=2))
    return out


def startup_tables(report: dict[str, Any]) -> list[str]:
    out = []
    start = report.get("startup")
    if start:
        out.append(table(
            ["run", "start to first 200 s", "load (1/5/15 min)", "others (cores)",
             "mock CPU s", "PSS MB"],
            ([i, f"{run['s']:.3f}", run["load_average"], run["others_cores"], run["mock_cpu_s"],
              run["memory_idle"].get("pss_mb")] for i, run in enumerate(start["runs"], 1))))
        out.append(f"median {start['median_s']} s, min {start['min_s']} s, max {start['max_s']} s "
                   f"(`mock-server serve {start['flags']}`)")
    if report.get("start_to_first_200_s"):
        out.append("start to first 200 in the throughput part: " + ", ".join(
            f"{name} {s} s" for name, s in report["start_to_first_200_s"].items()))
    memory = report.get("memory")
    if memory:
        out.append(table(["target", "RSS MB idle", "PSS MB idle", "RSS MB after load",
                          "PSS MB after load"],
                         ([name, m["idle"]["rss_mb"], m["idle"]["pss_mb"],
                           m.get("after_load", {}).get("rss_mb"),
                           m.get("after_load", {}).get("pss_mb")]
                          for name, m in memory.items())))
    return out


def scale_tables(report: dict[str, Any]) -> list[str]:
    rows = report.get("scale") or []
    if not rows:
        return []
    out = [table(
        ["mode", "events", "ready s", "ready CPU s", "ready again s", "again CPU s",
         "worst p50 ms", "worst p99 ms", "req/s (32 conn)", "p99 ms (32 conn)", "PSS MB",
         "errors", "load (1 min)"],
        ([r["mode"], number(r["events"]), r.get("ready_s", r.get("ready_first_s")),
          r.get("ready_cpu_s", r.get("ready_first_cpu_s")), r.get("ready_second_s", "-"),
          r.get("ready_second_cpu_s", "-"), r["p50_ms_max"], r["p99_ms_max"],
          number(r["rps_loaded"]),
          r["p99_loaded_ms"], r["memory_after"]["pss_mb"], r["errors"], loads(r)]
         for r in rows), right_from=1)]
    for events in dict.fromkeys(r["events"] for r in rows):
        modes = {r["mode"]: r for r in rows if r["events"] == events}
        default, pg = modes.get("default"), modes.get("postgresql")
        points = []
        for i, point in enumerate((default or pg or {}).get("points", [])):
            d = default["points"][i] if default else None
            p = pg["points"][i] if pg else None
            points.append([point["point"], number(point["matches"]),
                           d["p50_ms"] if d else "-", d["p99_ms"] if d else "-",
                           p["p50_ms"] if p else "-", p["p99_ms"] if p else "-",
                           d["load_average"].split()[0] if d else "-",
                           p["load_average"].split()[0] if p else "-"])
        out.append(f"{events:,} events, one connection, per point:\n\n" + table(
            ["point", "matches", "default p50 ms", "default p99 ms", "pg p50 ms", "pg p99 ms",
             "load default", "load pg"], points))
    return out


def replica_tables(report: dict[str, Any]) -> list[str]:
    replicas = report.get("replicas")
    if not replicas:
        return []
    out = [table(
        ["target", "scenario", "req/s", "p50 ms", "p99 ms", "errors", "mock CPU us/req",
         "other replica us/req", "PostgreSQL us/req", "HAProxy us/req", "load (1 min)",
         "others (cores)"],
        ([r["target"], r["scenario"], number(r["rps"]), r["p50_ms"], r["p99_ms"], r["errors"],
          cpu(r, "mock"), cpu(r, "other replica"), cpu(r, "postgresql"), cpu(r, "haproxy"),
          r["load_average"], r["others_cores"]] for r in replicas["rows"]), right_from=2)]
    one, two = replicas.get("1 replica", {}), replicas.get("2 replicas", {})
    if one and two:
        out.append(f"PSS: one replica {one['memory']['pss_mb']} MB; two replicas "
                   f"{' + '.join(str(m['pss_mb']) for m in two['memory'])} MB. PostgreSQL "
                   f"connections: {one['connections']} with one, {two['connections']} with two.")
    return out


def contracts_tables(report: dict[str, Any]) -> list[str]:
    runs = (report.get("contracts") or {}).get("runs") or []
    if not runs:
        return []
    return [table(
        ["contracts run", "s", "requests", "req/s", "operations reached", "RESULT", "exit",
         "--max-examples", "load (1/5/15 min)"],
        ([r["run"], r["seconds"], number(r["requests"]), number(r["rps"], 1),
          f"{r['operations_reached']} of {r['operations']}", r["result"] or "-",
          "-" if r["exit_code"] is None else r["exit_code"], r["max_examples"],
          r["load_average"]] for r in runs))]


def print_tables(report: dict[str, Any]) -> None:
    sections = [*startup_tables(report), *throughput_tables(report), *scale_tables(report),
                *replica_tables(report), *contracts_tables(report)]
    if report.get("targets"):
        sections.append(table(["target", "figure", "met"],
                              ([t["target"], t["figure"], "yes" if t["met"] else "**no**"]
                               for t in report["targets"]), right_from=3))
    for failure, reason in report.get("failures", {}).items():
        sections.append(f"FAILED: {failure}: {reason}")
    print("\n\n".join(["", *sections]))


def verdicts(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's performance targets, each with this run's figure and whether it is met."""
    out: list[dict[str, Any]] = []

    def check(target: str, figure: str, met: bool) -> None:
        out.append({"target": target, "figure": figure, "met": bool(met)})

    by = by_target(report.get("throughput") or [])
    scenarios = list(dict.fromkeys(s for _, s in by))
    for scenario in scenarios:
        mock, static = by.get((DEFAULT, scenario)), by.get((PRISM, scenario))
        if mock and static:
            check(f"default >= Prism static req/s ({scenario})",
                  f"{mock['rps']:,.0f} vs {static['rps']:,.0f} "
                  f"({mock['rps'] / static['rps']:.2f}x)", mock["rps"] >= static["rps"])
            check(f"default p99 <= Prism static p99 ({scenario})",
                  f"{mock['p99_ms']} vs {static['p99_ms']} ms", mock["p99_ms"] <= static["p99_ms"])
        if mock:
            check(f"default: 0 errors ({scenario})", f"{mock['errors']} in {mock['requests']:,}",
                  mock["errors"] == 0)
    for scenario in ("list", "get"):
        mock, pg = by.get((DEFAULT, scenario)), by.get((POSTGRES, scenario))
        if mock and pg:
            check(f"PostgreSQL >= 0.8x SQLite ({scenario})",
                  f"{pg['rps']:,.0f} vs {mock['rps']:,.0f} ({pg['rps'] / mock['rps']:.2f}x)",
                  pg["rps"] >= 0.8 * mock["rps"])
    for name, label in ((POSTGRES, "PostgreSQL"), (POSTGRES_NOFSYNC, "PostgreSQL, fsync off")):
        pg_create = by.get((name, "create"))
        if pg_create:
            check(f"{label} creates >= 1,000/s", f"{pg_create['rps']:,.0f}/s",
                  pg_create["rps"] >= 1000)
    for row in report.get("scale") or []:
        if row["mode"] == "postgresql":
            check(f"PostgreSQL ready on an empty database < 60 s ({row['events']:,} events)",
                  f"{row['ready_first_s']} s", row["ready_first_s"] < 60)
            check(f"PostgreSQL ready again < 30 s ({row['events']:,} events)",
                  f"{row['ready_second_s']} s", row["ready_second_s"] < 30)
        slow50 = [p["point"] for p in row["points"] if p["p50_ms"] >= 10]
        slow99 = [p["point"] for p in row["points"] if p["p99_ms"] >= 50]
        check(f"{row['mode']}, {row['events']:,} events: list p50 < 10 ms at every point",
              f"max {row['p50_ms_max']} ms" + (f" (over: {', '.join(slow50)})" if slow50 else ""),
              not slow50)
        check(f"{row['mode']}, {row['events']:,} events: list p99 < 50 ms at every point",
              f"max {row['p99_ms_max']} ms" + (f" (over: {', '.join(slow99)})" if slow99 else ""),
              not slow99)
    for run in (report.get("contracts") or {}).get("runs") or []:
        if run["max_examples"] == "default":  # issue 13's targets are for the default run
            check(f"default contracts run, {run['run']}: RESULT: OK in < {run['target_s']:.0f} s",
                  f"{run['seconds']} s, {run['result']}",
                  run["exit_code"] == 0 and run["seconds"] < run["target_s"])
    start = report.get("startup")
    if start:
        check("start to first 200 < 1 s (default data, default serve)",
              f"median {start['median_s']} s, max {start['max_s']} s", start["median_s"] < 1)
    return out
