"""A job backend for tests of heavy work: it keeps the jobs it is given, and the test runs them inline
(pb_engine.jobs.execute) when it wants them done, so a page or an answer can be seen while they are pending."""

from __future__ import annotations


class HeldJobs:
    name, heartbeats = "held", True

    def __init__(self):
        self.jobs: list[str] = []

    def submit(self, db_url, job_id):
        self.jobs.append(job_id)
