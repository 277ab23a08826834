"""`pb-engine worker`: run queued jobs (pb_engine.jobs) from Redis, on this host or any other.

Start as many as there are cores to spare, on as many machines as needed, all with the same
PB_REDIS_URL and PB_DATABASE_URL as the web service: the web service queues long counts, `pb-engine
analyse --redis URL` queues archive files, and every worker takes whatever comes next.
"""

from __future__ import annotations

import os
import sys

import click

from pb_engine import jobs


@click.command("worker")
@click.option("--redis", "redis_url", default=None, help="Redis URL (default: $PB_REDIS_URL, else $REDIS_URL)")
@click.option("--database-url", envvar="PB_DATABASE_URL", default=None,
              help="database of the jobs (default: $PB_DATABASE_URL, else the one each job names)")
@click.option("--queue", default=jobs.QUEUE, show_default=True)
@click.option("--burst", is_flag=True, help="stop once the queue is empty (scripts, tests)")
@click.option("--fork/--no-fork", default=True, show_default=True,
              help="run each job in a forked child (RQ's default; --no-fork where fork is unsafe)")
def worker(redis_url, database_url, queue, burst, fork):
    """Take jobs from the Redis queue and run them until stopped (Ctrl-C finishes the current job)."""
    from redis import Redis
    from redis.exceptions import RedisError
    from rq import Queue, SimpleWorker, Worker

    url = redis_url or jobs.redis_url()
    if not url:
        raise click.UsageError("no Redis URL: give --redis or set PB_REDIS_URL (without Redis, jobs run inside "
                               "the web service and need no worker)")
    if database_url:
        os.environ["PB_DATABASE_URL"] = database_url  # jobs.execute prefers it to the URL a job carries
    conn = Redis.from_url(url)
    try:
        conn.ping()
    except RedisError as e:
        click.echo(f"error: cannot reach Redis at {url}: {e}", err=True)
        sys.exit(1)
    cls = Worker if fork else SimpleWorker
    w = cls([Queue(queue, connection=conn)], connection=conn)
    click.echo(f"pb_engine worker {w.name} on queue {queue!r}" + (" (burst)" if burst else ""), err=True)
    w.work(burst=burst, with_scheduler=False, logging_level="WARNING")


commands = [worker]
