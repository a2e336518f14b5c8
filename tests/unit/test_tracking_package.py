"""The tracking package's public names, and its independence from the web framework."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import mock_server.tracking as tracking

PACKAGE = Path(tracking.__file__).parent
PUBLIC = {
    "ACCEPTED_EXTENSIONS", "CONTENT_TYPES", "DATATYPES", "DEFAULT_MAX_TOTAL_BYTES",
    "DEFAULT_PER_PAGE", "FIXTURE_ANCHOR", "FIXTURE_SPORTS", "MAX_IMAGES", "MAX_PHOTO_BYTES",
    "MAX_URL_LENGTH", "ReadableStream", "SAFE_SERVE_HEADERS", "SPORTS",
    "THUMBNAIL_RECOMMENDED_BYTES",
    "ActivityForbidden", "ActivityNotFound", "ActivityRejected", "BlobStore", "Datatype",
    "InMemoryBlobStore", "TrackingActivities", "TrackingActivity", "UploadCheck", "UploadKind",
    "UploadRejected", "activity_label", "build_activities", "check_upload", "format_timestamp",
    "is_valid_digest", "parse_timestamp", "read_limited", "render_track_map",
    "sport_id_from_iri", "sport_iri", "thumbnail_path",
}  # fmt: skip
WEB_FRAMEWORKS = {"flask", "werkzeug", "flask_cors", "connexion"}


def test_public_names_are_exactly_the_documented_ones() -> None:
    assert set(tracking.__all__) == PUBLIC
    assert all(hasattr(tracking, name) for name in PUBLIC)


def test_no_module_of_the_package_imports_a_web_framework() -> None:
    for module in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(), str(module))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            roots = {name.split(".")[0] for name in names}
            assert not roots & WEB_FRAMEWORKS, f"{module.name} imports {roots & WEB_FRAMEWORKS}"


def test_importing_the_package_loads_no_web_framework() -> None:
    code = (
        "import sys, mock_server.tracking\n"
        f"loaded = {sorted(WEB_FRAMEWORKS)!r}\n"
        "print(sorted(m for m in loaded if m in sys.modules))\n"
    )
    root = PACKAGE.parents[1]
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=root,
        env={"PYTHONPATH": str(root)},
        check=True,
    )
    assert result.stdout.strip() == "[]"
