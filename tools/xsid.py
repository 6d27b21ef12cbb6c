"""Reads the xSID benchmark's CoNLL files (../shared/benchmarks/xsid/)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Text

XSID_DIR = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "xsid"


@dataclass(frozen=True)
class Utterance:
    text: Text
    intent: Text
    dialect: Optional[Text]


def read_conll(path: Path) -> List[Utterance]:
    """One Utterance per CoNLL block, from its `# text`, `# intent`, `# dialect` lines."""
    utterances: List[Utterance] = []
    fields: dict = {}
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if line.startswith("# ") and " = " in line:
            key, value = line[2:].split(" = ", 1)
            fields[key.strip()] = value.strip()
        elif not line.strip() and fields:
            if "text" in fields and "intent" in fields:
                utterances.append(
                    Utterance(fields["text"], fields["intent"], fields.get("dialect"))
                )
            fields = {}
    return utterances


def load_split(language: Text, split: Text, dialects: Optional[set] = None) -> List[Utterance]:
    """da or no, valid or test; for Norwegian, only the given dialect codes (B = Bokmål)."""
    rows = read_conll(XSID_DIR / f"{language}.{split}.conll")
    if dialects is not None:
        rows = [row for row in rows if row.dialect in dialects]
    return rows
