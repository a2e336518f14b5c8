"""The fault rules' admin routes: list, add, get, remove, clear."""

from __future__ import annotations

from flask import Blueprint, Response

from mock_server.controls.admin.blueprint import (
    AdminError,
    json_answer,
    json_body,
)
from mock_server.controls.faults import FaultInvalid, FaultRules


def add_fault_routes(blueprint: Blueprint, faults: FaultRules) -> None:
    @blueprint.get("/faults")
    def fault_list() -> Response:
        return json_answer({"faults": [rule.to_json() for rule in faults.listed()]})

    @blueprint.post("/faults")
    def fault_add() -> Response:
        try:
            rule = faults.add(json_body())
        except FaultInvalid as exc:
            raise AdminError(422, "The fault rule is invalid.", exc.errors) from None
        return json_answer(rule.to_json(), 201)

    @blueprint.get("/faults/<id>")
    def fault_get(id: str) -> Response:  # named as in admin-openapi.yaml
        rule_id = id
        rule = faults.get(rule_id)
        if rule is None:
            raise AdminError(404, f"No fault rule {rule_id!r}.")
        return json_answer(rule.to_json())

    @blueprint.delete("/faults/<id>")
    def fault_remove(id: str) -> Response:  # named as in admin-openapi.yaml
        rule_id = id
        if not faults.remove(rule_id):
            raise AdminError(404, f"No fault rule {rule_id!r}.")
        return json_answer({"removed": 1})

    @blueprint.delete("/faults")
    def fault_clear() -> Response:
        return json_answer({"removed": faults.clear()})


