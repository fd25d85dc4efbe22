"""Ingest benchmark: `shadow-ai ingest` against a plain DuckDB pipeline and GoAccess on the same file.

Why: the Foundation issue (item 7) and the proxy-formats issue set throughput and memory targets that
only mean something when measured side by side, on the same file, on the same machine, in the same run:

    shadow-ai / best plain DuckDB pipeline  >= 0.8   (Squid native)
    shadow-ai / GoAccess                    >= 6     (Squid native)
    shadow-ai peak RSS                      <  1 GiB (whatever the file size)
    shadow-ai / generic DuckDB baseline     >= 0.5   (every other format in the registry)

Every tool runs as a child process, so wall time and peak RSS are measured the same way for all of them
(RSS sampled with psutil over the child and its descendants, and the kernel's ru_maxrss from wait4).

    python benchmarks/ingest.py                       # full size: 10M Squid lines, all formats
    python benchmarks/ingest.py --lines 100000        # smoke run, well under a minute
    python benchmarks/ingest.py --size 5G --formats none --keep --out /data/bench

Not a test: it asserts nothing, it measures. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_logs"
GOLDEN_SUFFIX = ".expected.jsonl"
MIB = 1024 * 1024

TARGETS = {
    "shadow_ai_vs_duckdb": 0.8,
    "shadow_ai_vs_goaccess": 6.0,
    "peak_rss_bytes": 1024 * MIB,
    "format_vs_generic_duckdb": 0.5,
}

# Lines generated per vectorised chunk: bounds the generator's memory (about 300 MB at 1M lines).
GEN_CHUNK = 1_000_000
# Start of the generated traffic: a Monday, 00:00 UTC.
GEN_START_EPOCH = 1_732_492_800
SAMPLE_INTERVAL_S = 0.02

# A byte that never occurs in a log line: lets DuckDB's CSV reader hand over each line whole.
NO_DELIM = "\x01"


# --------------------------------------------------------------------------------------------------
# Generating Squid native lines, vectorised (numpy picks, pyarrow compute assembles the strings)
# --------------------------------------------------------------------------------------------------

AI_HOSTS = [
    "chatgpt.com", "api.openai.com", "chat.openai.com", "cdn.oaistatic.com", "ab.chatgpt.com",
    "claude.ai", "api.anthropic.com", "gemini.google.com", "copilot.microsoft.com",
    "www.perplexity.ai", "chat.deepseek.com", "api.mistral.ai", "chat.mistral.ai", "www.deepl.com",
    "api.deepl.com", "huggingface.co", "poe.com", "character.ai", "you.com", "app.grammarly.com",
    "www.notion.so", "otter.ai", "www.midjourney.com", "runwayml.com", "elevenlabs.io",
]
COMMON_HOSTS = [
    "www.google.com", "login.microsoftonline.com", "outlook.office365.com", "teams.microsoft.com",
    "www.rijksoverheid.nl", "www.youtube.com", "update.microsoft.com", "www.linkedin.com",
    "fonts.googleapis.com", "www.nu.nl", "www.wikipedia.org", "github.com", "zoom.us",
]
SYLLABLES = ["ka", "lo", "mi", "ne", "ro", "ta", "vi", "zu", "be", "do", "fa", "gi", "ha", "ju", "pe", "so"]
PREFIXES = ["www", "api", "cdn", "static", "img", "login", "mail", "app", "m", "assets", "media", "auth"]
TLDS = ["com", "nl", "net", "org", "io", "de", "eu", "be", "co.uk", "fr"]
PATH_ROOTS = ["", "api", "v1", "static", "assets", "images", "css", "js", "news", "search", "docs", "user"]
PATH_LEAVES = ["", "index.html", "app.js", "main.css", "logo.png", "items", "chat", "completions", "feed",
               "status", "login", "data.json", "font.woff2", "video.mp4"]
MIMES_OK = ["text/html", "application/json", "image/png", "text/css", "application/javascript",
            "image/jpeg", "font/woff2", "text/plain", "application/octet-stream", "text/event-stream"]

# (method, Squid result code/status, hierarchy code or None for HIER_NONE/-, content type rule, weight)
# content type rule: "-" none, "html" text/html, "json" application/json, "any" from MIMES_OK.
SCENARIOS: list[tuple[str, str, str | None, str, float]] = [
    ("CONNECT", "TCP_TUNNEL/200", "HIER_DIRECT", "-", 52.0),
    ("CONNECT", "TCP_DENIED/403", None, "html", 2.0),
    ("CONNECT", "TCP_DENIED/407", None, "html", 4.0),
    ("CONNECT", "TAG_NONE/503", None, "-", 0.5),
    ("CONNECT", "TCP_TUNNEL_ABORTED/200", "HIER_DIRECT", "-", 0.5),
    ("GET", "TCP_MISS/200", "HIER_DIRECT", "any", 20.0),
    ("GET", "TCP_HIT/200", None, "any", 4.0),
    ("GET", "TCP_MEM_HIT/200", None, "any", 2.0),
    ("GET", "TCP_REFRESH_UNMODIFIED/304", "HIER_DIRECT", "any", 3.0),
    ("GET", "TCP_MISS/302", "HIER_DIRECT", "html", 2.0),
    ("GET", "TCP_MISS/404", "HIER_DIRECT", "html", 1.0),
    ("GET", "TCP_DENIED/403", None, "html", 1.0),
    ("GET", "TCP_DENIED/407", None, "html", 2.0),
    ("POST", "TCP_MISS/200", "HIER_DIRECT", "json", 5.0),
    ("POST", "TCP_MISS/500", "HIER_DIRECT", "html", 0.3),
    ("HEAD", "TCP_MISS/200", "HIER_DIRECT", "-", 0.4),
    ("PUT", "TCP_MISS/201", "HIER_DIRECT", "json", 0.3),
]


@dataclass
class Vocab:
    """The small tables every generated line picks from (built with Python loops: thousands of rows)."""

    hosts: pa.Array
    host_weights: np.ndarray
    host_ips: pa.Array
    clients: pa.Array
    client_weights: np.ndarray
    users: pa.Array
    client_user: np.ndarray  # client index -> user index (the user usually at that desk)
    paths: pa.Array
    minute_cdf: np.ndarray  # cumulative share of traffic per minute of the period: office hours peak


def build_vocab(rng: np.random.Generator, n_hosts: int, n_clients: int, days: int) -> Vocab:
    names: set[str] = set()
    while len(names) < n_hosts:
        word = "".join(rng.choice(SYLLABLES, size=int(rng.integers(2, 5))))
        name = f"{rng.choice(PREFIXES)}.{word}{int(rng.integers(0, 100)) if rng.random() < 0.3 else ''}"
        names.add(f"{name}.{rng.choice(TLDS)}")
    others = sorted(names - set(AI_HOSTS) - set(COMMON_HOSTS))
    rng.shuffle(others)
    hosts = COMMON_HOSTS + others[: n_hosts - len(COMMON_HOSTS) - len(AI_HOSTS)]
    # AI services sit among the moderately popular hosts (ranks 20..300): a few percent of the traffic.
    for rank, host in zip(np.sort(rng.choice(np.arange(20, 300), len(AI_HOSTS), replace=False)), AI_HOSTS,
                          strict=True):
        hosts.insert(int(rank), host)
    host_weights = 1.0 / np.power(np.arange(len(hosts)) + 8.0, 1.1)
    ips = [f"{int(a)}.{int(b)}.{int(c)}.{int(d)}" for a, b, c, d in rng.integers(1, 255, size=(len(hosts), 4))]
    clients = [f"10.{20 + i // 250 % 200}.{i % 250 // 25}.{10 + i % 25 * 9 + i // 50000}" for i in range(n_clients)]
    client_weights = np.minimum(rng.pareto(1.5, n_clients) + 1.0, 30.0)  # no client above ~0.3%
    firsts = ["jan", "piet", "anna", "sanne", "mohamed", "fatima", "lars", "eva", "daan", "noor", "bram", "lisa"]
    lasts = ["devries", "jansen", "bakker", "visser", "smit", "meijer", "bos", "mulder", "dekker", "vos"]
    n_users = max(1, n_clients * 3 // 4)
    users = []
    for i in range(n_users):
        first, last = firsts[i % len(firsts)], lasts[i // len(firsts) % len(lasts)]
        suffix = str(i // (len(firsts) * len(lasts))) if i >= len(firsts) * len(lasts) else ""
        style = i % 3
        users.append(f"{first[0]}.{last}{suffix}" if style == 0 else
                     f"{first}.{last}{suffix}@gemeente.nl" if style == 1 else f"GEMEENTE%5C{first[0]}{last}{suffix}")
    client_user = rng.integers(0, n_users, n_clients)
    paths = []
    for _ in range(3000):
        parts = [p for p in rng.choice(PATH_ROOTS, size=int(rng.integers(0, 4))) if p]
        if rng.random() < 0.3:
            parts.append(str(int(rng.integers(1, 100000))))
        path = "/" + "/".join([*parts, str(rng.choice(PATH_LEAVES))])
        if rng.random() < 0.2:
            path += f"?q={int(rng.integers(0, 10**6))}&lang=nl"
        paths.append(path.replace("//", "/"))
    paths += ["/v1/chat/completions", "/backend-api/conversation", "/api/append_message", "/v1/messages"]
    minutes = np.arange(days * 1440)
    hour = minutes // 60 % 24
    weekday = minutes // 1440 % 7 < 5
    weight = np.where((hour >= 8) & (hour < 18), 10.0, np.where((hour >= 6) & (hour < 22), 2.0, 0.3))
    weight = weight * np.where(weekday, 1.0, 0.15)
    cdf = np.cumsum(weight) / weight.sum()
    return Vocab(
        hosts=pa.array(hosts), host_weights=host_weights / host_weights.sum(), host_ips=pa.array(ips),
        clients=pa.array(clients), client_weights=client_weights / client_weights.sum(), users=pa.array(users),
        client_user=client_user, paths=pa.array(paths), minute_cdf=cdf,
    )


def timestamps_ms(first: int, count: int, total: int, vocab: Vocab) -> np.ndarray:
    """Increasing epoch milliseconds for lines [first, first+count) of `total`, denser in office hours."""
    quantile = (np.arange(first, first + count, dtype=np.float64) + 0.5) / total
    minute = np.searchsorted(vocab.minute_cdf, quantile)
    lower = np.where(minute > 0, vocab.minute_cdf[np.maximum(minute - 1, 0)], 0.0)
    within = (quantile - lower) / (vocab.minute_cdf[minute] - lower)
    return GEN_START_EPOCH * 1000 + minute * 60_000 + np.minimum(within * 60_000, 59_999).astype(np.int64)


def squid_chunk(rng: np.random.Generator, vocab: Vocab, first: int, count: int, total: int) -> pa.Array:
    """`count` Squid native lines, each ending in a newline, as one Arrow string array.

    Every text column is a `take` from a small vocabulary by numpy-drawn indices: no per-line Python.
    """
    weights = np.array([s[4] for s in SCENARIOS])
    scenario = rng.choice(len(SCENARIOS), size=count, p=weights / weights.sum())
    picks = pa.array(scenario)
    connect = pa.array(np.array([s[0] == "CONNECT" for s in SCENARIOS])[scenario])
    denied = np.array(["DENIED" in s[1] for s in SCENARIOS])[scenario]
    quick = denied | np.array(["HIT" in s[1] or "NONE" in s[1] for s in SCENARIOS])[scenario]
    needs_login = np.array([s[1].endswith("/407") for s in SCENARIOS])[scenario]

    ts = timestamps_ms(first, count, total, vocab)
    seconds = pa.array(ts // 1000).cast(pa.string())
    millis = pc.utf8_lpad(pa.array(ts % 1000).cast(pa.string()), width=3, padding="0")
    elapsed = np.where(quick, rng.integers(0, 6, count), np.minimum(rng.lognormal(4.5, 1.8, count), 3.6e6))
    elapsed_text = pc.utf8_lpad(pa.array(elapsed.astype(np.int64)).cast(pa.string()), width=6, padding=" ")

    client = rng.choice(len(vocab.clients), size=count, p=vocab.client_weights)
    host = pa.array(rng.choice(len(vocab.hosts), size=count, p=vocab.host_weights))
    size = np.where(denied, rng.integers(3000, 4200, count), rng.lognormal(7.5, 2.0, count).astype(np.int64))

    host_text = vocab.hosts.take(host)
    scheme = pa.array(["http://", "https://"]).take(pa.array((rng.random(count) < 0.4).astype(np.int8)))
    path_text = vocab.paths.take(pa.array(rng.integers(0, len(vocab.paths), count)))
    url = pc.if_else(
        connect,
        pc.binary_join_element_wise(host_text, ":443", ""),
        pc.binary_join_element_wise(scheme, host_text, path_text, ""),
    )
    # About a quarter of the traffic carries no user: unauthenticated sources, and every 407 challenge.
    anonymous = pa.array(needs_login | (rng.random(count) < 0.25))
    user_text = pc.if_else(anonymous, "-", vocab.users.take(pa.array(vocab.client_user[client])))
    direct = pa.array(np.array([s[2] is not None for s in SCENARIOS])[scenario])
    hierarchy = pc.binary_join_element_wise(
        pa.array([s[2] or "HIER_NONE" for s in SCENARIOS]).take(picks),
        pc.if_else(direct, vocab.host_ips.take(host), "-"), "/")
    # Content type: 0 "-", 1 text/html, 2 application/json, else one of MIMES_OK.
    rule = np.array([{"-": 0, "html": 1, "json": 2}.get(s[3], 3) for s in SCENARIOS])[scenario]
    mime_index = np.where(rule == 3, 3 + rng.integers(0, len(MIMES_OK), count), rule)
    mime = pa.array(["-", "text/html", "application/json", *MIMES_OK]).take(pa.array(mime_index))

    line = pc.binary_join_element_wise(
        pc.binary_join_element_wise(seconds, millis, "."), elapsed_text, vocab.clients.take(pa.array(client)),
        pa.array([s[1] for s in SCENARIOS]).take(picks), pa.array(size).cast(pa.string()),
        pa.array([s[0] for s in SCENARIOS]).take(picks), url, user_text, hierarchy, mime, " ",
    )
    return pc.binary_join_element_wise(line, "", "\n")


def write_string_array(out: Any, array: pa.Array) -> int:
    """Write an Arrow string array's characters as they are (no copy per line); return the bytes written."""
    array = array.cast(pa.large_string()) if array.type == pa.string() else array
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)[array.offset: array.offset + len(array) + 1]
    start, end = int(offsets[0]), int(offsets[-1])
    out.write(memoryview(array.buffers()[2])[start:end])
    return end - start


