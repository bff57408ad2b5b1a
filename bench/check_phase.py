"""`shixian start`'s check phase alone (issue #12), by hand:

    .venv/bin/python bench/check_phase.py [--projects 10000] [--rounds 2]

Before it starts anything, `shixian start` checks every row and document of its files and
builds each workflow input (`_prepare_all`), with the cyclic collector held off as the
command holds it. This times that phase's CPU on N copies of the example 九江 projects (the
file `bench/scale.py --only start10k` starts), and the one collection after it. No
Temporal server is needed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--projects", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()

    from bench.scale import projects_yaml
    from shixian.commands.projects import _inputs_kept_out_of_collections, _prepare_all

    path = projects_yaml(Path(tempfile.mkdtemp(prefix="check-phase-")) / "p.yaml",
                         args.projects, "C")
    for r in range(1, args.rounds + 1):
        with _inputs_kept_out_of_collections() as built:
            t0 = time.process_time()
            inputs, _ = _prepare_all([path], frozenset({"expired"}))
            t1 = time.process_time()
            built()
            t2 = time.process_time()
        print(f"round {r}: {len(inputs)} projects checked in {t1 - t0:.2f} s of CPU "
              f"({(t1 - t0) / len(inputs) * 1000:.2f} ms each); the collection after it "
              f"{t2 - t1:.2f} s", flush=True)
        del inputs


if __name__ == "__main__":
    main()
