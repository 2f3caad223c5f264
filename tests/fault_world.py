"""
A portal in a temporary database, driven through `manage.py` in child processes, for the fault
tests (tests/operations/test_faults.py) and the fault scenarios (bench/faults.py): a process
can only be killed, or run out of disk, when it is a process of its own.

The world: one generated plan year (2000) with five approved months, a coordinator account and
a filled-in template for June, 100 items × 3 indicators × (district + 13 streets) = 4,200 rows
by default (IMPORT_MAX_ROWS is 5,000): big enough that the import writes for a second or more,
small enough to build in seconds.
"""

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable
USER = "office1"
MONTH = "2000-06"

FILL_TEMPLATE = """
import datetime, io, sys, openpyxl
from livelihood.data.import_templates import figure_template
from livelihood.models import Plan
data = figure_template(plan=Plan.objects.get(year=2000), month=datetime.date(2000, 6, 1), unit=None)
book = openpyxl.load_workbook(io.BytesIO(data))
sheet = book.active
columns = None
for cells in sheet.iter_rows():
    values = [cell.value for cell in cells]
    if columns is None:
        if "数值（本月）" in values:
            columns = {name: index for index, name in enumerate(values)}
        continue
    if not values[0]:
        continue
    # Each figure as last month's: a valid month whatever the indicator's kind.
    before = values[columns["上期已审核数值"]] or 0
    unit = values[columns["计量单位"]]
    cells[columns["数值（本月）"]].value = f"{before}%" if unit == "%" else before
book.save(sys.argv[-1])
"""

# What the home page of the world answers, asked in a process of its own.
HOME_STATUS = """
from django.test import Client
print(Client().get("/", HTTP_HOST="localhost").status_code)
"""


def environment(**variables) -> dict:
    """The environment of a child `manage.py`: this one's, without what points elsewhere."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SQLITE_PATH")
    }
    env.update({"DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1", "LOG_LEVEL": "WARNING"})
    env.update(variables)
    return env


def manage(env, *args, timeout=180, check=True, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **kwargs,
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done


def import_command(path) -> list[str]:
    return [PYTHON, "manage.py", "import_figures", str(path), "--month", MONTH, "--user", USER]


def build(env, directory: Path, *, items: int = 100) -> Path:
    """Migrate the database `env` names, generate the world in it; the June file's path."""
    manage(env, "migrate", "--noinput", "-v0")
    scale = ["--years", "1", "--items", str(items), "--months", "5", "--force"]
    manage(env, "generate_scale_data", *scale)
    manage(env, "create_unit_user", USER, "--coordinator", input="Office-fault-tests-2000\n")
    june = directory / "june.xlsx"
    manage(env, "shell", "-c", FILL_TEMPLATE.replace("sys.argv[-1]", repr(str(june))))
    return june


def home_status(env) -> int:
    done = manage(env, "shell", "-c", HOME_STATUS, check=False, timeout=60)
    lines = done.stdout.split()
    return int(lines[-1]) if lines and lines[-1].isdigit() else -1


# ------------------------------------------------------------------------------
# What the database holds: every table's row count and a digest of its rows
# ------------------------------------------------------------------------------
def sqlite_state(path) -> dict[str, tuple[int, str]]:
    # Read-only: opening must not checkpoint or change anything it is asked to describe.
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        return {table: _digest(connection.execute(f'SELECT * FROM "{table}"')) for table in tables}


def postgres_state(url) -> dict[str, tuple[int, str]]:
    import psycopg

    with psycopg.connect(url, connect_timeout=5) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        return {table: _digest(connection.execute(f'SELECT * FROM "{table}"')) for table in tables}


def _digest(rows) -> tuple[int, str]:
    """Order-independent: a row count and a digest of the sorted rows' text."""
    lines = sorted(repr(tuple(row)) for row in rows)
    return len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def changed(before: dict, after: dict) -> dict[str, tuple]:
    """The tables whose rows differ, with (before, after) counts."""
    return {
        table: (before.get(table, (0,))[0], after.get(table, (0,))[0])
        for table in sorted(set(before) | set(after))
        if before.get(table) != after.get(table)
    }
