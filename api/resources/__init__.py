"""One module a resource; each exposes `blp`, a flask-smorest Blueprint."""
