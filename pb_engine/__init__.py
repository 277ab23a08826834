"""pb_engine: a participatory budgeting engine shared by many cities.

The pure domain (ballots, allocation, pabulib, compare) imports neither Flask
nor SQLModel, so the same rules run on a live round, a Pabulib file or in a
notebook.
"""

__version__ = "0.1.0"
