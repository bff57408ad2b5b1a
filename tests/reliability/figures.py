"""The reliability suite's figures, printed at the end of the run (issue 9 §5)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Figures:
    tried: int = 0
    refused: int = 0
    recorded: int = 0
    wedged: list[str] = field(default_factory=list)
    kills: int = 0
    notices_expected: int = 0
    notices_found: int = 0
    notices_doubled: int = 0
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"bad inputs: {self.tried} cases tried, {self.refused} refused, "
               f"{self.recorded} recorded, {len(self.wedged)} wedged"
               + (f" ({', '.join(self.wedged)})" if self.wedged else ""),
               f"crashes: {self.kills} kills, notices {self.notices_expected} expected, "
               f"{self.notices_found} found, {self.notices_doubled} doubled"]
        return out + self.notes


FIGURES = Figures()
