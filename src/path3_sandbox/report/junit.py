"""JUnit XML for every run: one testsuite per fixture, one testcase per proof phase or scenario step,
so CI systems show which phase failed and why without opening the evidence."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from ..proof.verdict import FixtureVerdict


def write_junit(path: Path, verdicts: tuple[FixtureVerdict, ...], *, target: str) -> None:
    suites = ET.Element("testsuites", name=f"path3-sandbox {target}")
    for verdict in verdicts:
        results = verdict.phase_results
        suite = ET.SubElement(suites, "testsuite", name=f"{target} :: {verdict.fixture}", tests=str(len(results)),
                              failures=str(sum(1 for r in results if r["failed"])),
                              skipped=str(sum(1 for r in results if r["skipped"] and not r["passed"] and not r["failed"])),
                              time=f"{verdict.seconds:.1f}")
        for result in results:
            case = ET.SubElement(suite, "testcase", classname=f"path3.{verdict.fixture}", name=result["phase"],
                                 time=f"{verdict.phases.get(result['phase'], 0.0):.2f}")
            if result["failed"]:
                failure = ET.SubElement(case, "failure", message=result["first_failure"] or "failed")
                failure.text = f"{result['failed']} failed assertion(s); evidence: {verdict.evidence}/events.jsonl"
            elif result["skipped"] and not result["passed"]:
                ET.SubElement(case, "skipped", message="; ".join(result["skip_reasons"])[:1000])
            elif result["skipped"]:
                ET.SubElement(case, "system-out").text = "skipped parts: " + "; ".join(result["skip_reasons"])
    ET.indent(suites)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
