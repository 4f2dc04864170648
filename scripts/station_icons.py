"""Draw the station app's icons (trace_api/station/static/icons/): three QR finder patterns and a scan line on
the app's green. Run it again after changing the design: `.venv/bin/python scripts/station_icons.py`."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

GREEN = (11, 93, 75, 255)
WHITE = (255, 255, 255, 255)
OUT = Path(__file__).parents[1] / "trace_api/station/static/icons"


def draw(size: int, *, safe_zone: float) -> Image.Image:
    """``safe_zone``: the share of the icon the glyph may use (a maskable icon keeps to the middle 80%)."""
    image = Image.new("RGBA", (size, size), GREEN)
    pen = ImageDraw.Draw(image)
    span = size * safe_zone
    origin = (size - span) / 2
    module = span / 9

    def finder(col: float, row: float) -> None:
        x, y = origin + col * module, origin + row * module
        pen.rectangle((x, y, x + 3 * module, y + 3 * module), outline=WHITE, width=max(1, round(module * 0.6)))
        pen.rectangle((x + module, y + module, x + 2 * module, y + 2 * module), fill=WHITE)

    finder(0.5, 0.5)
    finder(5.5, 0.5)
    finder(0.5, 5.5)
    for col, row in ((5.5, 5.5), (7, 6.5), (6, 7.5), (7.5, 7.5)):
        x, y = origin + col * module, origin + row * module
        pen.rectangle((x, y, x + module, y + module), fill=WHITE)
    line_y = size / 2
    pen.rectangle(
        (origin - module * 0.3, line_y - module * 0.18, size - origin + module * 0.3, line_y + module * 0.18),
        fill=(255, 196, 0, 255),
    )
    return image


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    draw(192, safe_zone=0.86).save(OUT / "icon-192.png", optimize=True)
    draw(512, safe_zone=0.86).save(OUT / "icon-512.png", optimize=True)
    draw(512, safe_zone=0.64).save(OUT / "icon-maskable-512.png", optimize=True)