@dataclass
class Generated:
    path: str
    lines: int
    bytes: int
    seconds: float


def generate_squid(path: Path, lines: int, seed: int, days: int, size: int | None = None) -> Generated:
    """Write `lines` Squid native lines (or about `size` bytes of them) to `path`."""
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    vocab = build_vocab(rng, n_hosts=5000, n_clients=4000, days=days)
    if size:
        probe = squid_chunk(np.random.default_rng(seed + 1), vocab, 0, 20_000, 20_000)
        per_line = pc.sum(pc.binary_length(probe)).as_py() / len(probe)
        lines = max(1, round(size / per_line))
    written = 0
    with path.open("wb") as out:
        for first in range(0, lines, GEN_CHUNK):
            written += write_string_array(out, squid_chunk(rng, vocab, first, min(GEN_CHUNK, lines - first), lines))
    return Generated(str(path), lines, written, time.perf_counter() - started)


# --------------------------------------------------------------------------------------------------
# Measuring a child process: wall time, CPU time, peak RSS (sampled, and the kernel's ru_maxrss)
# --------------------------------------------------------------------------------------------------


@dataclass
class Run:
    """One measured child process. `lines_per_s` and `mb_per_s` are over the input file."""

    tool: str
    command: list[str]
    exit_code: int
    wall_s: float
    cpu_s: float
    peak_rss_sampled: int
    peak_rss_maxrss: int
    lines_per_s: float = 0.0
    mb_per_s: float = 0.0
    output_bytes: int = 0
    rows: int | None = None
    note: str = ""
    stderr_tail: str = ""

    @property
    def peak_rss(self) -> int:
        return max(self.peak_rss_sampled, self.peak_rss_maxrss)

    @property
    def lines_per_cpu_s(self) -> float:
        """Lines per CPU-second (all threads): less disturbed than wall time when the machine is shared."""
        return self.lines_per_s * self.wall_s / self.cpu_s if self.cpu_s else 0.0


