"""Recall: what a run read, skipped and found, for the progress line and the summary.

Standard library and ``recall.lines`` only. Each engine fills a ``Tally`` per
piece of work and adds them up, so both report the same counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .lines import Problem
from .patient import PatientResult

EXAMPLES_PER_PROBLEM = 5  # one line each on stderr; the rest are counted


@dataclass(slots=True)
class Tally:
    lines: int = 0
    patients: int = 0  # Patient resources read
    evaluated: int = 0  # patients run through patient-view
    with_rows: int = 0
    rows: int = 0
    calendars: int = 0
    problems: Counter[Problem] = field(default_factory=Counter)
    examples: dict[Problem, list[tuple[str, int, str]]] = field(default_factory=dict)

    def problem(self, problem: Problem, file: str, line: int, detail: str) -> None:
        self.problems[problem] += 1
        shown = self.examples.setdefault(problem, [])
        if len(shown) < EXAMPLES_PER_PROBLEM:
            shown.append((file, line, detail))

    def patient(self, result: PatientResult) -> None:
        """Count one patient's outcome."""
        self.evaluated += result.evaluated
        self.with_rows += bool(result.rows)
        self.rows += len(result.rows)
        self.calendars += result.calendar is not None
        for problem, (file, line), detail in result.problems:
            self.problem(problem, file, line, detail)

    def relocate(self, where: dict[int, tuple[str, int]]) -> None:
        """Turn (chunk index, line in chunk) examples into (file, line in file)."""
        for shown in self.examples.values():
            for i, (chunk, line, detail) in enumerate(shown):
                if chunk.isdigit():
                    name, before = where[int(chunk)]
                    shown[i] = (name, before + line, detail)

    def add(self, other: Tally) -> None:
        self.lines += other.lines
        self.patients += other.patients
        self.evaluated += other.evaluated
        self.with_rows += other.with_rows
        self.rows += other.rows
        self.calendars += other.calendars
        for problem, count in other.problems.items():
            self.problems[problem] += count
            shown = self.examples.setdefault(problem, [])
            shown.extend(other.examples.get(problem, [])[: EXAMPLES_PER_PROBLEM - len(shown)])

    def problem_lines(self) -> list[str]:
        """One line per example problem, in file and line order."""
        out = []
        for problem in Problem:
            for file, line, detail in sorted(self.examples.get(problem, [])):
                where = f"{file}:{line}: " if file and line else f"{file}: " if file else ""
                out.append(f"{where}{problem.value}" + (f" ({detail})" if detail else ""))
            more = self.problems[problem] - len(self.examples.get(problem, []))
            if more > 0:
                out.append(f"... and {more:,} more: {problem.value}")
        return out

    def summary(self, seconds: float) -> str:
        skipped = ", ".join(f"{n:,} {p.value}" for p, n in self.problems.items() if n) or "none"
        rate = self.evaluated / seconds if seconds > 0 else 0.0
        return (
            f"{self.evaluated:,} patients evaluated ({self.lines:,} lines) in {seconds:.1f} s "
            f"({rate:,.0f} patients/s): {self.rows:,} actions for {self.with_rows:,} patients; "
            f"problems: {skipped}"
        )
