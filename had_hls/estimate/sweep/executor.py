"""Where the sweep's points run: local worker processes (``concurrent.futures.ProcessPoolExecutor``) or a Dask
distributed cluster (``Client(address).get_executor()``), and what a stop does to them."""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing as mp
import os
from collections.abc import Iterator

from had_hls.errors import MissingToolError, UserError
from had_hls.procs import pool_worker_init

CLUSTER_TIMEOUT_S = 20  # how long to wait for a Dask scheduler to answer
_CLUSTER_SCHEMES = ("tcp", "tls", "ucx", "ws", "wss", "inproc")


def check_cluster_address(address: str) -> str:
    """A Dask scheduler address ``[scheme://]host:port`` (scheme: tcp, tls, ucx, ws, wss; inproc://...), else
    UserError naming --cluster. Checked before any work; whether a scheduler answers there is checked on connect."""
    text = address.strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "tcp", text
    allowed = "give a Dask scheduler address tcp://HOST:PORT (or tls://, ucx://, ws://, wss://, inproc://)"
    if scheme not in _CLUSTER_SCHEMES:
        raise UserError(f"--cluster: {address!r} is not allowed: unknown scheme {scheme!r}; {allowed}")
    if scheme == "inproc":
        if not rest:
            raise UserError(f"--cluster: {address!r} is not allowed: {allowed}")
        return text
    host, colon, port = rest.rpartition(":")
    host = host.strip("[]")
    if not colon or not host or not port.isdigit() or not 1 <= int(port) <= 65535 or "/" in host or " " in host:
        raise UserError(f"--cluster: {address!r} is not allowed: {allowed}")
    return text


def executor_name(jobs: int | None, cluster: str | None) -> str:
    """What sweep.json's ``executor`` says of where the points ran."""
    return f"dask {cluster}" if cluster else f"concurrent.futures.ProcessPoolExecutor({jobs or os.cpu_count()})"


@contextlib.contextmanager
def make_executor(jobs: int | None, cluster: str | None) -> Iterator[cf.Executor]:
    """ProcessPoolExecutor(jobs or all cores), or the executor of a Dask distributed cluster at ``cluster``
    (``distributed.Client(address).get_executor()``, the client closed on exit).

    Left by an exception (Ctrl-C, SIGTERM, a failure): the local workers and everything they started are killed at
    once, queued points cancelled (a cluster's futures cancelled, its client closed); nothing waits for them."""
    from had_hls.procs import kill_tree

    if cluster:
        try:
            from distributed import Client
        except ImportError:
            raise MissingToolError(
                f"--cluster {cluster}: the Dask distributed client is not installed: pip install 'dask[distributed]'"
            ) from None
        try:
            client = Client(cluster, timeout=f"{CLUSTER_TIMEOUT_S}s")
        except (OSError, TimeoutError, ValueError) as err:
            raise UserError(f"--cluster {cluster}: no Dask scheduler answers there ({err})") from None
        ex = client.get_executor()
        try:
            yield ex
        except BaseException:
            ex.shutdown(wait=False)  # cancels its futures
            raise
        finally:
            client.close()
        return
    # spawn, not fork: a forked child of a process that has used torch's thread pool can hang in torch calls
    ex = cf.ProcessPoolExecutor(max_workers=jobs or os.cpu_count() or 1, mp_context=mp.get_context("spawn"),
                                initializer=pool_worker_init)
    try:
        yield ex
    except BaseException:
        kill_tree(list(getattr(ex, "_processes", None) or {}))
        ex.shutdown(wait=False, cancel_futures=True)
        raise
    ex.shutdown(wait=True)
