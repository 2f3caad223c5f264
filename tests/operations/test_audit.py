"""
.ci/audit.py, the pip-audit step of .ci/run: a known vulnerability fails the run, a clean report
passes, and packages the service could not be asked about are reported as NOT AUDITED (an error
under AUDIT_STRICT=1), never as "no known vulnerabilities". pip-audit is replaced by a stand-in
script that writes the report a real run would, so these run without the vulnerability service.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

AUDIT = Path(settings.BASE_DIR) / ".ci" / "audit.py"


def run_audit(tmp_path, reports: dict[str, dict | None], strict=False):
    """Runs .ci/audit.py with a stand-in pip-audit that answers each service ("pypi", "osv")
    with the given report, or fails as if unreachable when it is None."""
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(reports))
    stand_in = tmp_path / "pip-audit"
    stand_in.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"answers = json.load(open({str(answers)!r}))\n"
        "args = sys.argv[1:]\n"
        "report = answers[args[args.index('--vulnerability-service') + 1]]\n"
        "if report is None:\n"
        "    sys.exit('requests.exceptions.ConnectionError: cannot resolve the host')\n"
        "open(args[args.index('--output') + 1], 'w').write(json.dumps(report))\n"
    )
    stand_in.chmod(0o755)
    env = {**os.environ, "PIP_AUDIT_BIN": str(stand_in), "AUDIT_STRICT": "1" if strict else ""}
    done = subprocess.run(
        [sys.executable, str(AUDIT)], capture_output=True, text=True, env=env, timeout=60
    )
    return done.returncode, done.stdout


def clean(*names):
    return {"dependencies": [{"name": n, "version": "1.0", "vulns": []} for n in names]}


def skipped(*names):
    reason = "Dependency not found on PyPI and could not be audited"
    return {"dependencies": [{"name": n, "skip_reason": f"{reason}: {n}"} for n in names]}


def test_a_clean_report_passes_and_says_how_many_were_audited(tmp_path):
    code, out = run_audit(tmp_path, {"pypi": clean("django", "openpyxl"), "osv": None})
    assert code == 0
    assert "2 locked packages audited, no known vulnerability" in out


def test_a_known_vulnerability_fails_with_its_id_and_fix(tmp_path):
    report = clean("openpyxl")
    report["dependencies"].append(
        {
            "name": "django",
            "version": "5.2.1",
            "vulns": [{"id": "PYSEC-2025-1", "fix_versions": ["5.2.2"], "description": "x"}],
        }
    )
    code, out = run_audit(tmp_path, {"pypi": report, "osv": None})
    assert code == 1
    assert "VULNERABLE django==5.2.1: PYSEC-2025-1 (fixed in: 5.2.2)" in out


@pytest.mark.parametrize("strict", [False, True])
def test_packages_nobody_could_audit_are_named_and_fail_only_when_strict(tmp_path, strict):
    code, out = run_audit(tmp_path, {"pypi": skipped("django", "redis"), "osv": None}, strict)
    assert "NOT AUDITED: 2 of 2 locked packages" in out
    assert "no known vulnerability" not in out
    assert code == (1 if strict else 0)


def test_the_second_service_audits_what_the_first_could_not(tmp_path):
    osv = clean("django", "redis")
    osv["dependencies"][1]["vulns"] = [{"id": "GHSA-xxxx", "fix_versions": []}]
    code, out = run_audit(tmp_path, {"pypi": skipped("django", "redis"), "osv": osv}, True)
    assert code == 1
    assert "VULNERABLE redis==1.0: GHSA-xxxx (fixed in: none yet)" in out
    assert "NOT AUDITED" not in out
