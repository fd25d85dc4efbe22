"""Overlapping the stages of ingest: reading, parsing and writing run in their own threads.

Parsing (DuckDB, pyarrow) and writing (Parquet) release the GIL, and reading mostly waits on I/O or
decompression, so overlapping them uses every core instead of one stage at a time. A format whose
batches are independent is parsed by `PARSE_WORKERS` threads, since parsing is the costliest stage.
Queues are short (`DEPTH` batches), which keeps memory bounded by the batch size.
"""

from __future__ import annotations

import contextlib
import ctypes
import queue
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import TypeVar

import pyarrow as pa

from detector.lake import SegmentWriter

T = TypeVar("T")
R = TypeVar("R")
# One batch waiting per queue is enough to keep every stage busy (measured: depth 2 was no faster).
DEPTH = 1
PARSE_WORKERS = 2
_DONE = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetched(items: Iterator[T], depth: int = DEPTH) -> Iterator[T]:
    """`items`, produced by a background thread up to `depth` ahead; its errors re-raised here."""
    handoff: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as error:  # handed to the consumer, which re-raises it
            put(_Failed(error))
            return
        put(_DONE)

    thread = threading.Thread(target=produce, name="shadow-ai-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()


def ordered_map(work: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """`map(work, items)` on `workers` threads, results in input order.

    One item more than the workers is in flight, waiting in the pool: a worker that finishes while an
    older item is still being worked on (results leave in order), or while the consumer is busy with a
    result, starts the next item at once instead of idling. Measured on 1M-line files (interleaved, idle
    machine): Cisco WSA 2.47-2.56 -> 2.44-2.46 s wall, Zscaler CSV 2.31-2.32 -> 2.23-2.26 s, the same
    CPU; peak RSS +25-40 MB. Two more were no faster and held another batch.
    """
    with ThreadPoolExecutor(workers, thread_name_prefix="shadow-ai-parse") as pool:
        pending: deque[Future[R]] = deque()
        try:
            for item in items:
                pending.append(pool.submit(work, item))
                if len(pending) > workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


class BackgroundWriter:
    """Writes (events, rejects) pairs with a SegmentWriter in a background thread."""

    def __init__(self, writer: SegmentWriter, depth: int = DEPTH) -> None:
        self._writer = writer
        self._queue: queue.Queue[tuple[pa.Table, pa.Table] | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="shadow-ai-writer", daemon=True)

    def __enter__(self) -> BackgroundWriter:
        self._thread.start()
        return self

    def put(self, events: pa.Table, rejects: pa.Table) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put((events, rejects))

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None and error is None:
            raise self._error

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is not None:
                continue  # drain after a failure, so that put() never blocks
            try:
                self._writer.write_events(item[0])
                self._writer.write_rejects(item[1])
            except BaseException as error:
                self._error = error


def tune_allocators() -> None:
    """Keep batch-sized buffers' pages in the process rather than handing them back to the kernel and
    faulting them in again for the next batch.

    - pyarrow: jemalloc where the wheel has it; with pyarrow's default mimalloc the kernel time was 2x
      higher (measured: 1.2 s against 0.55 s of system time per million Squid lines).
    - numpy (glibc malloc): buffers over 32 MiB (a batch's bytes as an array) were mapped and unmapped
      each time, ~50,000 fresh pages per batch; with the mapping threshold at 256 MiB and trimming at
      1 GiB they are reused from the heap (measured, a million lines, interleaved runs at load ~3.5:
      LEEF 0.62-0.67 -> 0.51-0.59 s of system time, total CPU -2.5 %; Zscaler JSON and FortiGate
      -1 %; peak RSS up to +50 MB).
    """
    with contextlib.suppress(NotImplementedError):  # a pyarrow build without jemalloc keeps its default
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    _keep_glibc_heap()


# mallopt parameters, from glibc's malloc.h
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def _keep_glibc_heap() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # no mallopt in this C library: its defaults stay
        return
    mallopt(_M_MMAP_THRESHOLD, 256 << 20)
    mallopt(_M_TRIM_THRESHOLD, 1 << 30)
