"""The generated thumbnail of an activity: a small PNG map of its track.

The real service points ``thumbnail`` at a generated map
(``https://linkdata-ressources-eu2.geonaute.com/prod/{user}/maps/{activity id}.png``). The mock
draws its own so that the URL it returns actually answers with an image a client can display,
and the same track always gives the same bytes (stable ETags, reproducible tests). Rendered maps
are cached because a list page asks for many of them again and again.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from functools import lru_cache

from PIL import Image, ImageDraw

__all__ = ["render_track_map"]

_BACKGROUND = (244, 241, 234)
_GRID = (220, 214, 202)
_TRACK = (0, 130, 195)  # Decathlon blue
_START = (46, 160, 67)
_END = (207, 34, 46)
_OUTLINE = (255, 255, 255)
_SUPERSAMPLE = 2  # draw at twice the size, then shrink: smooth lines without an AA library
_MIN_SIDE, _MAX_SIDE = 16, 1024


def render_track_map(
    points: Sequence[tuple[float, float]], size: tuple[int, int] = (256, 256)
) -> bytes:
    """PNG bytes of a map of ``points`` (latitude, longitude), start in green, end in red.

    An empty track gives just the background and grid, so every activity has a thumbnail.
    Raises ``ValueError`` for a non-finite coordinate or a size outside 16..1024 pixels.
    """
    width, height = (int(size[0]), int(size[1]))
    if not (_MIN_SIDE <= width <= _MAX_SIDE and _MIN_SIDE <= height <= _MAX_SIDE):
        raise ValueError(f"size must be within {_MIN_SIDE}..{_MAX_SIDE} pixels: {size!r}")
    track: list[tuple[float, float]] = []
    for latitude, longitude in points:
        lat, lon = float(latitude), float(longitude)
        if not (math.isfinite(lat) and math.isfinite(lon)):
            raise ValueError(f"non-finite coordinate: {(latitude, longitude)!r}")
        track.append((lat, lon))
    return _render(tuple(track), width, height)


@lru_cache(maxsize=512)
def _render(track: tuple[tuple[float, float], ...], width: int, height: int) -> bytes:
    scale = _SUPERSAMPLE
    big = Image.new("RGB", (width * scale, height * scale), _BACKGROUND)
    draw = ImageDraw.Draw(big)
    step = 32 * scale
    for x in range(step, width * scale, step):
        draw.line([(x, 0), (x, height * scale)], fill=_GRID, width=scale)
    for y in range(step, height * scale, step):
        draw.line([(0, y), (width * scale, y)], fill=_GRID, width=scale)

    pixels = _project(track, width * scale, height * scale, padding=20 * scale)
    if len(pixels) > 1:
        draw.line(pixels, fill=_TRACK, width=3 * scale, joint="curve")
    if pixels:
        _marker(draw, pixels[-1], _END, 5 * scale)
        _marker(draw, pixels[0], _START, 5 * scale)

    image = big.resize((width, height), Image.Resampling.LANCZOS)
    # A 64-colour palette keeps the PNG at a few KiB; octree (unlike median cut) keeps the
    # small start/end markers in their own colours.
    image = image.quantize(colors=64, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _project(
    track: tuple[tuple[float, float], ...], width: int, height: int, padding: int
) -> list[tuple[float, float]]:
    """Equirectangular projection fitted into the image, keeping the track's proportions."""
    if not track:
        return []
    mid_lat = math.radians(sum(lat for lat, _ in track) / len(track))
    xs = [lon * math.cos(mid_lat) for _, lon in track]
    ys = [lat for lat, _ in track]
    span_x, span_y = max(xs) - min(xs), max(ys) - min(ys)
    usable_w, usable_h = width - 2 * padding, height - 2 * padding
    span = max(span_x / usable_w, span_y / usable_h)
    if span == 0:  # a single place: draw it in the middle
        return [(width / 2, height / 2) for _ in track]
    offset_x = (width - span_x / span) / 2
    offset_y = (height - span_y / span) / 2
    min_x, max_y = min(xs), max(ys)
    return [
        (offset_x + (x - min_x) / span, offset_y + (max_y - y) / span)
        for x, y in zip(xs, ys, strict=True)
    ]


def _marker(
    draw: ImageDraw.ImageDraw, centre: tuple[float, float], colour: tuple[int, int, int], r: int
) -> None:
    x, y = centre
    draw.ellipse([x - r, y - r, x + r, y + r], fill=colour, outline=_OUTLINE, width=max(1, r // 3))
