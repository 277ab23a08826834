"""Analysis of rounds: figures (pure functions over elections and outcomes), rule runs, currency rates.

Pure domain like pb_engine.allocation: imports neither Flask nor SQLModel, so the comparison page,
the JSON API and `pb-engine analyse` on Pabulib files compute every figure with the same code.
"""
