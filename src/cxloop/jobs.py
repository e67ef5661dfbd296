"""The job queue: Huey on SQLite by default, on Redis when ``CXLOOP_REDIS_URL`` is set.

Tasks are plain functions registered with :func:`task` or :func:`periodic` in any module
named ``tasks``; :func:`build_huey` binds them to a queue for one configuration. A task
receives a :class:`JobContext` first, so it can open database sessions for its settings.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.plugins import modules_named
from cxloop.store.engine import session_scope

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobContext:
    settings: Settings
    # The queue running the task, so a task can queue others; ``None`` when a task is
    # called directly (``cxloop surveys dispatch``, tests).
    huey: Huey | None = field(default=None, compare=False, repr=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.settings.resolved_database_url) as session:
            yield session


@dataclass(frozen=True)
class _TaskSpec:
    fn: Callable[..., Any]
    retries: int = 0
    retry_delay: int = 0
    schedule: dict[str, str] | None = None
    name: str = field(default="")


_SPECS: dict[str, _TaskSpec] = {}


def task(retries: int = 3, retry_delay: int = 10) -> Callable[[Callable[..., Any]], Any]:
    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        name = fn.__name__
        _SPECS[name] = _TaskSpec(fn, retries, retry_delay, None, name)
        return fn

    return wrap


def periodic(**cron: str) -> Callable[[Callable[..., Any]], Any]:
    """Register a periodic task; ``cron`` takes huey's crontab fields (minute, hour...)."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        _SPECS[fn.__name__] = _TaskSpec(fn, 0, 0, cron, fn.__name__)
        return fn

    return wrap


def make_queue(settings: Settings, name: str = "cxloop") -> Huey:
    if settings.redis_url:
        return RedisHuey(name, url=settings.redis_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=str(settings.data_dir / "jobs.db"))


def build_huey(settings: Settings, name: str = "cxloop") -> Huey:
    """A queue with every registered task bound to ``settings``."""
    modules_named("tasks")
    huey = make_queue(settings, name)
    ctx = JobContext(settings, huey)
    wrappers: dict[str, Any] = {}
    for spec in _SPECS.values():
        bound = functools.wraps(spec.fn)(functools.partial(spec.fn, ctx))
        if spec.schedule is not None:
            # Huey keeps no result for periodic runs, so a periodic task is also registered
            # as a plain task: enqueueable by hand (`cxloop jobs`, tests) with its result.
            huey.periodic_task(crontab(**spec.schedule), name=f"{spec.name}@schedule")(bound)
        wrappers[spec.name] = huey.task(
            retries=spec.retries, retry_delay=spec.retry_delay, name=spec.name
        )(bound)
    huey.cxloop_tasks = wrappers
    return huey


def make_consumer(huey: Huey, workers: int) -> Consumer:
    """Worker threads for ``huey``. An idle one looks for work at least every second
    (huey's default backs off to 10 s): a survey answer reaches the alert rules through a
    job queued as it is stored."""
    return huey.create_consumer(workers=workers, worker_type="thread", max_delay=1.0)


def enqueue(huey: Huey, name: str, *args: Any, **kwargs: Any) -> Any:
    """Queue the task called ``name``; returns huey's result handle."""
    try:
        wrapper = huey.cxloop_tasks[name]
    except KeyError:
        raise LookupError(f"no task called {name!r}; see `cxloop jobs list`") from None
    return wrapper(*args, **kwargs)


class Nudge:
    """Queue the task ``name`` soon after each call, at most once per ``interval`` seconds
    per process: every call is followed by an enqueue made after it, from a background
    thread, so a busy request never waits on the queue. An immediate queue (tests) runs the
    task inline at once, as it runs everything queued."""

    def __init__(self, name: str, interval: float = 0.5) -> None:
        self.name, self.interval = name, interval
        self._wanted = threading.Event()
        self._huey: Huey | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def __call__(self, huey: Huey) -> None:
        if huey.immediate:
            enqueue(huey, self.name)
            return
        self._huey = huey
        self._wanted.set()
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name=f"nudge-{self.name}", daemon=True
                    )
                    self._thread.start()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            try:
                assert self._huey is not None
                enqueue(self._huey, self.name)
            except Exception:  # noqa: BLE001 - the task's periodic run does the work later
                log.exception("could not queue %s", self.name)
            time.sleep(self.interval)


def task_names() -> list[str]:
    modules_named("tasks")
    return sorted(_SPECS)
