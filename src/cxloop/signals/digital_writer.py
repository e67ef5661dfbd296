"""Group commit for the collector: one writer thread stores many POSTs per transaction.

A request hands its checked batch to the writer and awaits the outcome, so it is answered
only once its batch is committed (no accepted batch is lost), while the database sees one
transaction per group instead of one per POST. If a group fails, each of its batches is
retried alone, so one bad batch cannot take good ones down with it.

Rejections that name no active site are only tallied in memory by the request
(:class:`UnknownTally`); the thread writes their sums at most every ``flush_s`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from dataclasses import dataclass, field

from cxloop.signals.digital_counts import UnknownTally, add_unknown_counts
from cxloop.signals.digital_ingest import Arrival, Count, add_counts, counts_for, store_arrivals
from cxloop.store.engine import session_scope

log = logging.getLogger(__name__)


@dataclass
class _Job:
    arrival: Arrival | None
    counts: list[Count]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[str]
    result: str = field(default="")


class BatchWriter:
    def __init__(
        self,
        database_url: str,
        *,
        max_group: int = 256,
        idle_exit_s: float = 5.0,
        flush_s: float = 1.0,
    ):
        self.url = database_url
        self.max_group = max_group
        self.idle_exit_s = idle_exit_s
        self.flush_s = flush_s
        self.unknown = UnknownTally()
        self._flushed_at = time.monotonic()
        self._queue: queue.Queue[_Job] = queue.Queue()
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def tally_unknown(self, site_key: str | None, reason: str) -> None:
        """Count a rejection that names no active site; written within ``flush_s``, the
        request does not wait for it."""
        self.unknown.add(site_key, reason)
        self._ensure_thread()

    def flush_unknown(self) -> None:
        """Write the tallied rejections now (the thread does it every ``flush_s``); when it
        returns, everything tallied before the call is committed (or kept for a retry)."""
        with self._flush_lock:  # a write under way finishes before this one drains
            counts = self.unknown.drain()
            self._flushed_at = time.monotonic()
            if not counts:
                return
            try:
                with session_scope(self.url) as session:
                    add_unknown_counts(session=session, counts=counts)
            except Exception:  # noqa: BLE001 - keep the sums for the next write
                log.exception("digital collector: writing rejection counts failed")
                self.unknown.restore(counts)

    async def store(self, arrival: Arrival) -> str:
        """Store a checked batch; ``accepted`` or ``duplicate`` once committed."""
        return await self._submit(arrival, [])

    async def count(self, counts: list[Count]) -> None:
        """Add rejection counts (committed before this returns)."""
        if counts:
            await self._submit(None, counts)

    async def _submit(self, arrival: Arrival | None, counts: list[Count]) -> str:
        loop = asyncio.get_running_loop()
        job = _Job(arrival, counts, loop, loop.create_future())
        self._queue.put(job)
        self._ensure_thread()
        return await job.future

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="digital-writer", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        idle = 0.0
        while True:
            try:
                job = self._queue.get(timeout=min(self.flush_s, self.idle_exit_s))
            except queue.Empty:
                self.flush_unknown()
                idle += min(self.flush_s, self.idle_exit_s)
                if idle >= self.idle_exit_s:
                    with self._lock:
                        if self._queue.empty() and not self.unknown:
                            self._thread = None
                            return
                continue
            idle = 0.0
            group = [job]
            while len(group) < self.max_group:
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write(group)
            if time.monotonic() - self._flushed_at >= self.flush_s:
                self.flush_unknown()

    def _write(self, group: list[_Job]) -> None:
        try:
            self._commit(group)
        except Exception:  # noqa: BLE001 - isolate the failing batch, keep the good ones
            if len(group) == 1:
                log.exception("digital collector: storing a batch failed")
                _finish(group[0], error=True)
                return
            for job in group:
                self._write([job])
            return
        for job in group:
            _finish(job)

    def _commit(self, group: list[_Job]) -> None:
        stored = [j for j in group if j.arrival is not None]
        with session_scope(self.url) as session:
            outcomes = store_arrivals(
                session=session,
                arrivals=[j.arrival for j in stored],  # type: ignore[misc]
            )
            counts: list[Count] = []
            for job, outcome in zip(stored, outcomes, strict=True):
                job.result = outcome
                counts += counts_for(job.arrival, outcome)  # type: ignore[arg-type]
            for job in group:
                counts += job.counts
            add_counts(session=session, counts=counts)


def _finish(job: _Job, *, error: bool = False) -> None:
    def settle() -> None:
        if job.future.done():
            return
        if error:
            job.future.set_exception(RuntimeError("could not store the batch"))
        else:
            job.future.set_result(job.result)

    try:
        job.loop.call_soon_threadsafe(settle)
    except RuntimeError:  # the request's loop is gone (client went away at shutdown)
        pass
