#!/usr/bin/python3
"""Runs netpool's benchmark workloads on its peers and prints them side by side.

The peers are multiprocessing.Pool (always available), Celery with a Redis
broker and result backend, and Dask distributed. Each runs the workloads that
bench/netpool_bench runs (A: many ApplyAsync calls, B: map, C: round-trip
latency, D: sleep makespan and worker start-up, E: memory per queued task) on
this machine; netpool's numbers come from netpool_bench --json, run by this
script or read from a saved file. Only the standard library is required: a peer
whose modules (or the redis-server binary) are missing is skipped.

Usage: python3 bench/peers/run_peers.py [--runs N] [--only mp,celery,dask]
       [--quick] [--json FILE] [--netpool-bench PATH | --netpool-json FILE]
"""

import argparse
import dataclasses
import datetime
import gc
import importlib
import importlib.util
import json
import math
import multiprocessing
import os
import pathlib
import platform
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

DEBIAN_PYTHON = "/usr/bin/python3"
REEXEC_GUARD = "NETPOOL_PEERS_REEXECED"
REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
NETPOOL_BENCH_CANDIDATES = [
    "build/release/bench/netpool_bench",
    "build-rel/bench/netpool_bench",
    "build/bench/netpool_bench",
]
DEBIAN_PACKAGE = {"celery": "python3-celery", "redis": "python3-redis",
                  "redis-server": "redis-server", "dask": "python3-dask",
                  "distributed": "python3-distributed"}


@dataclasses.dataclass(frozen=True)
class Workload:
    """One row of the comparison table; mirrors a key of netpool_bench --json."""

    key: str
    unit: str
    better: str  # "higher" or "lower"
    compared: bool  # False: netpool-only rows (F, G), listed after the table


WORKLOADS = [
    Workload("A10k", "tasks/s", "higher", True),
    Workload("A100k", "tasks/s", "higher", True),
    Workload("B_default", "items/s", "higher", True),
    Workload("B_chunk1", "items/s", "higher", True),
    Workload("C_p50", "µs", "lower", True),
    Workload("C_p99", "µs", "lower", True),
    Workload("D_makespan", "s", "lower", True),
    Workload("D_startup", "s", "lower", True),
    Workload("E_100k", "bytes/task", "lower", True),
    Workload("E_1M", "bytes/task", "lower", True),
    Workload("F_sqlite", "", "higher", False),
    Workload("F_memory", "", "higher", False),
    Workload("G_0", "", "higher", False),
    Workload("G_100k", "", "higher", False),
    Workload("G_1M", "", "higher", False),
    Workload("A_cpu_client", "", "lower", False),
    Workload("A_cpu_netpoold", "", "lower", False),
    Workload("A_cpu_node", "", "lower", False),
    Workload("A_cpu_processes", "", "lower", False),
    Workload("B_default_cold", "", "higher", False),
    Workload("B_cpu_client", "", "lower", False),
    Workload("B_cpu_netpoold", "", "lower", False),
    Workload("B_cpu_node", "", "lower", False),
    Workload("B_cpu_processes", "", "lower", False),
    Workload("B_cores_busy", "", "lower", False),
    Workload("B_chunk1_rtt20ms", "", "higher", False),
    Workload("B_1ms_rtt20ms", "", "higher", False),
    Workload("H_1", "", "higher", False),
    Workload("H_100", "", "higher", False),
    Workload("H_1000", "", "higher", False),
    Workload("H_1_cpu", "", "lower", False),
    Workload("H_100_cpu", "", "lower", False),
    Workload("H_1000_cpu", "", "lower", False),
    Workload("H_1_threads", "", "lower", False),
    Workload("H_1000_threads", "", "lower", False),
    Workload("F_fsync", "", "lower", False),
    Workload("L_A10k", "", "higher", False),
    Workload("L_B_default", "", "higher", False),
    Workload("L_B_default_cold", "", "higher", False),
    Workload("L_B_chunk1", "", "higher", False),
    Workload("L_C_p50", "", "lower", False),
    Workload("L_C_p99", "", "lower", False),
]


