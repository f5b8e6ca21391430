"""Mutation testing of the clinical logic: mapping numbers, comparators and value sets, and the engine's comparisons.

Each mutant changes one thing in a scratch copy of the project; the fast policy suite (tests/policy: offline
fixtures with their full expectations, pathways, value sets, kinds) then runs against it. A mutant is killed when
the suite fails. Two scores are reported: behaviour only (without the tests that compare data with data: the
pinned-number table and the value-set snapshot), and with them.

    python scripts/mutate.py [--jobs 2] [--limit N] [--only mapping|engine] [--match TEXT] [--sample N]
                             [--survivors-of LOG] [--behaviour-only]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import io
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tokenize
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_TESTS = ["tests/policy/test_pinned_numbers.py", "tests/policy/test_valuesets.py::"
              "test_value_sets_match_the_reviewed_snapshot"]
NUMBER_KEYS = ("min", "below", "max", "days", "months", "lookback_days", "min_days", "max_days", "min_interval_days",
               "max_count", "weight_below_kg", "gap_days", "current_within_days", "stale_days", "window_days",
               "from_week", "to_week", "threshold", "max_dose", "max_daily", "max_daily_per_m2", "ratio_low",
               "ratio_high", "max_dose_per_kg", "body_within_days")
NUMBER = re.compile(r"\b(" + "|".join(NUMBER_KEYS) + r"): (\d+(?:\.\d+)?)")
FLIP = {">=": ">", ">": ">=", "<=": "<", "<": "<="}


@dataclass(frozen=True)
class Mutant:
    file: str
    line: int
    before: str
    after: str
    kind: str

    def label(self) -> str:
        """File, line, kind and the changed text with some context (unique: --survivors-of matches on it)."""
        at = next((i for i, (a, b) in enumerate(zip(self.before, self.after, strict=False)) if a != b),
                  min(len(self.before), len(self.after)))
        lo = max(0, at - 40)
        return (f"{self.file}:{self.line} [{self.kind}] {self.before[lo:at + 30].strip()!r} -> "
                f"{self.after[lo:at + 30].strip()!r}")


def _numbers(value: str) -> list[str]:
    if re.fullmatch(r"\d+", value):
        n = int(value)
        return sorted({str(n + 1), str(max(n - 1, 0))} - {value})
    x = float(value)
    return [f"{x * 1.5:g}", f"{x * 0.5:g}"]


def mapping_mutants() -> list[Mutant]:
    out = []
    for path in sorted((ROOT / "mappings" / "policies").glob("*.yaml")):
        rel = str(path.relative_to(ROOT))
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if line.lstrip().startswith("#"):
                continue
            for m in NUMBER.finditer(line):
                for new in _numbers(m.group(2)):
                    mutated = line[:m.start(2)] + new + line[m.end(2):]
                    out.append(Mutant(rel, i, line, mutated, f"number {m.group(1)}"))
            for m in re.finditer(r'comparator: "(>=|<=|>|<)"', line):
                mutated = line[:m.start(1)] + FLIP[m.group(1)] + line[m.end(1):]
                out.append(Mutant(rel, i, line, mutated, "comparator"))
    for path in sorted((ROOT / "mappings" / "valuesets").glob("*.yaml")):
        rel = str(path.relative_to(ROOT))
        current = None
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if m := re.match(r"^  ([A-Z][A-Z0-9-]+):$", line):
                current = m.group(1)
            elif current and re.match(r"^      - \[(rxnorm|hcpcs|icd10cm|snomed|loinc|cpt|icd10pcs|ndc|nucc)", line):
                # Every code and prefix, one at a time (a drug dropped from an exclusion list, a code from a set).
                out.append(Mutant(rel, i, line, "", f"drop code from {current}"))
            elif current and re.match(r"^    include: \[", line):
                items = re.findall(r"[A-Z][A-Z0-9-]+", line.split(":", 1)[1])
                for item in items:
                    kept = [x for x in items if x != item]
                    out.append(Mutant(rel, i, line, f"    include: [{', '.join(kept)}]" if kept else "",
                                      f"drop include {item} from {current}"))
    return out


def engine_mutants() -> list[Mutant]:
    """Every comparison operator of the engine (tokens, so never text inside a string) and each *_DAYS constant."""
    out = []
    for path in sorted((ROOT / "cdshooks" / "policy").glob("*.py")):
        rel = str(path.relative_to(ROOT))
        text = path.read_text()
        lines = text.splitlines()
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.OP and tok.string in FLIP:
                (row, col), line = tok.start, lines[tok.start[0] - 1]
                mutated = line[:col] + FLIP[tok.string] + line[col + len(tok.string):]
                out.append(Mutant(rel, row, line, mutated, "comparison"))
        for i, line in enumerate(lines, 1):
            if m := re.match(r"^([A-Z_]+_DAYS) = (\d+)", line):
                for new in _numbers(m.group(2)):
                    out.append(Mutant(rel, i, line, f"{m.group(1)} = {new}", "constant"))
    return out


def run(mutant: Mutant, work: Path, deselect: list[str]) -> bool:
    target = work / mutant.file
    original = target.read_text()
    lines = original.splitlines()
    lines[mutant.line - 1] = mutant.after
    target.write_text("\n".join(lines) + "\n")
    try:
        args = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
                "tests/policy"] + [f"--deselect={d}" for d in deselect]
        done = subprocess.run(args, cwd=work, capture_output=True, timeout=300)
        return done.returncode != 0  # killed
    except subprocess.TimeoutExpired:
        return True
    finally:
        target.write_text(original)


def scratch() -> Path:
    work = Path(tempfile.mkdtemp(prefix="pa-mutation-"))
    for name in ("cdshooks", "mappings", "tests", "fhir_fixtures", "pyproject.toml"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, work / name)
    return work


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="run only the first N mutants (a quick look)")
    ap.add_argument("--only", choices=["mapping", "engine"])
    ap.add_argument("--match", default="", help="only mutants whose description contains this text")
    ap.add_argument("--sample", type=int, default=1, help="run every Nth mutant (a systematic sample)")
    ap.add_argument("--survivors-of", type=Path, default=None,
                    help="only the mutants a previous run's output (this script's stdout) reported SURVIVED")
    ap.add_argument("--behaviour-only", action="store_true",
                    help="skip re-running the survivors with the data pins (pinned numbers, value-set snapshot)")
    args = ap.parse_args()
    mutants = ([] if args.only == "engine" else mapping_mutants()) + ([] if args.only == "mapping" else
                                                                       engine_mutants())
    mutants = [m for m in mutants if args.match in m.label()][:: max(args.sample, 1)]
    if args.survivors_of:
        alive = {line.removeprefix("SURVIVED ").rstrip("\n") for line in args.survivors_of.read_text().splitlines()
                 if line.startswith("SURVIVED ")}
        mutants = [m for m in mutants if m.label() in alive]
    if args.limit:
        mutants = mutants[: args.limit]
    works = [scratch() for _ in range(args.jobs)]
    check = subprocess.run([sys.executable, "-c", "import cdshooks; print(cdshooks.__file__)"], cwd=works[0],
                           capture_output=True, text=True).stdout.strip()
    if not check.startswith(str(works[0])):
        print(f"error: the scratch copy does not import its own cdshooks ({check})", file=sys.stderr)
        return 2
    # A suite that fails without any mutant (a missing dependency, a broken test) would count every mutant as
    # killed: refuse to score at all.
    baseline = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly", "-p",
                               "no:cacheprovider", "tests/policy"], cwd=works[0], capture_output=True, text=True)
    if baseline.returncode != 0:
        tail = (baseline.stdout + baseline.stderr).strip().splitlines()[-1:] or ["(no output)"]
        print(f"error: the policy suite fails before any mutation ({tail[0]}): run with the project's "
              "environment (e.g. PATH=.venv/bin:$PATH)", file=sys.stderr)
        return 2
    start = time.monotonic()
    survivors: list[Mutant] = []

    def job(i_m: tuple[int, Mutant]) -> tuple[Mutant, bool]:
        i, m = i_m
        killed = run(m, works[i % len(works)], DATA_TESTS)
        print(f"{'killed  ' if killed else 'SURVIVED'} {m.label()}", flush=True)
        return m, killed

    # Behaviour-only pass: one job per scratch copy at a time.
    with cf.ThreadPoolExecutor(max_workers=len(works)) as pool:
        pending = list(enumerate(mutants))
        results = []
        while pending:
            batch, pending = pending[: len(works)], pending[len(works):]
            batch = [(slot, m) for slot, (_, m) in enumerate(batch)]
            results += list(pool.map(job, batch))
    survivors = [m for m, killed in results if not killed]
    # Survivors against the whole policy suite (with the data pins).
    still = survivors if args.behaviour_only else [m for m in survivors if not run(m, works[0], [])]
    for w in works:
        shutil.rmtree(w, ignore_errors=True)
    n = len(mutants)
    scores = [("behaviour only", survivors)]
    if not args.behaviour_only:
        scores.append(("with the pinned numbers and value-set snapshot", still))
    for label, alive in scores:
        killed = n - len(alive)
        print(f"{label}: {killed}/{n} mutants killed ({100 * killed / max(n, 1):.1f} %)")
    by_kind: dict[str, list[int]] = {}
    for m, killed in results:
        k = "mapping" if m.file.startswith("mappings") else "engine"
        by_kind.setdefault(k, [0, 0])
        by_kind[k][0] += killed
        by_kind[k][1] += 1
    for k, (killed, total) in by_kind.items():
        print(f"  {k}: {killed}/{total} killed by behaviour")

    print(f"{time.monotonic() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
