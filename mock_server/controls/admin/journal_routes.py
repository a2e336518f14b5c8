"""The journal's admin routes: list, count, unmatched, one exchange, clear."""

from __future__ import annotations

import dataclasses

from flask import Blueprint, Response, request

from mock_server.controls.admin.blueprint import (
    AdminError,
    json_answer,
)
from mock_server.controls.journal import Journal, JournalFilter


def add_journal_routes(blueprint: Blueprint, journal: Journal) -> None:
    def criteria() -> tuple[JournalFilter, int | None]:
        try:
            selected = JournalFilter.from_query(request.args)
        except ValueError as exc:
            name, _, message = str(exc).partition(": ")
            raise AdminError(422, "The given data was invalid.", {name: [message]}) from None
        limit = request.args.get("limit")
        if limit is not None and (not limit.isdigit() or int(limit) < 1):
            raise AdminError(422, "The given data was invalid.",
                             {"limit": ["a positive integer"]})
        return selected, None if limit is None else int(limit)

    def listing(selected: JournalFilter, limit: int | None) -> Response:
        found = journal.select(selected, limit)
        return json_answer({"exchanges": [ex.to_json(journal.matcher) for ex in found],
                      "count": len(found), "stats": journal.stats()})

    @blueprint.get("/journal")
    def journal_list() -> Response:
        return listing(*criteria())

    @blueprint.get("/journal/count")
    def journal_count() -> Response:
        selected, _ = criteria()
        return json_answer({"count": journal.count(selected)})

    @blueprint.get("/journal/unmatched")
    def journal_unmatched() -> Response:
        selected, limit = criteria()
        return listing(dataclasses.replace(selected, unmatched=True), limit)

    @blueprint.get("/journal/<int:id>")
    def journal_entry(id: int) -> Response:  # named as in admin-openapi.yaml
        found = journal.select(JournalFilter(since=id - 1), None)
        entry = next((ex for ex in found if ex.id == id), None)
        if entry is None:
            raise AdminError(404, f"No exchange {id} in the journal (it keeps the "
                                  f"last {journal.size}).")
        return json_answer(entry.to_json(journal.matcher))

    @blueprint.delete("/journal")
    def journal_clear() -> Response:
        return json_answer({"cleared": journal.clear()})


