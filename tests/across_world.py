"""A small world for the proposals-across-cities tests: two Pabulib rounds imported from text (Warszawa
in PLN, Toulouse in EUR), a rates file (1 EUR = 4 PLN, so figures are easy to work out by hand), and
cities alpha/beta (tests/conftest.py `cities`) for live rounds.

Warszawa 2026 (budget 500 000 PLN, 4 voters):        Toulouse 2022 (budget 200 000 EUR, 5 voters):
  W1 Plac zabaw przy szkole   400 000 sport  sel 1     T1 Aire de jeux pour enfants  80 000 sport  sel 1
  W2 Nowy plac zabaw w parku  100 000 sport  sel 1     T2 Terrain de sport          150 000 sport  sel 0
  W3 Sadzenie drzew            50 000 greenery sel 0   T3 Plantation d'arbres        20 000 greenery sel 1
  votes: W1 3, W2 2, W3 2                              votes: T1 3, T2 1, T3 2
"""

from __future__ import annotations

WARSZAWA = """META
key;value
description;Warszawa test
country;Poland
unit;Warszawa
instance;2026
num_projects;3
num_votes;4
budget;500000
vote_type;approval
rule;greedy
PROJECTS
project_id;cost;name;category;selected
1;400000;Plac zabaw przy szkole;sport;1
2;100000;Nowy plac zabaw w parku;sport;1
3;50000;Sadzenie drzew;urban greenery;0
VOTES
voter_id;vote
1;1,2
2;1
3;2,3
4;1,3
"""

TOULOUSE = """META
key;value
description;Toulouse test
country;France
unit;Toulouse
instance;2022
num_projects;3
num_votes;5
budget;200000
vote_type;approval
rule;greedy
PROJECTS
project_id;cost;name;category;selected
1;80000;Aire de jeux pour enfants;sport;1
2;150000;Terrain de sport;sport;0
3;20000;Plantation d'arbres;environment;1
VOTES
voter_id;vote
1;1,3
2;2
3;1
4;3
5;1
"""

RATES = """base = "EUR"
date = 2025-01-31
source = "test rates"
[rates]
PLN = "4"
TWD = "35"
"""


def build(app, tmp_path) -> dict[str, int]:
    """Imports both rounds and points the app at the test rates; returns {"W1": id, ..., "T3": id}."""
    from pb_engine import importer
    from sqlmodel import select

    from pb_engine.store.tables import Proposal

    db = app.extensions["pb_db"]
    for name, text in (("Poland_Warszawa_2026.pb", WARSZAWA), ("France_Toulouse_2022.pb", TOULOUSE)):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        importer.import_file(db, path)
    rates = tmp_path / "rates.toml"
    rates.write_text(RATES, encoding="utf-8")
    app.config["PB_CURRENCY_RATES"] = str(rates)
    ids = {}
    with db.session() as s:
        for p in s.exec(select(Proposal).order_by(Proposal.id)):
            prefix = "W" if p.title in ("Plac zabaw przy szkole", "Nowy plac zabaw w parku", "Sadzenie drzew") else "T"
            ids[f"{prefix}{sum(1 for k in ids if k[0] == prefix) + 1}"] = p.id
    return ids
