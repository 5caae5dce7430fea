"""A matplotlib figure redrawn many times a second: static background cached, PNG out.

The live app redraws the network and the charts after every month. Redrawing a whole figure
(every kin tie, every tick label) costs tens of milliseconds; most of it never changes. A
:class:`BlitFigure` draws the static part once, keeps its pixels, and per frame restores them
and draws only the *animated* artists on top (matplotlib's blitting, used here on the Agg
canvas without a GUI), then encodes the pixels as PNG at a fast compression level.
Nothing here needs a display or a network: the Agg backend is used explicitly.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Iterable
from typing import Any, cast

import matplotlib
import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import ScalarFormatter

from village_sim.fonts import rc_params
from village_sim.i18n import Catalog

# the app's figures draw Chinese and Vietnamese with the fonts shipped in the package
matplotlib.rcParams.update(cast(Any, rc_params()))

__all__ = ["CSS_DPI", "PROJECTOR_TEXT_PT", "BlitFigure", "localize_ticks", "png_bytes"]

CSS_DPI = 96
"""Dots per inch of a CSS pixel: a figure drawn at this dpi (times the display's pixel ratio)
and shown at its size in CSS pixels has text of ``points * 96 / 72`` pixels on screen."""

PROJECTOR_TEXT_PT = 10.5
"""Size of every text drawn in projector mode, in points: 14 CSS pixels at :data:`CSS_DPI`, the
smallest text readable from the back of a classroom (issue 15)."""

PNG_COMPRESS_LEVEL = 1
"""zlib level of the PNGs: level 1 files are within a few percent of level 6, and faster."""

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class _ReaderTicks(ScalarFormatter):
    """Matplotlib's tick labels, written in a language's number convention."""

    def __init__(self, lang: str):
        super().__init__()
        self.catalog = Catalog(lang)

    def __call__(self, x: float, pos: int | None = None) -> str:
        return self.catalog.digits(super().__call__(x, pos))


def localize_ticks(ax: Any, lang: str) -> None:
    """Write the axes' numbers in ``lang``'s convention (Vietnamese: ``0,3``, ``6.000``)."""
    if Catalog(lang).lang == "vi":
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_formatter(_ReaderTicks(lang))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png_bytes(rgba: np.ndarray, width: int, height: int) -> bytes:
    """Encode an RGBA pixel buffer (as Agg's ``buffer_rgba``) as a PNG (8-bit RGB).

    Written out directly (every row with filter type 0, one zlib stream): for these
    flat-coloured plots it is smaller than Pillow's adaptive filtering and takes about 60% of
    its time, which matters at several pictures per month.
    """
    pixels = np.asarray(rgba, dtype=np.uint8).reshape(height, width, 4)
    raw = np.zeros((height, 1 + 3 * width), dtype=np.uint8)  # a 0 byte starts each row
    raw[:, 1:] = pixels[:, :, :3].reshape(height, 3 * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return (_PNG_SIGNATURE + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(raw.tobytes(), PNG_COMPRESS_LEVEL))
            + _chunk(b"IEND", b""))


def display_scale(ratio: Any) -> float:
    """Image pixels per CSS pixel for a display whose page reports ``ratio``.

    ``window.devicePixelRatio``, rounded to a quarter and kept within 1-3; a bad or absurd
    value from a page falls back to 1.
    """
    try:
        scale = min(3.0, max(1.0, round(float(ratio) * 4) / 4))
    except (TypeError, ValueError, OverflowError):
        return 1.0
    return scale if math.isfinite(scale) else 1.0


class BlitFigure:
    """A figure whose static background is drawn once and whose animated artists are redrawn.

    Args:
        width_px: Width of the picture in pixels at scale 1 (CSS pixels on the page).
        height_px: Height of the picture in pixels at scale 1.
        dpi: Dots per inch at scale 1 (fonts are sized in points, so this sets their size in
            pixels).
        scale: Image pixels per CSS pixel (the display's pixel ratio): the image has
            ``scale`` times the pixels each way and the same drawing, so it is sharp on a 2x
            screen when the page shows it at ``width_px`` CSS pixels.

    Attributes:
        figure: The matplotlib ``Figure`` (Agg canvas); build the picture on it.
    """

    def __init__(self, width_px: int, height_px: int, dpi: int = 100, scale: float = 1.0):
        self.scale = float(scale)
        self.figure = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi * self.scale)
        self.canvas = FigureCanvasAgg(self.figure)
        self.figure.patch.set_facecolor("white")
        self._animated: list[Artist] = []
        self._background: object | None = None
        self._text_px: float | None = None

    def animate(self, artists: Iterable[Artist]) -> None:
        """Mark artists as animated: drawn every frame, left out of the cached background."""
        for artist in artists:
            artist.set_animated(True)
            self._animated.append(artist)

    def invalidate(self) -> None:
        """Redraw the background at the next frame (after a change to a static artist)."""
        self._background = None
        self._text_px = None

    def text_px(self) -> float:
        """Height of the smallest text drawn, in CSS pixels when shown at its CSS size.

        Every visible, non-empty text of the figure counts (titles, labels, tick labels,
        legend entries) as the last :meth:`render` drew them (tick labels exist once drawn):
        ``points * dpi / 72`` at scale 1. ``inf`` if the figure has no text.
        """
        from matplotlib.text import Text

        if self._text_px is None:  # sizes change only with the static part (invalidate)
            sizes = [float(t.get_fontsize()) for t in self.figure.findobj(Text)
                     if t.get_visible() and t.get_text().strip()]
            dpi = self.figure.dpi / self.scale
            self._text_px = min(sizes) * dpi / 72.0 if sizes else math.inf
        return self._text_px

    def size(self) -> tuple[int, int]:
        """Width and height of the image in pixels."""
        width, height = self.canvas.get_width_height()
        return int(width), int(height)

    def data_at(self, ax: Any, x_fraction: float, y_fraction: float) -> tuple[float, float] | None:
        """The data coordinates of ``ax`` under a click on the image, or None off the image.

        Args:
            ax: The axes whose coordinates are wanted.
            x_fraction: 0 at the left edge of the image, 1 at the right.
            y_fraction: 0 at the top edge of the image, 1 at the bottom.
        """
        if not (0.0 <= x_fraction <= 1.0 and 0.0 <= y_fraction <= 1.0):
            return None
        width, height = self.size()
        x, y = ax.transData.inverted().transform((x_fraction * width,
                                                  (1.0 - y_fraction) * height))
        return float(x), float(y)

    def render(self) -> bytes:
        """Draw the frame and return it as PNG bytes."""
        if self._background is None:
            self.canvas.draw()  # animated artists are skipped by a full draw
            self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        else:
            self.canvas.restore_region(self._background)
        for artist in self._animated:
            if artist.get_visible():
                self.figure.draw_artist(artist)
        width, height = self.size()
        return png_bytes(np.asarray(self.canvas.buffer_rgba()), width, height)