class RssSampler(threading.Thread):
    """Samples the summed RSS of a process's descendants (and of itself, with include_root) until stopped."""

    def __init__(self, pid: int, include_root: bool = True) -> None:
        super().__init__(daemon=True)
        import psutil

        self._psutil = psutil
        self._process = psutil.Process(pid)
        self._include_root = include_root
        self._stop_event = threading.Event()
        self.peak = 0

    def run(self) -> None:
        psutil = self._psutil
        while not self._stop_event.is_set():
            try:
                tree = self._process.children(recursive=True)
                if self._include_root:
                    tree.append(self._process)
                total = 0
                for proc in tree:
                    with contextlib.suppress(psutil.NoSuchProcess, psutil.ZombieProcess):
                        total += proc.memory_info().rss
                self.peak = max(self.peak, total)
            except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
                return
            self._stop_event.wait(SAMPLE_INTERVAL_S)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


# The launcher between this script and each measured tool. The kernel's ru_maxrss of a child starts at
# the RSS of the process that forked it (it survives exec), so forking the tools from this script, which
# holds generated data and pyarrow, would report hundreds of MiB that are not theirs. A fresh, small
# Python forks them instead and reports the child's own wall time and rusage as JSON.
# Past its time limit the tool is killed (SIGKILL), so that one pathological run cannot eat the night.
LAUNCHER = """
import json, os, signal, sys, time
timed_out = []
def expire(*_):
    timed_out.append(True)
    os.kill(pid, signal.SIGKILL)
started = time.perf_counter()
pid = os.posix_spawnp(sys.argv[3], sys.argv[3:], os.environ)
signal.signal(signal.SIGALRM, expire)
signal.alarm(int(sys.argv[2]))
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - started
with open(sys.argv[1], "w") as out:
    json.dump({"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "maxrss_kib": usage.ru_maxrss,
               "exit_code": os.waitstatus_to_exitcode(status), "timed_out": bool(timed_out)}, out)
"""


