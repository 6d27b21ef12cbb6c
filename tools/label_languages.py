"""Labels every intent block in data/nlu/<lang>/ with `metadata: {language: <lang>}`.

The language detector learns from these labels. Run after adding NLU files:
`python -m tools.label_languages` (idempotent; tests check every block is labelled).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INTENT_LINE = re.compile(r"^- intent: .+$")


def label_file(path: Path, language: str) -> bool:
    """Insert the language metadata under each intent that lacks it; True if changed."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[str] = []
    changed = False
    for index, line in enumerate(lines):
        out.append(line)
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if INTENT_LINE.match(line) and not following.strip().startswith("metadata:"):
            out.extend(["  metadata:", f"    language: {language}"])
            changed = True
    if changed:
        path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return changed


def main() -> None:
    for language_dir in sorted((ROOT / "data" / "nlu").iterdir()):
        for path in sorted(language_dir.glob("*.yml")):
            if label_file(path, language_dir.name):
                print(f"labelled {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
