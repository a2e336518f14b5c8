"""`mock-server postman`, then newman: the collection Postman's own converter makes from
openapi.yaml, with the API key and the token as variables, runs against the mock at one URL."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from mock_server.openapi.spec import Operation, dereference, load_spec
from mock_server.postman import COLLECTION, ENVIRONMENT, operation_of, requests_of
from tests.conftest import ROOT, ServerProcess

pytestmark = pytest.mark.integration
SPEC = load_spec()


@pytest.fixture(scope="module")
def bundle(node_bin: Path, mock_root: ServerProcess,
           tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `mock-server postman` writes for the running mock."""
    out = tmp_path_factory.mktemp("postman")
    done = subprocess.run([sys.executable, "-m", "mock_server", "postman", "--out", str(out),
                           "--url", mock_root.url], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(SPEC.operations)} requests made from openapi.yaml" in done.stdout, done.stdout
    return out


def documented_example(operation: Operation) -> Any:
    """The first example of an operation's JSON request body, as the spec gives it."""
    raw = SPEC.document["paths"][operation.path][operation.method.lower()]
    media = dereference(raw["requestBody"], SPEC.document)["content"]["application/json"]
    if "example" in media:
        return media["example"]
    return next(iter(media["examples"].values()))["value"]


def parameter_examples(operation: Operation) -> dict[str, str]:
    """Each parameter's `example` of the spec, as text, by name."""
    item = SPEC.document["paths"][operation.path]
    raw = item.get("parameters", []) + item[operation.method.lower()].get("parameters", [])
    found = (dereference(p, SPEC.document) for p in raw)
    return {p["name"]: str(p["example"]) for p in found if "example" in p}


def test_each_request_sends_the_spec_examples(bundle: Path) -> None:
    collection = json.loads((bundle / COLLECTION).read_text(encoding="utf-8"))
    seen = set()
    for item in requests_of(collection["item"]):
        request = item["request"]
        operation = operation_of(request, SPEC)
        seen.add(operation.operation_id)
        body = request.get("body") or {}
        if body.get("mode") == "raw":
            assert json.loads(body["raw"]) == documented_example(operation), item["name"]
        sent = {q["key"]: q["value"] for q in request["url"].get("query", [])
                if not q.get("disabled")}
        sent.update({v["key"]: v["value"] for v in request["url"].get("variable", [])})
        examples = parameter_examples(operation)
        expected = {p.name: examples[p.name] for p in operation.parameters
                    if p.location == "path" or (p.location == "query" and p.required)}
        assert sent == expected, item["name"]  # optional parameters listed but left unticked
    assert seen == set(SPEC.operations), "one request per operation of the spec"


@pytest.mark.slow
def test_newman_runs_the_collection_with_documented_answers(bundle: Path, node_bin: Path,
                                                           capsys: pytest.CaptureFixture[str],
                                                           ) -> None:
    report_path = bundle / "newman.json"
    done = subprocess.run(
        [str(node_bin / "newman"), "run", str(bundle / COLLECTION), "-e",
         str(bundle / ENVIRONMENT), "--working-dir", str(bundle), "--color", "off",
         "--reporters", "cli,json", "--reporter-json-export", str(report_path)],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    run = json.loads(report_path.read_text(encoding="utf-8"))["run"]
    assert run["failures"] == [], run["failures"]
    collection = json.loads((bundle / COLLECTION).read_text(encoding="utf-8"))
    by_id = {item["id"]: item for item in requests_of(collection["item"])}
    statuses: dict[str, int] = {}
    for execution in run["executions"]:
        operation = operation_of(by_id[execution["item"]["id"]]["request"], SPEC)
        statuses[operation.operation_id] = status = execution["response"]["code"]
        assert str(status) in operation.responses, (operation.operation_id, status)
        # Documented, yet each of these would mean the collection is broken: no credentials
        # (401, 498), a body the mock cannot read (400, 415), or a server error.
        assert status not in (400, 401, 415, 498) and status < 500, (operation.operation_id,
                                                                      status)
    assert len(statuses) == len(run["executions"]) == len(SPEC.operations)
    counts = Counter(statuses.values())
    ok = sum(n for status, n in counts.items() if 200 <= status < 300)
    with capsys.disabled():
        print(f"\nnewman: {len(statuses)} requests, statuses {dict(sorted(counts.items()))}, "
              f"2xx {ok}/{len(statuses)} ({ok / len(statuses):.0%}); not 2xx: "
              + ", ".join(f"{op} {s}" for op, s in statuses.items() if not 200 <= s < 300))
    assert ok > len(statuses) / 2, statuses