def measure(tool: str, command: list[str], workdir: Path, input_lines: int, input_bytes: int, timeout: int) -> Run:
    """Run `command` to completion; time it and its memory. Output goes to files in `workdir`."""
    workdir.mkdir(parents=True, exist_ok=True)
    stdout_path, stderr_path = workdir / f"{tool}.stdout", workdir / f"{tool}.stderr"
    usage_path = workdir / f"{tool}.usage.json"
    usage_path.unlink(missing_ok=True)
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        launcher = subprocess.Popen([sys.executable, "-c", LAUNCHER, str(usage_path), str(timeout), *command],
                                    stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=workdir)
    sampler = RssSampler(launcher.pid, include_root=False)
    sampler.start()
    launcher.wait()
    sampler.stop()
    stderr = stderr_path.read_text(errors="replace")
    try:
        usage = json.loads(usage_path.read_text())
    except (OSError, ValueError):
        raise SystemExit(f"{tool}: the launcher failed (exit {launcher.returncode}): {stderr[-2000:]}") from None
    wall = float(usage["wall_s"])
    return Run(
        tool=tool,
        command=command,
        exit_code=int(usage["exit_code"]),
        wall_s=wall,
        cpu_s=float(usage["cpu_s"]),
        peak_rss_sampled=sampler.peak,
        peak_rss_maxrss=int(usage["maxrss_kib"]) * 1024,  # Linux reports KiB
        lines_per_s=input_lines / wall if wall else 0.0,
        mb_per_s=input_bytes / MIB / wall if wall else 0.0,
        stderr_tail=stderr[-2000:],
        note=f"KILLED after {timeout} s (--timeout)" if usage.get("timed_out") else "",
    )


def best_of(runs: list[Run]) -> Run:
    """The fastest run, carrying the highest peak RSS seen in any repetition (memory is not luck)."""
    best = min(runs, key=lambda r: r.wall_s)
    best.peak_rss_sampled = max(r.peak_rss_sampled for r in runs)
    best.peak_rss_maxrss = max(r.peak_rss_maxrss for r in runs)
    if len(runs) > 1:
        best.note = (best.note + f" best of {len(runs)}: " + ", ".join(f"{r.wall_s:.2f}s" for r in runs)).strip()
    return best


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


# --------------------------------------------------------------------------------------------------
# The tools
# --------------------------------------------------------------------------------------------------


def run_shadow_ai(
    log: Path, workdir: Path, lines: int, size: int, format_name: str | None, repeat: int, timeout: int
) -> Run:
    """`shadow-ai --home <fresh> ingest FILE --json`; `python -m detector` is the same command, minus any
    shim in front of the entry point (pyenv's costs ~0.1 s and is not the product)."""
    runs = []
    for attempt in range(repeat):
        home = workdir / f"home-{attempt}"
        shutil.rmtree(home, ignore_errors=True)
        command = [sys.executable, "-m", "detector", "--home", str(home), "ingest", str(log), "--json"]
        if format_name:
            command[-1:-1] = ["--format", format_name]
        run = measure("shadow-ai", command, workdir, lines, size, timeout)
        run.output_bytes = dir_bytes(home / "lake")
        reports = [json.loads(x) for x in (workdir / "shadow-ai.stdout").read_text().splitlines() if x.strip()]
        if reports:
            report = reports[-1]
            run.rows = int(report.get("parsed", 0))
            counts = f"lines={report.get('lines')} parsed={report.get('parsed')} rejected={report.get('rejected')} " \
                     f"ignored={report.get('ignored')}" + (f" error={report['error']}" if report.get("error") else "")
            run.note = f"{run.note} {counts}".strip()
        if attempt < repeat - 1:
            shutil.rmtree(home, ignore_errors=True)
        runs.append(run)
    return best_of(runs)


# The DuckDB child: runs one COPY statement and prints the number of rows it wrote.
DUCKDB_CHILD = """
import sys, duckdb
con = duckdb.connect(":memory:")
con.execute("set TimeZone = 'UTC'")
con.execute("set enable_progress_bar = false")
print(con.execute(sys.argv[1]).fetchall()[0][0])
"""


def read_lines_sql(path: Path, where: str = "") -> str:
    """Each line of a file as one VARCHAR column `line`, through DuckDB's parallel CSV reader."""
    return (
        f"(select line from read_csv('{sql_text(str(path))}', columns = {{'line': 'VARCHAR'}}, delim = '{NO_DELIM}', "
        f"quote = '', escape = '', header = false, auto_detect = false, new_line = '\\n') {where})"
    )


def sql_text(value: str) -> str:
    return value.replace("'", "''")


def squid_split_sql(log: Path, out: Path) -> str:
    """The plain pipeline: split on spaces with string functions (list_filter collapses the padding)."""
    return f"""
copy (
    with split as (
        select list_filter(string_split(line, ' '), lambda x: x <> '') as f from {read_lines_sql(log)}
    )
    select
        to_timestamp(try_cast(f[1] as double)) as ts,
        try_cast(f[2] as bigint) as duration_ms,
        f[3] as src_ip,
        split_part(f[4], '/', 1) as result_code,
        try_cast(split_part(f[4], '/', 2) as integer) as http_status,
        try_cast(f[5] as bigint) as bytes_in,
        f[6] as http_method,
        f[7] as url,
        nullif(f[8], '-') as user_name,
        split_part(f[9], '/', 1) as hierarchy,
        nullif(split_part(f[9], '/', 2), '-') as dst_ip,
        nullif(f[10], '-') as content_type
    from split
) to '{sql_text(str(out))}' (format parquet, compression zstd)
"""


