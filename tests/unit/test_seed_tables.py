"""The seed's data files: found, checked, and refused with the file and the place named."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mock_server.seed import FIXTURE_SPORTS, LILLE, NORTH_CITIES, SITES, SPORTS
from mock_server.seed.tables import TABLE_NAMES, TABLES_DIR, FixtureTablesError, load_tables

Edit = Callable[[dict[str, Any]], None]


def broken_copy(tmp_path: Path, name: str, edit: Edit) -> Path:
    """A copy of the tables with ``edit`` applied to ``name``.json."""
    directory = tmp_path / "tables"
    shutil.copytree(TABLES_DIR, directory)
    path = directory / f"{name}.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    edit(document)
    path.write_text(json.dumps(document), encoding="utf-8")
    return directory


def test_the_tables_are_read_from_the_repository() -> None:
    assert TABLES_DIR == Path(__file__).resolve().parents[2] / "fixtures" / "tables"
    tables = load_tables()
    assert tables.sports == SPORTS and tables.sites == SITES
    assert LILLE == (50.6292, 3.0573) and NORTH_CITIES[0].name == "Lille"
    assert FIXTURE_SPORTS == (121, 381, 113, 168, 126, 388)


def test_every_table_file_is_read_and_described() -> None:
    readme = (TABLES_DIR / "README.md").read_text(encoding="utf-8")
    data = {path.stem for path in TABLES_DIR.glob("*.json")}
    schemas = {path.name.removesuffix(".schema.json")
               for path in (TABLES_DIR / "schemas").glob("*.schema.json")}
    assert data == schemas == set(TABLE_NAMES)
    for name in TABLE_NAMES:
        assert f"`{name}.json`" in readme, name


def test_a_missing_table_is_named_with_the_way_to_get_it(tmp_path: Path) -> None:
    directory = tmp_path / "tables"
    shutil.copytree(TABLES_DIR, directory)
    (directory / "sports.json").unlink()
    with pytest.raises(FixtureTablesError, match=r"sports\.json is missing.*pip install -e"):
        load_tables(directory)
    with pytest.raises(FixtureTablesError, match="cities.json is missing"):
        load_tables(tmp_path / "nowhere")


def test_a_table_that_is_not_json_is_named(tmp_path: Path) -> None:
    directory = broken_copy(tmp_path, "sites", lambda document: None)
    (directory / "sites.json").write_text("{", encoding="utf-8")
    with pytest.raises(FixtureTablesError, match=r"sites\.json: not JSON"):
        load_tables(directory)


def test_a_table_against_its_schema_names_every_place(tmp_path: Path) -> None:
    def edit(document: dict[str, Any]) -> None:
        document["sports"][0]["slots"] = [5]
        del document["sports"][2]["venue"]

    with pytest.raises(FixtureTablesError) as refused:
        load_tables(broken_copy(tmp_path, "sports", edit))
    message = str(refused.value)
    assert "sports.json: /sports/0/slots:" in message
    assert "sports.json: /sports/2: \"venue\" is a required property" in message


@pytest.mark.parametrize(("name", "edit", "problem"), [
    ("cities", lambda d: d["near_lille"].append("Atlantis"),
     "near_lille names 'Atlantis', which is not in cities"),
    ("cities", lambda d: d["cities"]["Lille"].pop("population_thousands"),
     "'Lille' is drawn France-wide but has no population"),
    ("sports", lambda d: d["sports"][1].update(slots=[9, 3]),
     "sport 381: slots [9, 3] is empty"),
    ("sports", lambda d: d["sports"].append(d["sports"][0]),
     "sports.json: sport 121 appears twice"),
    ("tracking_sports", lambda d: d["sports"][0].update(heart_rate=[170, 140]),
     "sport 121: heart_rate [170, 140] is empty"),
    ("tracking_sports", lambda d: d["sports"].append(d["sports"][0]),
     "tracking_sports.json: sport 121 appears twice"),
    ("documents", lambda d: d["users"][0].update(site=9999),
     "site 9999 is not in sites.json"),
    ("documents", lambda d: d.update(default_user="nobody"),
     "default_user is not one of its users"),
    ("documents", lambda d: d["events"][1]["subscriptions"].append({"user_id": "nobody"}),
     "event 2: subscriber nobody is not one of its users"),
    ("documents", lambda d: d["events"].pop(0),
     "event 2 stands where event 1 should"),
    ("documents", lambda d: d["events"][3]["generated_location"].update(city="Atlantis"),
     "event 4: no location is generated for"),
], ids=["unknown city", "no population", "empty slots", "sport twice", "empty heart rate",
        "tracking sport twice", "unknown site", "default user", "unknown subscriber",
        "event order", "generated location"])
def test_tables_that_do_not_fit_together_are_refused(
    tmp_path: Path, name: str, edit: Edit, problem: str
) -> None:
    with pytest.raises(FixtureTablesError, match="do not fit together") as refused:
        load_tables(broken_copy(tmp_path, name, edit))
    assert problem in str(refused.value)