@dataclasses.dataclass(frozen=True)
class Sizes:
    """Problem sizes; --quick swaps in tiny ones so a smoke test takes seconds."""

    pool_procs: int = 2
    a_small: int = 10_000
    a_large: int = 100_000
    b_default: int = 100_000
    b_chunk1: int = 20_000
    round_trips: int = 1_000
    warmup_round_trips: int = 20
    d_procs: int = 16
    d_tasks: int = 20
    d_sleep_s: float = 2.0
    e_small: int = 100_000
    e_large: int = 1_000_000  # 0 skips E_1M
    # Celery and Dask need minutes for 100k single submissions: cap A and E.
    distributed_a_cap: int = 10_000
    distributed_e_cap: int = 100_000
    # Dask maps item by item, so its B_default is B_chunk1's workload: same cap.
    dask_b_cap: int = 20_000
    # multiprocessing runs E_1M only if 10x the E_100k time fits in this.
    mp_e_large_budget_s: float = 60.0


FULL_SIZES = Sizes()
QUICK_SIZES = Sizes(a_small=200, a_large=400, b_default=200, b_chunk1=200,
                    round_trips=50, warmup_round_trips=5, d_procs=2, d_tasks=3,
                    d_sleep_s=0.2, e_small=200, e_large=0,
                    distributed_a_cap=200, distributed_e_cap=200, dask_b_cap=200)


def log(message):
    print(f"[peers] {message}", file=sys.stderr, flush=True)


def noop(x):
    return x


def sleep_for(seconds):
    time.sleep(seconds)
    return seconds


def own_pid(_):
    return os.getpid()


def percentile(sorted_values, pct):
    """Nearest-rank percentile of an already sorted list."""
    rank = max(1, math.ceil(pct / 100.0 * len(sorted_values)))
    return sorted_values[rank - 1]


def rss_bytes(pid="self"):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def free_local_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def poll_until(predicate, timeout_s, what, interval_s=0.05):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval_s)
    raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def latency_percentiles_us(round_trip, count, warmup):
    """Times `count` sequential round trips after `warmup` untimed ones."""
    for i in range(warmup):
        round_trip(i)
    samples = []
    for i in range(count):
        start = time.perf_counter_ns()
        round_trip(i)
        samples.append((time.perf_counter_ns() - start) / 1000.0)
    samples.sort()
    return percentile(samples, 50), percentile(samples, 99)


class Samples:
    """Per-key samples of one peer; a key maps to None when the peer skips it."""

    def __init__(self):
        self.values = {}

    def add(self, key, value):
        self.values.setdefault(key, []).append(value)

    def round_trips(self, runs, round_trip, sizes):
        """C: `runs` times, sequential round trips timed after a warm-up; logs the medians."""
        for _ in range(runs):
            p50, p99 = latency_percentiles_us(round_trip, sizes.round_trips,
                                              sizes.warmup_round_trips)
            self.add("C_p50", p50)
            self.add("C_p99", p99)
        log(f"  C_p50/C_p99: {self.summary('C_p50')['median']:.0f} / "
            f"{self.summary('C_p99')['median']:.0f} µs")

    def skip(self, key):
        self.values[key] = None

    def repeat(self, key, runs, measure):
        for _ in range(runs):
            self.add(key, measure())
        log(f"  {key}: {self.summary(key)['median']:.6g}")

    def summary(self, key):
        values = self.values.get(key)
        if not values:
            return None
        return {"median": statistics.median(values), "min": min(values),
                "max": max(values), "samples": values}