SQUID_REGEX = (
    r"^(\d+\.\d+) +(\d+) (\S+) ([A-Z_]+)/(\d+) (\d+) (\S+) (\S+) (\S+) ([A-Z_]+)/(\S+) (\S+)"
)
SQUID_REGEX_NAMES = ["ts", "elapsed", "client", "code", "status", "size", "method", "url", "usr", "hier", "peer",
                     "mime"]


def squid_regex_sql(log: Path, out: Path) -> str:
    """For reference: one regexp_extract per line (all groups into a struct), then the same casts."""
    names = ", ".join(f"'{n}'" for n in SQUID_REGEX_NAMES)
    return f"""
copy (
    with m as (
        select regexp_extract(line, '{SQUID_REGEX}', [{names}]) as r from {read_lines_sql(log)}
    )
    select
        to_timestamp(try_cast(r.ts as double)) as ts,
        try_cast(r.elapsed as bigint) as duration_ms,
        r.client as src_ip,
        r.code as result_code,
        try_cast(r.status as integer) as http_status,
        try_cast(r.size as bigint) as bytes_in,
        r.method as http_method,
        r.url as url,
        nullif(r.usr, '-') as user_name,
        r.hier as hierarchy,
        nullif(r.peer, '-') as dst_ip,
        nullif(r.mime, '-') as content_type
    from m
) to '{sql_text(str(out))}' (format parquet, compression zstd)
"""


@dataclass(frozen=True)
class Layout:
    """How the generic baseline splits a format's lines: the delimiter and a type per leading field."""

    delimiter: str
    types: tuple[str, ...]


def generic_split_sql(log: Path, out: Path, layout: Layout) -> str:
    """The generic baseline: split on the format's obvious delimiter, cast up to 8 fields, COPY to Parquet."""
    delim = sql_text(layout.delimiter)
    fields = f"string_split(line, '{delim}')"
    if layout.delimiter == " ":
        fields = f"list_filter({fields}, lambda x: x <> '')"
    columns = ",\n        ".join(
        f"f[{i}] as c{i}" if kind == "VARCHAR" else f"try_cast(f[{i}] as {kind}) as c{i}"
        for i, kind in enumerate(layout.types, start=1)
    )
    source = read_lines_sql(log, "where not starts_with(line, '#')")
    return f"""
copy (
    with split as (select {fields} as f from {source})
    select
        {columns}
    from split
) to '{sql_text(str(out))}' (format parquet, compression zstd)
"""


def run_duckdb(tool: str, sql: str, out: Path, workdir: Path, lines: int, size: int, repeat: int, timeout: int
               ) -> Run:
    runs = []
    for _ in range(repeat):
        out.unlink(missing_ok=True)
        run = measure(tool, [sys.executable, "-c", DUCKDB_CHILD, sql], workdir, lines, size, timeout)
        run.output_bytes = out.stat().st_size if out.exists() else 0
        text = ((workdir / f"{tool}.stdout").read_text().strip().splitlines() or [""])[-1]
        run.rows = int(text) if text.isdigit() else None
        out.unlink(missing_ok=True)
        runs.append(run)
    return best_of(runs)


GOACCESS_SQUID = "%x.%^ %~%L %h %^/%s %b %m %U %e %^ %M"


def goaccess_version() -> str | None:
    binary = shutil.which("goaccess")
    if not binary:
        return None
    result = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    return (result.stdout.splitlines() or ["?"])[0].strip()


def run_goaccess(log: Path, workdir: Path, lines: int, size: int, repeat: int, timeout: int) -> Run | None:
    """GoAccess over the same file with a custom Squid native format, JSON report to a file, no server.

    GoAccess's predefined SQUID format expects a syslog prefix ("%^ %^ %^ %v %^: ") before the native
    fields, so the native access.log needs the same format without it; date and time are epoch seconds.
    """
    binary = shutil.which("goaccess")
    if not binary:
        return None
    report = workdir / "goaccess-report.json"
    runs = []
    for _ in range(repeat):
        report.unlink(missing_ok=True)
        command = [binary, str(log), "--no-global-config", f"--log-format={GOACCESS_SQUID}", "--date-format=%s",
                   "--time-format=%s", "--no-progress", "-o", str(report)]
        run = measure("goaccess", command, workdir, lines, size, timeout)
        run.output_bytes = report.stat().st_size if report.exists() else 0
        try:
            general = json.loads(report.read_text())["general"]
            run.rows = int(general.get("valid_requests", 0))
            run.note = f"total_requests={general.get('total_requests')} failed={general.get('failed_requests')}"
        except (OSError, ValueError, KeyError):
            run.note = "no readable report"
        runs.append(run)
    return best_of(runs)


# --------------------------------------------------------------------------------------------------
# Other formats: a large file made by repeating each registry format's sample event lines
# --------------------------------------------------------------------------------------------------


@dataclass
class FormatFile:
    format: str
    sample: str
    path: str
    lines: int
    events: int
    bytes: int
    layout: Layout
    unit_lines: int
    header_lines: int
    copies: int


def sample_files(key: str) -> list[Path]:
    folder = SAMPLES / key
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.endswith(GOLDEN_SUFFIX))


def raw_lines(path: Path) -> list[str]:
    """The sample's lines numbered as the reader numbers them (1-based, CR stripped), as valid UTF-8."""
    from detector.ingest.reader import open_stream

    with open_stream(path) as stream:
        text = stream.read().decode("utf-8", errors="replace")
    if text.endswith("\n"):
        text = text[:-1]
    return [line.rstrip("\r") for line in text.split("\n")] if text else []


