"""Secrets scan of the repository (OPS-60): fails on any hit that `.secrets.baseline` does not mark reviewed.

Scans every tracked file and every new file git does not ignore, with the plugins and filters the
baseline records (`.ci/secrets_filters.py` holds the deliberate exceptions). A hit passes only when
the baseline has it with `"is_secret": false`, that is, someone looked at it and recorded it as not
a secret; a new hit, or one marked as a real secret, fails the run.

    .venv/bin/python .ci/secrets_check.py           # check (make security, CI)
    .venv/bin/python .ci/secrets_check.py --update  # rescan into the baseline, keeping the reviews;
                                                    # then review new hits: detect-secrets audit .secrets.baseline
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / ".secrets.baseline"
DETECT_SECRETS = Path(sys.executable).parent / "detect-secrets"
# Generated or third-party files: nothing of ours to review there.
SKIPPED_PREFIXES = (".venv/", "node_modules/", "staticfiles/", "tests/sso/node_modules/")


def files_to_scan() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],  # noqa: S607  (git from PATH, fixed argv)
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    names = {name for name in listed.split("\0") if name}
    return sorted(
        name
        for name in names
        if name != BASELINE.name and not name.startswith(SKIPPED_PREFIXES) and (ROOT / name).is_file()
    )


def rescan(into: Path) -> dict:
    """Scan into a copy of the baseline: detect-secrets keeps the reviews of hits it finds again."""
    subprocess.run(  # noqa: S603  (fixed argv: the venv's detect-secrets and our own file names)
        [str(DETECT_SECRETS), "scan", "--baseline", str(into), *files_to_scan()],
        cwd=ROOT,
        check=True,
    )
    return json.loads(into.read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="write the rescan into .secrets.baseline")
    args = parser.parse_args()
    if not BASELINE.exists():
        print(f"secrets scan: FAILED ({BASELINE.name} is missing)")
        return 1
    with tempfile.TemporaryDirectory(prefix="secrets-scan-") as tmp:
        scanned = Path(tmp) / "baseline.json"
        shutil.copyfile(BASELINE, scanned)
        try:
            result = rescan(scanned)
        except (OSError, subprocess.CalledProcessError) as exc:
            print(f"secrets scan: FAILED (detect-secrets did not run: {exc})")
            return 1
        if args.update:
            shutil.copyfile(scanned, BASELINE)
    hits = [(name, hit) for name, found in sorted(result["results"].items()) for hit in found]
    unreviewed = [(name, hit) for name, hit in hits if hit.get("is_secret") is not False]
    for name, hit in unreviewed:
        verdict = "marked as a real secret" if hit.get("is_secret") else "not reviewed"
        print(f"  {name}:{hit['line_number']}: {hit['type']} ({verdict})")
    if unreviewed:
        print(
            f"secrets scan: FAILED ({len(unreviewed)} hit(s) to deal with: remove the secret and rotate it, or run "
            f"`.ci/secrets_check.py --update` and mark false positives in `detect-secrets audit {BASELINE.name}`)"
        )
        return 1
    print(f"secrets scan: passed ({len(hits)} reviewed false positive(s) in {BASELINE.name})")
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
