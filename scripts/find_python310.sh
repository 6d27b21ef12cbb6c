#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter (Rasa 3.6 runs on 3.8-3.10 only).
# Looks at $PYTHON310, then PATH, then pyenv's versions; fails with what to install.
set -euo pipefail
is_310() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; }
candidates=()
[ -n "${PYTHON310:-}" ] && candidates+=("$PYTHON310")
command -v python3.10 >/dev/null 2>&1 && candidates+=("$(command -v python3.10)")
if command -v pyenv >/dev/null 2>&1; then
  for dir in "$(pyenv root)"/versions/3.10.*; do
    [ -x "$dir/bin/python" ] && candidates+=("$dir/bin/python")
  done
fi
for dir in "$HOME"/.pyenv/versions/3.10.* /usr/local/bin /usr/bin; do
  [ -x "$dir/bin/python" ] && candidates+=("$dir/bin/python")
  [ -x "$dir/python3.10" ] && candidates+=("$dir/python3.10")
done
for python in "${candidates[@]}"; do
  if is_310 "$python"; then echo "$python"; exit 0; fi
done
echo "error: Rasa 3.6 needs Python 3.10 and none was found." >&2
echo "Install it (e.g. 'pyenv install 3.10.13' or your system's python3.10 package)," >&2
echo "or point PYTHON310 at one: make run PYTHON310=/path/to/python3.10" >&2
exit 1