def pick_layout(lines: Sequence[str]) -> Layout:
    """The delimiter that every event line has most of, and for up to 8 fields a type they all fit."""
    best, best_count = " ", 0
    for delimiter in ("\t", ",", "|", ";", " "):  # on a tie the earlier one wins
        count = min(line.count(delimiter) for line in lines)
        if count > best_count:
            best, best_count = delimiter, count
    rows = [[f for f in line.split(best) if f] if best == " " else line.split(best) for line in lines]
    types = []
    for i in range(min(8, max(len(r) for r in rows))):
        values = [r[i].strip() for r in rows if i < len(r)]
        if all(re.fullmatch(r"-?\d{1,18}", v) for v in values):
            types.append("BIGINT")
        elif all(re.fullmatch(r"-?\d+\.\d+", v) for v in values):
            types.append("DOUBLE")
        else:
            types.append("VARCHAR")
    return Layout(best, tuple(types))


@dataclass
class Sample:
    """A sample file of a format, its lines, and which of them are events and which rejects."""

    format: str
    path: Path
    lines: list[str]
    events: set[int]
    rejects: set[int]


def parse_samples(key: str, out_dir: Path) -> list[Sample]:
    """The format's samples that have at least one event, parsed as `shadow-ai` parses them."""
    from detector.config import load_settings
    from detector.ingest import FORMATS
    from detector.ingest.pipeline import parse_file

    settings = load_settings(out_dir / "parse-home", create=False)
    found = []
    for path in sample_files(key):
        try:
            events, rejects, _ = parse_file(path, FORMATS[key], settings)
        except Exception as exc:  # a broken sample must not stop the other formats' measurements
            print(f"  {key}/{path.name}: cannot parse the sample ({exc})", flush=True)
            continue
        event_nos = set(events.column("line_no").to_pylist())
        if event_nos:
            found.append(Sample(key, path, raw_lines(path), event_nos, set(rejects.column("line_no").to_pylist())))
    return found