class ChildProcess:
    """A subprocess in its own session so that stopping it also reaps its children."""

    def __init__(self, argv, log_path, **popen_kwargs):
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True,
                                     **popen_kwargs)

    @property
    def pid(self):
        return self.proc.pid

    def check_alive(self):
        if self.proc.poll() is not None:
            tail = pathlib.Path(self.log_path).read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{self.proc.args[:4]} exited with {self.proc.returncode}:\n{tail}")

    def stop(self, grace_s=20.0):
        """SIGTERM (graceful), then SIGKILL for whatever is left of its process group."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the group is the session we created
        except ProcessLookupError:
            pass
        self.proc.wait()
        self._log.close()


def run_self_child(mode, *args, env=None):
    """Runs this script in a fresh interpreter so RSS deltas start from a clean heap."""
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", mode,
                          *map(str, args)], capture_output=True, text=True, env=env,
                         check=False)
    if out.returncode != 0:
        raise RuntimeError(f"child {mode} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- multiprocessing

_blocker_event = None
_blocker_started = None


def _init_blocker(event, started):
    global _blocker_event, _blocker_started
    _blocker_event, _blocker_started = event, started


def _block_until_released():
    _blocker_started.release()
    _blocker_event.wait()


def child_mp_queue_memory(count, procs):
    """E for multiprocessing: parent RSS growth per task queued behind blocked workers."""
    event, started = multiprocessing.Event(), multiprocessing.Semaphore(0)
    pool = multiprocessing.Pool(procs, initializer=_init_blocker, initargs=(event, started))
    try:
        for _ in range(procs):
            pool.apply_async(_block_until_released)
        for _ in range(procs):
            started.acquire()
        gc.collect()
        before = rss_bytes()
        start = time.monotonic()
        pending = [pool.apply_async(noop, (i,)) for i in range(count)]
        submit_s = time.monotonic() - start
        after = rss_bytes()
        del pending
        return {"bytes_per_task": (after - before) / count, "submit_s": submit_s}
    finally:
        event.set()
        pool.terminate()
        pool.join()


def run_multiprocessing(sizes, runs, notes):
    samples = Samples()
    procs = sizes.pool_procs
    with multiprocessing.Pool(procs) as pool:
        def apply_many(count):
            start = time.perf_counter()
            results = [pool.apply_async(noop, (i,)) for i in range(count)]
            for result in results:
                result.get()
            return count / (time.perf_counter() - start)

        def map_items(count, chunksize=None):
            start = time.perf_counter()
            pool.map(noop, range(count), chunksize)
            return count / (time.perf_counter() - start)

        samples.repeat("A10k", runs, lambda: apply_many(sizes.a_small))
        samples.repeat("A100k", runs, lambda: apply_many(sizes.a_large))
        samples.repeat("B_default", runs, lambda: map_items(sizes.b_default))
        samples.repeat("B_chunk1", runs, lambda: map_items(sizes.b_chunk1, 1))
        samples.round_trips(runs, lambda i: pool.apply_async(noop, (i,)).get(), sizes)
        pool.close()  # as for D below
        pool.join()

    for _ in range(runs):
        # Start-up ends when pool.map over range(d_procs) with chunksize 1 returns: with the
        # fork start method Pool() has already forked every worker by then.
        start = time.perf_counter()
        with multiprocessing.Pool(sizes.d_procs) as pool:
            pool.map(own_pid, range(sizes.d_procs), 1)
            samples.add("D_startup", time.perf_counter() - start)
            start = time.perf_counter()
            pool.map(sleep_for, [sizes.d_sleep_s] * sizes.d_tasks, 1)
            samples.add("D_makespan", time.perf_counter() - start)
            # Let the workers leave on their own: terminate(), which `with` calls, can kill one
            # that holds the task queue's lock, and another then waits on it (and join() on that
            # one) for good.
            pool.close()
            pool.join()
    log(f"  D_makespan: {samples.summary('D_makespan')['median']:.2f} s")

    small_submit_s = 0.0
    for _ in range(runs):
        measured = run_self_child("mp-queue-memory", sizes.e_small, procs)
        samples.add("E_100k", measured["bytes_per_task"])
        small_submit_s = max(small_submit_s, measured["submit_s"])
    log(f"  E_100k: {samples.summary('E_100k')['median']:.0f} bytes/task")
    ratio = sizes.e_large / sizes.e_small if sizes.e_large else 0
    if sizes.e_large and small_submit_s * ratio * 1.5 < sizes.mp_e_large_budget_s:
        samples.repeat("E_1M", runs, lambda: run_self_child(
            "mp-queue-memory", sizes.e_large, procs)["bytes_per_task"])
    else:
        samples.skip("E_1M")
        if sizes.e_large:
            notes.append("multiprocessing E_1M skipped: estimated over "
                          f"{sizes.mp_e_large_budget_s:.0f} s")
    return samples


# --------------------------------------------------------------------------- celery + redis

CELERY_TASKS_MODULE = textwrap.dedent("""\
    # Written by bench/peers/run_peers.py: the tasks its Celery worker runs.
    import os
    import time

    from celery import Celery

    app = Celery("np_peer_tasks", broker=os.environ["NP_PEERS_BROKER"],
                 backend=os.environ["NP_PEERS_BACKEND"])
    app.conf.worker_hijack_root_logger = False


    @app.task
    def noop(x):
        return x


    @app.task
    def sleep_for(seconds):
        time.sleep(seconds)
        return seconds
