"""The model's mechanisms (ODD §7), one module each.

Each module holds one submodel of docs/ODD.md: its rule, its switch and its parameters' use.
A mechanism reads and changes a :class:`village_sim.state.VillageState`; it never imports the
model, the analysis layers or the UI. ``VillageModel.step`` calls them in the month's order.
"""
