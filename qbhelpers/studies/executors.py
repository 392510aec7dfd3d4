"""Where a sweep runs: in this process, on local worker processes, or on a
Dask cluster.

:func:`executor` is a context manager for the ``executor`` argument of
:func:`qbhelpers.first_max_grid`::

    with qbhelpers.studies.executor(workers=2) as ex:            # two local processes
        sweep = qbhelpers.first_max_grid([8, 16, 32], kappas, executor=ex)

    with qbhelpers.studies.executor(scheduler="tcp://host:8786") as ex:  # a Dask cluster
        sweep = qbhelpers.first_max_grid([8, 16, 32], kappas, executor=ex)

With neither (``workers=0``, ``scheduler=""``, the defaults) it gives None,
and the sweep runs serially here, as before.  Dask is imported only when a
scheduler is asked for; it is an optional dependency
(``pip install "qbhelpers[dask]"``).
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any, Iterator

#: What to install when Dask is missing.
DASK_INSTALL = 'pip install "qbhelpers[dask]" (or, in the book\'s repository, make venv)'

#: How long to wait for a first worker to join a scheduler, and to reach the
#: scheduler at all (seconds).
WORKER_TIMEOUT = 60.0
CONNECT_TIMEOUT = 10.0


class MissingDaskError(ImportError):
    """Dask's ``distributed`` is not installed."""


def import_distributed() -> Any:
    """The ``distributed`` module, or :class:`MissingDaskError` saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise MissingDaskError(f"running on a Dask scheduler needs dask[distributed]: "
                               f"{DASK_INSTALL}") from None
    return distributed


def check_workers(workers: Any) -> int:
    """A number of local worker processes: an integer >= 0 (0 = serial)."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise ValueError(f"workers must be an integer >= 0 (0: compute in this process), "
                         f"got {workers!r}")
    return workers


def check_scheduler(scheduler: Any) -> str:
    """A Dask scheduler address such as 'tcp://10.0.0.5:8786' ('' = none)."""
    if not isinstance(scheduler, str):
        raise ValueError(f"scheduler must be a Dask scheduler address such as "
                         f"'tcp://10.0.0.5:8786', or '' for none; got {scheduler!r}")
    return scheduler.strip()


def _limit_threads(threads: int) -> None:
    """Worker initializer: share the cores among the workers (the engine would
    otherwise use up to two threads in every worker; it has no other threads)."""
    from ..engines.chebyshev import THREADS_VARIABLE

    os.environ[THREADS_VARIABLE] = str(threads)


def local_processes(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` fresh Python processes (started with 'spawn', so
    no thread state of this process is copied), each limited to its share of
    the cores."""
    threads = max(1, (os.cpu_count() or 1) // workers)
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_limit_threads, initargs=(threads,))


def connect(scheduler: str, worker_timeout: float = WORKER_TIMEOUT,
            connect_timeout: float = CONNECT_TIMEOUT) -> Any:
    """A ``distributed.Client`` connected to a running scheduler, with at
    least one worker (waits up to ``connect_timeout`` seconds to reach the
    scheduler and ``worker_timeout`` seconds for a worker).  Raises OSError if
    the scheduler cannot be reached or no worker comes."""
    distributed = import_distributed()
    try:
        client = distributed.Client(scheduler, timeout=f"{connect_timeout}s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise OSError(f"cannot connect to the Dask scheduler at {scheduler!r}: {exc}") from None
    try:
        client.wait_for_workers(1, timeout=worker_timeout)
    except (TimeoutError, OSError):
        client.close()
        raise OSError(f"no worker joined the Dask scheduler at {scheduler!r} within "
                      f"{worker_timeout:g} s; start one with: dask worker {scheduler}") from None
    return client


@contextlib.contextmanager
def executor(workers: int = 0, scheduler: str = "", *,
             worker_timeout: float = WORKER_TIMEOUT) -> Iterator[Executor | None]:
    """Context manager giving the ``executor`` for :func:`qbhelpers.first_max_grid`.

    ``workers=0, scheduler=""`` (default): None, i.e. compute serially in
    this process.  ``workers=N``: a pool of N local worker processes.
    ``scheduler="tcp://host:port"``: the executor of a Dask client connected
    to that running scheduler (the workers need the same environment as
    this process: the sweep checks it for every result).  Everything is shut
    down on leaving the ``with`` block; pending points are cancelled if the
    block ends with an exception (e.g. Ctrl-C).
    """
    workers = check_workers(workers)
    scheduler = check_scheduler(scheduler)
    if workers and scheduler:
        raise ValueError("give either workers (local processes) or scheduler (a Dask "
                         f"cluster), not both; got workers={workers}, scheduler={scheduler!r}")
    if scheduler:
        client = connect(scheduler, worker_timeout)
        ex = client.get_executor()
        try:
            yield ex
        except BaseException:
            ex.shutdown(wait=False)
            raise
        else:
            ex.shutdown(wait=True)
        finally:
            client.close()
    elif workers:
        pool = local_processes(workers)
        try:
            yield pool
        except BaseException:
            _stop(pool)
            raise
        else:
            pool.shutdown(wait=True)
    else:
        yield None


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and end the worker processes now (a point
    may run for minutes; Python 3.11 has no public call for this)."""
    pool.shutdown(wait=False, cancel_futures=True)
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(Exception):
            process.terminate()