def build_format_file(sample: Sample, target_lines: int, out_dir: Path) -> FormatFile:
    """Repeat the sample's event lines to about `target_lines` lines, under its header written once.

    The sample is cut into blocks at its `#` directive lines (W3C `#Fields:`, Zeek's header and `#close`):
    a sample may declare its header twice to test a redeclaration, but a real file of that size is one
    header and millions of events. The block with the most events is repeated: its lines from the first
    to the last event, rejected lines left out, other ignored lines between events kept (they occur in
    real files too). Its header (for the first block: every line before the first event) is written once.
    """
    event_nos = sample.events
    kept = [(n, line) for n, line in enumerate(sample.lines, start=1) if n not in sample.rejects and line.strip()]
    directive = {n for n, line in kept if n not in event_nos and line.startswith("#")}
    blocks: list[tuple[list[str], list[tuple[int, str]]]] = []  # (header, body)
    header: list[str] = []
    body: list[tuple[int, str]] = []
    for n, line in kept:
        if n in directive:
            if body:
                blocks.append((header, body))
                header, body = [], []
            header.append(line)
        elif body or n in event_nos:
            body.append((n, line))
        else:
            header.append(line)  # before the first event: a header without '#' (Windows DNS, DHCP)
    blocks.append((header, body))
    header, body = max(blocks, key=lambda b: sum(1 for n, _ in b[1] if n in event_nos))
    last = max(i for i, (n, _) in enumerate(body) if n in event_nos)
    unit = [line for _, line in body[: last + 1]]
    unit_events = sum(1 for n, _ in body[: last + 1] if n in event_nos)
    copies = max(1, math.ceil((target_lines - len(header)) / len(unit)))
    path = out_dir / f"{sample.format}-{sample.path.name.split('.')[0]}.log"
    block = ("\n".join(unit) + "\n").encode()
    per_block = max(1, (1 << 20) // len(block))  # write about 1 MiB at a time
    with path.open("wb") as out:
        if header:
            out.write(("\n".join(header) + "\n").encode())
        remaining = copies
        while remaining:
            n = min(per_block, remaining)
            out.write(block * n)
            remaining -= n
    event_lines = [line for n, line in body if n in event_nos]
    return FormatFile(
        format=sample.format, sample=sample.path.name, path=str(path), lines=len(header) + copies * len(unit),
        events=copies * unit_events, bytes=path.stat().st_size, layout=pick_layout(event_lines),
        unit_lines=len(unit), header_lines=len(header), copies=copies,
    )


# --------------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------------


def mib(value: int) -> str:
    return f"{value / MIB:,.0f}"


def ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def verdict(value: float | None, target: float, higher_is_better: bool = True) -> str:
    if value is None:
        return "n/a"
    return "ok" if (value >= target if higher_is_better else value < target) else "MISSED"


def print_runs(title: str, runs: Sequence[Run]) -> None:
    print(f"\n{title}")
    header = f"  {'tool':<26}{'wall s':>8}{'cpu s':>8}{'lines/s':>11}{'MB/s':>7}{'lines/cpu-s':>12}" \
             f"{'RSS MiB':>8}{'maxrss':>7}{'rows':>12}{'out MiB':>8}  note"
    print(header)
    for r in runs:
        rows = "-" if r.rows is None else f"{r.rows:,}"
        failed = f" EXIT {r.exit_code}" if r.exit_code else ""
        print(f"  {r.tool:<26}{r.wall_s:>8.2f}{r.cpu_s:>8.2f}{r.lines_per_s:>11,.0f}{r.mb_per_s:>7.1f}"
              f"{r.lines_per_cpu_s:>12,.0f}{mib(r.peak_rss_sampled):>8}{mib(r.peak_rss_maxrss):>7}{rows:>12}"
              f"{r.output_bytes / MIB:>8.1f}  {r.note}{failed}")
        if r.exit_code:
            print("    stderr: " + r.stderr_tail.strip().replace("\n", "\n            ")[-800:])


def run_dict(run: Run | None) -> dict[str, Any] | None:
    if run is None:
        return None
    data = asdict(run)
    data["peak_rss"] = run.peak_rss
    data["lines_per_cpu_s"] = run.lines_per_cpu_s
    return data


def machine_info() -> dict[str, Any]:
    import duckdb

    try:
        import psutil

        memory = psutil.virtual_memory().total
    except ImportError:  # pragma: no cover - psutil is a test dependency
        memory = None
    return {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "memory_bytes": memory,
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pyarrow": pa.__version__,
        "goaccess": goaccess_version(),
        "loadavg_start": list(os.getloadavg()),
    }


@dataclass
class Results:
    machine: dict[str, Any]
    params: dict[str, Any]
    generated: dict[str, Any] | None = None
    squid: dict[str, Any] = field(default_factory=dict)
    formats: list[dict[str, Any]] = field(default_factory=list)
    targets: dict[str, float] = field(default_factory=lambda: dict(TARGETS))


# --------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------


def parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)i?[bB]?\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 500M, 5G)")
    scale = {"": 1, "k": 1024, "m": MIB, "g": 1024 * MIB}[match.group(2).lower()]
    return int(float(match.group(1)) * scale)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=10_000_000, help="Squid lines to generate (default 10M).")
    parser.add_argument("--size", type=parse_size, help="Generate about this many bytes instead (e.g. 5G).")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "shadow-ai-bench",
                        help="Working directory; results go to OUT/ingest-results.json.")
    parser.add_argument("--keep", action="store_true", help="Keep the generated logs and the lakes.")
    parser.add_argument("--formats", default="all",
                        help="Registry formats to cover from their samples: all, none, or a comma list.")
    parser.add_argument("--format-lines", type=int, help="Lines per format file (default: --lines).")
    parser.add_argument("--repeat", type=int, default=1, help="Runs per tool; the fastest is reported.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, default=7, help="Days the generated traffic spans.")
    parser.add_argument("--no-regex", action="store_true", help="Skip the DuckDB regex reference run.")
    parser.add_argument("--per-sample", action="store_true",
                        help="Cover every sample of a format (e.g. Zeek TSV and JSON), not only its richest one.")
    parser.add_argument("--timeout", type=int, default=3600, help="Kill a tool run after this many seconds.")
    args = parser.parse_args(argv)
    if args.lines <= 0 or args.repeat <= 0 or args.days <= 0:
        parser.error("--lines, --repeat and --days must be positive")
    return args


def select_formats(spec: str) -> list[str]:
    if spec.strip().lower() in ("", "none"):
        return []
    from detector.ingest import FORMATS

    if spec.strip().lower() == "all":
        return [key for key in FORMATS if sample_files(key)]
    wanted = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [k for k in wanted if k not in FORMATS]
    if unknown:
        raise SystemExit(f"unknown format(s) {', '.join(unknown)}; known: {', '.join(FORMATS)}")
    return wanted


def bench_squid(args: argparse.Namespace, results: Results) -> None:
    out: Path = args.out
    log = out / "squid-native.log"
    print(f"generating {'~' + mib(args.size) + ' MiB' if args.size else f'{args.lines:,} lines'} "
          f"of Squid native into {log} ...", flush=True)
    gen = generate_squid(log, args.lines, args.seed, args.days, args.size)
    results.generated = asdict(gen)
    print(f"  {gen.lines:,} lines, {mib(gen.bytes)} MiB in {gen.seconds:.1f} s "
          f"({gen.lines / gen.seconds:,.0f} lines/s)", flush=True)

    work = out / "squid"
    lines, size = gen.lines, gen.bytes
    print("running shadow-ai ingest ...", flush=True)
    shadow = run_shadow_ai(log, work, lines, size, None, args.repeat, args.timeout)
    shadow.tool = "shadow-ai ingest"
    print("running DuckDB (string split) ...", flush=True)
    duck = run_duckdb("duckdb-split", squid_split_sql(log, work / "duckdb.parquet"), work / "duckdb.parquet",
                      work, lines, size, args.repeat, args.timeout)
    duck_runs = [duck]
    if not args.no_regex:
        print("running DuckDB (regex, reference) ...", flush=True)
        duck_runs.append(run_duckdb("duckdb-regex", squid_regex_sql(log, work / "duckdb.parquet"),
                                    work / "duckdb.parquet", work, lines, size, args.repeat, args.timeout))
    goaccess = None
    if shutil.which("goaccess"):
        print("running GoAccess ...", flush=True)
        goaccess = run_goaccess(log, work, lines, size, args.repeat, args.timeout)
    else:
        print("GoAccess not on PATH: skipped (apt-get install goaccess)", flush=True)

    runs = [shadow, *duck_runs, *([goaccess] if goaccess else [])]
    print_runs(f"Squid native: {lines:,} lines, {mib(size)} MiB", runs)
    best_duck = min(duck_runs, key=lambda r: r.wall_s)
    ok = shadow.exit_code == 0
    vs_duck = ratio(shadow.lines_per_s, best_duck.lines_per_s) if ok else None
    vs_split = ratio(shadow.lines_per_s, duck.lines_per_s) if ok else None
    vs_goaccess = ratio(shadow.lines_per_s, goaccess.lines_per_s) if ok and goaccess else None
    cpu_vs_duck = ratio(shadow.lines_per_cpu_s, best_duck.lines_per_cpu_s) if ok else None
    cpu_vs_goaccess = ratio(shadow.lines_per_cpu_s, goaccess.lines_per_cpu_s) if ok and goaccess else None
    regex_slowdown = ratio(duck_runs[1].wall_s, duck.wall_s) if len(duck_runs) > 1 else None
    print(f"\n  {'ratio':<40}{'wall':>7}{'by CPU':>8}  {'target':<9}verdict (on wall time)")
    print(f"  {'shadow-ai / best DuckDB (' + best_duck.tool + ')':<40}{fmt(vs_duck):>7}{fmt(cpu_vs_duck):>8}  "
          f"{'>= ' + str(TARGETS['shadow_ai_vs_duckdb']):<9}{verdict(vs_duck, TARGETS['shadow_ai_vs_duckdb'])}")
    print(f"  {'shadow-ai / GoAccess':<40}{fmt(vs_goaccess):>7}{fmt(cpu_vs_goaccess):>8}  "
          f"{'>= ' + str(TARGETS['shadow_ai_vs_goaccess']):<9}{verdict(vs_goaccess, TARGETS['shadow_ai_vs_goaccess'])}")
    print(f"  {'shadow-ai peak RSS, MiB':<40}{mib(shadow.peak_rss):>7}{'':>8}  {'< 1024':<9}"
          f"{verdict(shadow.peak_rss, TARGETS['peak_rss_bytes'], higher_is_better=False)}")
    if regex_slowdown:
        print(f"  {'DuckDB regex / split, wall time':<40}{fmt(regex_slowdown):>7}{'':>8}  (the issue quotes ~1.5)")
    if shadow.rows != lines:
        print(f"  WARNING: shadow-ai parsed {shadow.rows} of {lines} lines ({shadow.note})")
    for r in duck_runs:
        if r.rows != lines:
            print(f"  WARNING: {r.tool} wrote {r.rows} rows for {lines} lines")
    if goaccess and goaccess.rows != lines:
        print(f"  WARNING: GoAccess counted {goaccess.rows} valid requests for {lines} lines ({goaccess.note})")
    results.squid = {
        "log": str(log),
        "lines": lines,
        "bytes": size,
        "shadow_ai": run_dict(shadow),
        "duckdb": {r.tool: run_dict(r) for r in duck_runs},
        "goaccess": run_dict(goaccess),
        "ratios": {
            "shadow_ai_vs_duckdb": vs_duck,
            "shadow_ai_vs_duckdb_split": vs_split,
            "shadow_ai_vs_goaccess": vs_goaccess,
            "shadow_ai_vs_duckdb_by_cpu": cpu_vs_duck,
            "shadow_ai_vs_goaccess_by_cpu": cpu_vs_goaccess,
            "duckdb_regex_vs_split_wall": regex_slowdown,
            "best_duckdb": best_duck.tool,
        },
        "peak_rss_bytes": shadow.peak_rss,
        "verdicts": {
            "shadow_ai_vs_duckdb": verdict(vs_duck, TARGETS["shadow_ai_vs_duckdb"]),
            "shadow_ai_vs_goaccess": verdict(vs_goaccess, TARGETS["shadow_ai_vs_goaccess"]),
            "peak_rss": verdict(shadow.peak_rss, TARGETS["peak_rss_bytes"], higher_is_better=False),
        },
    }
    if not args.keep:
        log.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)


