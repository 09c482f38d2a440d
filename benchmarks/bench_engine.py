"""Engine benchmark: ingest throughput, cold and warm question latency, embedding speed, memory.

    python benchmarks/bench_engine.py [--corpus ../shared/corpus] [--embedder auto] [--db /tmp/bench.db]

Prints figures; asserts nothing (targets live here, never in timed tests). With an existing --db the ingest
is skipped unless --reingest is given.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = [
    "how does akash's take rate work?",
    "what % of a subnet's emissions does the subnet owner get?",
    "what quorum does a final RNP vote need?",
    "how many rao are in one tao?",
    "what happens when a deployment's escrow runs out?",
    "which GPU models can I request in an SDL?",
    "what is burn-and-mint equilibrium on Render?",
    "who validates the subtensor chain?",
]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    parser.add_argument("--embedder", default="auto")
    parser.add_argument("--db", default="/tmp/compute-desk-bench.db")
    parser.add_argument("--reingest", action="store_true")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.environ["COMPUTE_DESK_EMBEDDER"] = args.embedder
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(ROOT))
    from knowledge.config import load_settings
    from knowledge.embed import get_embedder, memo_for
    from knowledge.engine import Engine

    db = Path(args.db)
    if args.reingest:
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
    engine = Engine(load_settings(db_path=db, embedder=args.embedder))
    print(f"embedder: {args.embedder}  db: {db}")

    if not engine.store.conn.execute("SELECT 1 FROM documents LIMIT 1").fetchone():
        started = time.perf_counter()
        report = engine.ingest([args.corpus], actor="bench")
        seconds = time.perf_counter() - started
        chunks = sum(i.chunks for i in report.items)
        print(f"ingest: {report.summary()} in {seconds:.1f} s -> {report.count('added') / seconds:.1f} docs/s, "
              f"{chunks / seconds:.1f} chunks/s; peak RSS {rss_mb():.0f} MB")
        started = time.perf_counter()
        again = engine.ingest([args.corpus], actor="bench")
        print(f"re-ingest unchanged: {again.count('unchanged')} unchanged in {time.perf_counter() - started:.1f} s")
    stats = engine.stats()
    print(f"knowledge base: {stats['documents']} documents, {stats['chunks']} chunks; "
          f"db file {db.stat().st_size / 2**20:.1f} MB")

    embedder = get_embedder(args.embedder)
    embedder.encode(["warm up"])
    times = []
    for q in QUESTIONS * 3:
        t = time.perf_counter()
        embedder.encode([q])
        times.append((time.perf_counter() - t) * 1000)
    print(f"query embedding: p50 {statistics.median(times):.1f} ms, p99 {pct(times, 99):.1f} ms")
    batch = [f"passage number {i} about leases, providers, subnets and emissions " * 8 for i in range(256)]
    t = time.perf_counter()
    embedder.encode(batch)
    print(f"passage embedding: {256 / (time.perf_counter() - t):.0f} passages/s (~100 words each)")

    # A new question embeds the sentences of its passages; asked again (or another question on the same
    # pages) it finds them in the sentence-vector memo. Both are measured, the memo emptied for the first.
    memo = memo_for(engine.embedder)
    for mode in ("hybrid", "bm25", "dense"):
        engine.ask(QUESTIONS[0], retriever=mode, log_gap=False)
        new, again = [], []
        for _ in range(args.rounds):
            for q in QUESTIONS:
                memo.clear()
                t = time.perf_counter()
                engine.ask(q, retriever=mode, log_gap=False)
                new.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                engine.ask(q, retriever=mode, log_gap=False)
                again.append((time.perf_counter() - t) * 1000)
        print(f"warm ask ({mode}), new question: p50 {statistics.median(new):.0f} ms, p99 {pct(new, 99):.0f} ms;"
              f" asked again: p50 {statistics.median(again):.0f} ms, p99 {pct(again, 99):.0f} ms"
              f" ({len(new)} each)")
    print(f"peak RSS of this process: {rss_mb():.0f} MB")

    cold = []
    for q in QUESTIONS[:3]:
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "bot.cli", "--db", str(db), "ask", "--json", q],
                             capture_output=True, text=True, cwd=ROOT, env=dict(os.environ))
        cold.append(time.perf_counter() - t)
        if out.returncode != 0:
            print("cold ask failed:", out.stderr.strip()[-300:])
        else:
            json.loads(out.stdout)
    print(f"cold `compute-desk ask` (new process, model load included): "
          f"{', '.join(f'{c:.2f}' for c in cold)} s")


if __name__ == "__main__":
    main()
