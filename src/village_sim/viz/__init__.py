"""The live app's machinery, kept apart from the Solara page (``village_sim.app``).

- :mod:`village_sim.viz.network` — a cheap clan layout, computed once per village, and the
  kinship network drawn with matplotlib (Agg) into PNG bytes;
- :mod:`village_sim.viz.charts` — the metric charts over time, PNG bytes too;
- :mod:`village_sim.viz.controller` — the model(s), their history, settings validation and
  stepping: pure Python, testable without a browser;
- :mod:`village_sim.viz.server` — starting ``solara run village_sim.app`` on 127.0.0.1.

Everything is drawn server-side with matplotlib, so the page needs no CDN (Altair/vega charts
fetch their JavaScript from one); the model never imports anything from here.
"""

from __future__ import annotations

__all__: list[str] = []
