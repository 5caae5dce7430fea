"""The phases of a village's month, built for a county: every village at once.

Each module mirrors the mechanism of :mod:`village_sim.mechanisms` of the same name and is held
to it bit for bit (tests/test_county_engine.py): the same draws from each village's own streams,
the same arithmetic on the stacked household arrays, per-village parameters as arrays over
villages (:class:`village_sim.county.stacked.VillageParams`). A change to a mechanism must be
made in its county phase too; the engine's equivalence test fails until it is.
"""
