"""Times the Python `mrz` package's checkers on the corpus the Rust bench wrote.

Usage: mrz_python.py CORPUS_DIR
Prints one JSON object: for td1 and td3, records, how many the checker called valid, and the
median seconds per record over several timed passes (single thread, like the Rust bench).
"""
import json
import statistics
import sys
import time
from pathlib import Path

from mrz.checker.td1 import TD1CodeChecker
from mrz.checker.td3 import TD3CodeChecker

CHECKERS = {"td1": TD1CodeChecker, "td3": TD3CodeChecker}
PASSES = 7


def main(corpus_dir: str) -> None:
    out = {}
    for name, checker in CHECKERS.items():
        text = (Path(corpus_dir) / f"{name}.txt").read_text()
        records = [r.strip() for r in text.split("\n\n") if r.strip()]
        valid = sum(1 for r in records if bool(checker(r)))
        times = []
        for _ in range(PASSES):
            start = time.perf_counter()
            for r in records:
                bool(checker(r))
            times.append((time.perf_counter() - start) / len(records))
        out[name] = {
            "records": len(records),
            "valid": valid,
            "median_s_per_record": statistics.median(times),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
