"""The JUnit XML report, what CI systems display: one suite per kind of check."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

from ..results import Outcome, RunReport, Status
from .console import render_failure

__all__ = ["write_junit_xml"]


def write_junit_xml(report: RunReport, path: str | Path, *,
                    secrets: Mapping[str, str] | None = None,
                    replay_prefix: str = "contracts run <target>") -> None:
    """One `<testsuite>` per kind of check, one `<testcase>` per check and scope."""
    suites = ET.Element("testsuites", name="contracts", time=f"{report.duration:.3f}")
    by_kind: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in report.outcomes:
        by_kind[outcome.kind].append(outcome)
    for kind, outcomes in by_kind.items():
        counts = {status: sum(1 for o in outcomes if o.status == status) for status in Status}
        suite = ET.SubElement(
            suites, "testsuite", name=f"contracts.{kind}", tests=str(len(outcomes)),
            failures=str(counts[Status.FAILED]), errors=str(counts[Status.ERROR]),
            skipped=str(counts[Status.SKIPPED]),
            time=f"{sum(o.duration for o in outcomes):.3f}",
        )
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="seed", value=str(report.seed))
        ET.SubElement(props, "property", name="target", value=report.target)
        ET.SubElement(props, "property", name="verdict", value=report.verdict.value)
        for outcome in outcomes:
            case = ET.SubElement(suite, "testcase", classname=f"contracts.{kind}.{outcome.check}",
                                 name=outcome.scope, time=f"{outcome.duration:.3f}")
            if outcome.status == Status.FAILED:
                first = outcome.failures[0] if outcome.failures else None
                element = ET.SubElement(
                    case, "failure",
                    message=(first.message.strip().splitlines() or [""])[0] if first else "",
                    type=outcome.check,
                )
                element.text = "\n\n".join(
                    render_failure(f, secrets=secrets, replay_prefix=replay_prefix)
                    for f in outcome.failures
                )
            elif outcome.status == Status.ERROR:
                ET.SubElement(case, "error", message=outcome.reason[:500]).text = outcome.reason
            elif outcome.status == Status.SKIPPED:
                ET.SubElement(case, "skipped", message=outcome.reason)
    if report.gaps:
        # What was not checked, as skipped cases: CI shows them, the exit status (3) fails.
        suite = ET.SubElement(suites, "testsuite", name="contracts.not_checked",
                              tests=str(len(report.gaps)), failures="0", errors="0",
                              skipped=str(len(report.gaps)), time="0.000")
        for gap in report.gaps:
            case = ET.SubElement(suite, "testcase", classname=f"contracts.not_checked.{gap.kind}",
                                 name=gap.what, time="0.000")
            ET.SubElement(case, "skipped", message=gap.why)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)

