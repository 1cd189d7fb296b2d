#!/usr/bin/env bash
# Creates bench/.venv-baselines with the pinned statsforecast stack of requirements-baselines.txt.
# forecast_accuracy.py runs the baselines in it as a subprocess (statsforecast needs pandas < 3,
# which the project's own venv cannot hold). Re-running is safe.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv-baselines"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements-baselines.txt"
"$venv/bin/python" -c "import statsforecast; print('statsforecast', statsforecast.__version__, 'in', '$venv')"
