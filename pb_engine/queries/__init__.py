"""Read models: what a page or a JSON view shows, as plain domain objects (frozen dataclasses).

JSON views and pages both call these; neither writes SQL. Money stays in integer minor units and
times stay aware datetimes: each edge words them for its reader (JSON in major units and ISO 8601,
pages in the visitor's locale and the city's time zone).

- rounds:    the cities with their rounds (home), one round with its phases, districts and rules
- proposals: a filtered, searched, paginated proposal list; one proposal with its endorsements,
             comments, public responses, status history and implementation progress
- booth:     one district's ballot for a voter, with the voter's own ballot if cast
- results:   the published outcome with per-project reasons, turnout, and the same ballots under
             the other rules side by side
- cities:    every city with its rounds oldest first (the JSON list), one city with notes and categories
- outcomes:  every outcome of a round (drafts, what-ifs, published, superseded), by status
- audit:     a city's audit log, newest first, filtered by round and action, one page at a time
"""