def bench_formats(args: argparse.Namespace, keys: list[str], results: Results) -> None:
    out: Path = args.out / "formats"
    out.mkdir(parents=True, exist_ok=True)
    target = args.format_lines or args.lines
    rows: list[tuple[FormatFile, Run, Run, float | None]] = []
    for key in keys:
        samples = parse_samples(key, out)
        if not samples:
            print(f"format {key}: no sample with events: skipped", flush=True)
            results.formats.append({"format": key, "skipped": "no sample with events"})
            continue
        chosen = samples if args.per_sample else [max(samples, key=lambda s: len(s.events))]
        for sample in chosen:
            built = build_format_file(sample, target, out)
            log = Path(built.path)
            work = out / log.stem
            print(f"format {key}: {built.sample} x{built.copies:,} = {built.lines:,} lines, {mib(built.bytes)} MiB "
                  f"...", flush=True)
            shadow = run_shadow_ai(log, work, built.lines, built.bytes, key, args.repeat, args.timeout)
            shadow.tool = f"shadow-ai --format {key}"
            parquet = work / "generic.parquet"
            duck = run_duckdb("duckdb-generic", generic_split_sql(log, parquet, built.layout), parquet, work,
                              built.lines, built.bytes, args.repeat, args.timeout)
            value = ratio(shadow.lines_per_s, duck.lines_per_s) if not shadow.exit_code else None
            rows.append((built, shadow, duck, value))
            types = ",".join(t[0] for t in built.layout.types)
            print_runs(f"{key} from {built.sample}: split on {built.layout.delimiter!r}, fields {types}",
                       [shadow, duck])
            results.formats.append({
                **asdict(built),
                "shadow_ai": run_dict(shadow),
                "duckdb_generic": run_dict(duck),
                "ratio": value,
                "verdict": verdict(value, TARGETS["format_vs_generic_duckdb"]),
            })
            if not args.keep:
                log.unlink(missing_ok=True)
                shutil.rmtree(work, ignore_errors=True)
    if rows:
        print(f"\nFormats from their samples (target shadow-ai / generic DuckDB >= "
              f"{TARGETS['format_vs_generic_duckdb']}):")
        print(f"  {'format':<20}{'sample':<28}{'lines':>11}{'shadow-ai l/s':>15}{'RSS MiB':>9}{'duckdb l/s':>12}"
              f"{'ratio':>7}  verdict")
        for built, shadow, duck, value in rows:
            state = verdict(value, TARGETS["format_vs_generic_duckdb"]) if not shadow.exit_code else \
                f"FAILED (exit {shadow.exit_code})"
            print(f"  {built.format:<20}{built.sample[:27]:<28}{built.lines:>11,}{shadow.lines_per_s:>15,.0f}"
                  f"{mib(shadow.peak_rss):>9}{duck.lines_per_s:>12,.0f}{fmt(value):>7}  {state}")
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)


def fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def compile_package() -> None:
    """Write the package's bytecode first, as an installed package has it: where PYTHONDONTWRITEBYTECODE
    is set (or the source tree is read-only) a child process would otherwise compile every module at
    each start (~0.1 s of CPU, measured), which no installed shadow-ai pays."""
    import detector

    compileall.compile_dir(Path(detector.__file__).parent, quiet=1)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    keys = select_formats(args.formats)
    results = Results(machine=machine_info(), params={
        k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
    })
    print(f"machine: {results.machine['cpus']} CPUs, load average {results.machine['loadavg_start'][0]:.2f}; "
          f"duckdb {results.machine['duckdb']}, goaccess {results.machine['goaccess'] or 'absent'}")
    compile_package()
    started = time.perf_counter()
    bench_squid(args, results)
    if keys:
        bench_formats(args, keys, results)
    results.machine["loadavg_end"] = list(os.getloadavg())
    results.machine["total_seconds"] = time.perf_counter() - started
    path = args.out / "ingest-results.json"
    path.write_text(json.dumps(asdict(results), indent=2, default=str) + "\n")
    print(f"\nresults: {path}  (load average at end {results.machine['loadavg_end'][0]:.2f}; "
          "figures from a busy machine are noise)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