""")


def celery_environment(tmpdir, port):
    env = dict(os.environ)
    # Broker and results in different databases so results can be flushed without
    # dropping kombu's exchange bindings.
    env["NP_PEERS_BROKER"] = f"redis://127.0.0.1:{port}/0"
    env["NP_PEERS_BACKEND"] = f"redis://127.0.0.1:{port}/1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tmpdir), env.get("PYTHONPATH")]))
    return env


def import_celery_tasks(tmpdir, env):
    os.environ["NP_PEERS_BROKER"] = env["NP_PEERS_BROKER"]
    os.environ["NP_PEERS_BACKEND"] = env["NP_PEERS_BACKEND"]
    if str(tmpdir) not in sys.path:
        sys.path.insert(0, str(tmpdir))
    return importlib.import_module("np_peer_tasks")


def child_celery_queue_memory(count, tmpdir):
    """E for Celery: redis used_memory growth per delay()ed task with no worker running.

    Runs in its own interpreter so the result subscriptions delay() opens die with it.
    """
    import redis
    tasks = import_celery_tasks(tmpdir, os.environ)
    broker = redis.Redis.from_url(os.environ["NP_PEERS_BROKER"])
    before = broker.info("memory")["used_memory"]
    pending = [tasks.noop.delay(i) for i in range(count)]
    after = broker.info("memory")["used_memory"]
    del pending
    return {"bytes_per_task": (after - before) / count}


class CeleryPeer:
    """A private redis-server plus Celery workers started and stopped by this script."""

    def __init__(self, tmpdir):
        self.tmpdir = pathlib.Path(tmpdir)
        self.port = free_local_port()
        self.env = celery_environment(self.tmpdir, self.port)
        (self.tmpdir / "np_peer_tasks.py").write_text(CELERY_TASKS_MODULE)
        self.redis_server = None
        self.tasks = None
        self._worker_count = 0

    def start_redis(self):
        import redis
        self.redis_server = ChildProcess(
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.tmpdir)],
            self.tmpdir / "redis.log")
        client = redis.Redis(port=self.port)

        def answers():
            self.redis_server.check_alive()
            try:
                return client.ping()
            except redis.ConnectionError:
                return False
        poll_until(answers, 30, "redis-server")
        self.tasks = import_celery_tasks(self.tmpdir, self.env)

    def start_worker(self, concurrency):
        """Starts a prefork worker; returns it once it answers a control ping."""
        self._worker_count += 1
        name = f"np_peers_{os.getpid()}_{self._worker_count}@127.0.0.1"
        # Gossip and mingle only matter between several workers; off, they do not
        # delay start-up waiting for peers that do not exist.
        worker = ChildProcess(
            [sys.executable, "-m", "celery", "-A", "np_peer_tasks", "worker", "-P", "prefork",
             "--concurrency", str(concurrency), "--loglevel", "WARNING", "--without-gossip",
             "--without-mingle", "-n", name],
            self.tmpdir / f"worker{self._worker_count}.log", cwd=self.tmpdir, env=self.env)

        def pinged():
            worker.check_alive()
            return bool(self.tasks.app.control.ping(destination=[name], timeout=0.1))
        try:
            poll_until(pinged, 120, f"celery worker {name}", interval_s=0)
        except BaseException:
            worker.stop()
            raise
        return worker

    def flush_results(self):
        import redis
        redis.Redis(port=self.port, db=1).flushdb()

    def stop(self):
        # Collect AsyncResults now: their __del__ talks to redis, which is about to go.
        gc.collect()
        if self.redis_server:
            self.redis_server.stop()


def run_celery(sizes, runs, notes):
    samples = Samples()
    timeout_s = 3600
    # multiprocessing.Pool.map's default chunk size: ceil(n / (4 * processes)).
    default_chunk = math.ceil(sizes.b_default / (4 * sizes.pool_procs))
    with tempfile.TemporaryDirectory(prefix="netpool-peers-celery-") as tmpdir:
        peer = CeleryPeer(tmpdir)
        try:
            peer.start_redis()
            noop_task, sleep_task = peer.tasks.noop, peer.tasks.sleep_for
            from celery import group

            for _ in range(runs):  # E first: it needs an empty queue and no worker
                samples.add("E_100k", run_self_child(
                    "celery-queue-memory", sizes.distributed_e_cap, tmpdir,
                    env=peer.env)["bytes_per_task"])
                peer.tasks.app.control.purge()
            samples.skip("E_1M")
            log(f"  E_100k: {samples.summary('E_100k')['median']:.0f} bytes/task")

            worker = peer.start_worker(sizes.pool_procs)
            try:
                def delay_many(count):
                    start = time.perf_counter()
                    results = [noop_task.delay(i) for i in range(count)]
                    for result in results:
                        result.get(timeout=timeout_s)
                    elapsed = time.perf_counter() - start
                    peer.flush_results()
                    return count / elapsed

                def run_group(signature_group, count):
                    start = time.perf_counter()
                    signature_group.apply_async().get(timeout=timeout_s)
                    elapsed = time.perf_counter() - start
                    peer.flush_results()
                    return count / elapsed

                samples.repeat("A10k", runs, lambda: delay_many(sizes.distributed_a_cap))
                samples.skip("A100k")
                samples.repeat("B_default", runs, lambda: run_group(
                    noop_task.chunks(zip(range(sizes.b_default)), default_chunk).group(),
                    sizes.b_default))
                samples.repeat("B_chunk1", runs, lambda: run_group(
                    group(noop_task.s(i) for i in range(sizes.b_chunk1)), sizes.b_chunk1))
                samples.round_trips(
                    runs, lambda i: noop_task.delay(i).get(timeout=timeout_s), sizes)
            finally:
                worker.stop()

            for _ in range(runs):
                start = time.perf_counter()
                worker = peer.start_worker(sizes.d_procs)
                try:
                    samples.add("D_startup", time.perf_counter() - start)
                    start = time.perf_counter()
                    group(sleep_task.s(sizes.d_sleep_s) for _ in range(sizes.d_tasks)) \
                        .apply_async().get(timeout=timeout_s)
                    samples.add("D_makespan", time.perf_counter() - start)
                finally:
                    worker.stop()
            log(f"  D_makespan: {samples.summary('D_makespan')['median']:.2f} s")
        finally:
            peer.stop()
    notes.append(f"celery B_default: chunks() of {default_chunk} items "
                 "(multiprocessing's default chunk size); B_chunk1: a group of single tasks")
    return samples


# --------------------------------------------------------------------------- dask

def dask_local_cluster(workers, tmpdir):
    import logging
    from distributed import LocalCluster
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                        host="127.0.0.1", dashboard_address=None, local_directory=tmpdir,
                        # Closing 16 nannies on a busy machine logs kill timeouts at ERROR.
                        silence_logs=logging.CRITICAL)


def dask_queue_memory(count, tmpdir):
    """E for Dask: RSS growth of a scheduler process per task submitted with no workers."""
    from distributed import Client
    scheduler_file = pathlib.Path(tmpdir) / "scheduler.json"
    scheduler_file.unlink(missing_ok=True)
    scheduler = ChildProcess(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", "0", "--no-dashboard", "--scheduler-file", str(scheduler_file)],
        pathlib.Path(tmpdir) / "scheduler.log")
    try:
        def ready():
            scheduler.check_alive()
            return scheduler_file.exists() and scheduler_file.stat().st_size > 0
        poll_until(ready, 60, "dask scheduler")
        time.sleep(0.2)  # let the file's writer finish
        with Client(scheduler_file=str(scheduler_file), timeout=60) as client:
            before = rss_bytes(scheduler.pid)
            futures = client.map(noop, range(count), pure=False)
            poll_until(lambda: client.run_on_scheduler(
                lambda dask_scheduler: len(dask_scheduler.tasks)) >= count,
                600, "the scheduler to hold every task", interval_s=0.2)
            after = rss_bytes(scheduler.pid)
            del futures
        return (after - before) / count
    finally:
        scheduler.stop()


def run_dask(sizes, runs, notes):
    samples = Samples()
    with tempfile.TemporaryDirectory(prefix="netpool-peers-dask-") as tmpdir:
        run_dask_in(tmpdir, sizes, runs, samples)
    notes.append("dask has no chunk size: B_default and B_chunk1 are both client.map + gather"
                 + (f" (B_default over {sizes.dask_b_cap:,} items, not {sizes.b_default:,})"
                    if sizes.dask_b_cap < sizes.b_default else ""))
    return samples


def run_dask_in(tmpdir, sizes, runs, samples):
    """Runs every workload on LocalClusters whose worker files live in tmpdir."""
    from distributed import Client, wait
    with dask_local_cluster(sizes.pool_procs, tmpdir) as cluster, Client(cluster) as client:
        def submit_many(count):
            start = time.perf_counter()
            futures = [client.submit(noop, i, pure=False) for i in range(count)]
            wait(futures)
            return count / (time.perf_counter() - start)

        def map_items(count):
            start = time.perf_counter()
            client.gather(client.map(noop, range(count), pure=False))
            return count / (time.perf_counter() - start)

        samples.repeat("A10k", runs, lambda: submit_many(sizes.distributed_a_cap))
        samples.skip("A100k")
        samples.repeat("B_default", runs, lambda: map_items(sizes.dask_b_cap))
        samples.repeat("B_chunk1", runs, lambda: map_items(sizes.b_chunk1))
        samples.round_trips(runs, lambda i: client.submit(noop, i, pure=False).result(), sizes)

    for _ in range(runs):
        start = time.perf_counter()
        with dask_local_cluster(sizes.d_procs, tmpdir) as cluster, Client(cluster) as client:
            client.wait_for_workers(sizes.d_procs)
            samples.add("D_startup", time.perf_counter() - start)
            start = time.perf_counter()
            client.gather(client.map(sleep_for, [sizes.d_sleep_s] * sizes.d_tasks, pure=False))
            samples.add("D_makespan", time.perf_counter() - start)
    log(f"  D_makespan: {samples.summary('D_makespan')['median']:.2f} s")

    samples.repeat("E_100k", runs, lambda: dask_queue_memory(sizes.distributed_e_cap, tmpdir))
    samples.skip("E_1M")


# --------------------------------------------------------------------------- peers and netpool

@dataclasses.dataclass
class Peer:
    """A system netpool is compared with: how to detect it, run it and name it."""

    name: str  # --only name
    title: str  # column title
    modules: tuple
    binaries: tuple
    run: object

    def missing(self):
        absent = [m for m in self.modules if importlib.util.find_spec(m) is None]
        absent += [b for b in self.binaries if shutil.which(b) is None]
        return absent

    def version(self):
        if self.name == "mp":
            return f"python {platform.python_version()}"
        parts = [f"{m} {importlib.import_module(m).__version__}" for m in self.modules]
        for binary in self.binaries:
            out = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
            word = next((w for w in out.split() if w.startswith("v=")), "v=?")
            parts.append(f"{binary} {word[2:]}")
        return ", ".join(parts)


PEERS = [
    Peer("mp", "mp.Pool", (), (), run_multiprocessing),
    Peer("celery", "celery+redis", ("celery", "redis"), ("redis-server",), run_celery),
    Peer("dask", "dask", ("dask", "distributed"), (), run_dask),
]


def find_netpool_bench(explicit):
    if explicit:
        return pathlib.Path(explicit)
    for candidate in NETPOOL_BENCH_CANDIDATES:
        path = REPO_ROOT / candidate
        if path.is_file() and os.access(path, os.X_OK):
            return path
    return None


def repo_relative(path):
    """`path` as the repository names it (the table should not name this machine's checkout)."""
    resolved = pathlib.Path(path).resolve()
    try:
        return str(resolved.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def load_netpool(args, runs):
    """netpool_bench's results as {key: result}, plus where they came from."""
    if args.netpool_json:
        return json.loads(pathlib.Path(args.netpool_json).read_text()), args.netpool_json
    path = find_netpool_bench(args.netpool_bench)
    if path is None or not path.exists():
        log("netpool_bench not found (build it, or pass --netpool-bench / --netpool-json)")
        return None, "not found"
    argv = [str(path), "--json", "--runs", str(runs), *(["--quick"] if args.quick else []),
            *shlex.split(args.netpool_args)]
    log(f"running {' '.join(argv)}")
    out = subprocess.run(argv, stdout=subprocess.PIPE, text=True, check=False)
    if out.returncode != 0:
        log(f"netpool_bench exited with {out.returncode}; its column is '-'")
        return None, f"{path} failed"
    return json.loads(out.stdout), repo_relative(path)


def ratio(netpool_value, peer_value, better):
    """How many times better netpool is than the peer."""
    if netpool_value is None or peer_value is None or not netpool_value or not peer_value:
        return None
    if better == "higher":
        return netpool_value / peer_value
    return peer_value / netpool_value


def format_value(value):
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def format_ratio(value):
    if value is None:
        return "-"
    if value >= 10:
        return f"{value:,.0f}×"
    if value >= 1:
        return f"{value:.1f}×"
    return f"{value:.2f}×"


def render_table(rows):
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [cell.ljust(w) if i < 2 else cell.rjust(w)
                 for i, (cell, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def machine_line(peer_versions):
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = "; ".join(f"{name}: {v}" for name, v in peer_versions.items())
    return f"machine: nproc {os.cpu_count()}, {cpu}, python3 {platform.python_version()}; {versions}"


def report(netpool, netpool_source, peer_results, skipped, notes, sizes, runs, quick):
    netpool_by_key = {r["key"]: r for r in (netpool or {}).get("results", [])}
    titles = [p.title for p in PEERS]
    header = ["key", "unit", "netpool", *titles, *[f"netpool × {t}" for t in titles]]
    rows, json_rows = [header], []
    for workload in [w for w in WORKLOADS if w.compared]:
        theirs = netpool_by_key.get(workload.key, {})
        netpool_median = theirs.get("median")
        better = theirs.get("better", workload.better)
        medians = {}
        for peer in PEERS:
            samples = peer_results.get(peer.name)
            summary = samples.summary(workload.key) if samples else None
            medians[peer.name] = summary["median"] if summary else None
            json_rows.append({"key": workload.key, "peer": peer.name,
                              "unit": workload.unit, "better": better,
                              "result": summary,
                              "netpool_ratio": ratio(netpool_median, medians[peer.name], better)})
        rows.append([workload.key, theirs.get("unit", workload.unit), format_value(netpool_median),
                     *[format_value(medians[p.name]) for p in PEERS],
                     *[format_ratio(ratio(netpool_median, medians[p.name], better))
                       for p in PEERS]])
    lines = [render_table(rows), ""]
    extra = [["netpool only", "unit", "median", "min", "max"]]
    for workload in [w for w in WORKLOADS if not w.compared]:
        theirs = netpool_by_key.get(workload.key, {})
        extra.append([workload.key, theirs.get("unit", workload.unit) or "-",
                      *[format_value(theirs.get(f)) for f in ("median", "min", "max")]])
    lines += [render_table(extra), ""]
    lines.append(f"netpool: {netpool_source}. Peers: median of {runs} run(s); Pool size "
                 f"{sizes.pool_procs} for A/B/C/E, {sizes.d_procs} for D.")
    lines.append(f"'-' in A100k and E_1M for Celery/Dask: capped at {sizes.distributed_a_cap:,} "
                 f"tasks (A) and {sizes.distributed_e_cap:,} (E); 100k+ single submissions take "
                 "minutes. A10k/E_100k for them use those capped sizes.")
    lines.append("D_startup: mp Pool() until map over range(n) returns; celery worker "
                 "start until control.ping answers; dask LocalCluster until wait_for_workers(n).")
    lines.append("E: mp.Pool parent RSS (workers blocked); celery redis used_memory, no worker (includes "
                 "the result subscription delay() opens); dask scheduler-process RSS, no workers.")
    lines += notes
    lines += [f"{name}: skipped ({why})" for name, why in skipped.items()]
    if quick:
        lines.append("QUICK MODE: tiny sizes, for smoke tests only; numbers are not comparable.")
    versions = {p.name: p.version() for p in PEERS if p.name in peer_results}
    lines.append(machine_line(versions))
    lines.append(f"date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
    print("\n".join(lines))
    return {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": machine_line(versions), "runs": runs, "quick": quick,
            "sizes": dataclasses.asdict(sizes), "netpool_source": netpool_source,
            "netpool": netpool, "peer_versions": versions, "skipped": skipped,
            "notes": notes, "peers": json_rows}


def reexec_under_debian_python():
    """Debian packages the peers for /usr/bin/python3; prefer it over e.g. a pyenv python3."""
    if os.environ.get(REEXEC_GUARD) or not os.path.exists(DEBIAN_PYTHON):
        return
    if os.path.realpath(sys.executable) == os.path.realpath(DEBIAN_PYTHON):
        return
    if all(importlib.util.find_spec(m) for p in PEERS for m in p.modules):
        return
    log(f"re-running under {DEBIAN_PYTHON} (Debian's python3, where the python3-* peers live)")
    os.environ[REEXEC_GUARD] = "1"
    os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON, os.path.abspath(__file__), *sys.argv[1:]])


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per workload (median kept)")
    parser.add_argument("--only", default="mp,celery,dask",
                        help="comma-separated peers to run: mp, celery, dask")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 1 run: a smoke test")
    parser.add_argument("--json", metavar="FILE", help="also write combined results as JSON")
    parser.add_argument("--netpool-bench", metavar="PATH", help="netpool_bench binary")
    parser.add_argument("--netpool-args", default="", help="extra netpool_bench arguments")
    parser.add_argument("--netpool-json", metavar="FILE",
                        help="read saved netpool_bench --json output instead of running it")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    unknown = set(args.only.split(",")) - {p.name for p in PEERS}
    if unknown:
        parser.error(f"unknown peer(s) in --only: {', '.join(sorted(unknown))}")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def run_child(mode, params):
    if mode == "mp-queue-memory":
        result = child_mp_queue_memory(int(params[0]), int(params[1]))
    elif mode == "celery-queue-memory":
        result = child_celery_queue_memory(int(params[0]), params[1])
    else:
        raise SystemExit(f"unknown child mode {mode}")
    print(json.dumps(result))


def main():
    args = parse_args()
    if args.child:
        run_child(args.child[0], args.child[1:])
        return 0
    reexec_under_debian_python()
    # SIGINT and SIGTERM unwind so every finally block stops what it started (SIGINT is
    # re-armed because shells start background jobs with it ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    runs = 1 if args.quick else args.runs
    started = time.monotonic()
    netpool, netpool_source = load_netpool(args, runs)
    wanted = args.only.split(",")
    peer_results, skipped, notes = {}, {}, []
    for peer in PEERS:
        if peer.name not in wanted:
            continue
        missing = peer.missing()
        if missing:
            everything = [DEBIAN_PACKAGE[n] for n in (*peer.modules, *peer.binaries)]
            skipped[peer.name] = (f"{' / '.join(DEBIAN_PACKAGE[n] for n in missing)} not "
                                  f"installed: apt-get install {' '.join(everything)}")
            continue
        log(f"{peer.title} ...")
        peer_start = time.monotonic()
        peer_results[peer.name] = peer.run(sizes, runs, notes)
        log(f"{peer.title} done in {time.monotonic() - peer_start:.0f} s")
    print()
    combined = report(netpool, netpool_source, peer_results, skipped, notes, sizes, runs,
                      args.quick)
    print(f"total time: {time.monotonic() - started:.0f} s")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(combined, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("interrupted; child processes stopped")
        sys.exit(130)
