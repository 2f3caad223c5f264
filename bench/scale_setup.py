"""
What the in-process benchmarks (bench/uncached.py, bench/warmup.py) share: the ten-year scale
data set opened with the settings production uses, and Django set up on it.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def add_arguments(parser) -> None:
    parser.add_argument("--sqlite", help="an existing SQLite file with the scale data")
    parser.add_argument("--database-url", help="an existing PostgreSQL database instead")
    parser.add_argument("--years", type=int, default=10)


def open_scale_data(args, settings: dict, prefix: str) -> None:
    """Point Django at the data set `args` names (--sqlite, --database-url), or at a new
    SQLite file that it migrates and fills with `generate_scale_data --years`; DEBUG off, a
    secret key, the host `testserver`, and `settings` (environment variables) above those.
    Then collectstatic (DEBUG off serves the hashed names) and `django.setup()`."""
    env = {
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-" + "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "testserver",
        **settings,
    }
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    else:
        path = args.sqlite
        if path is None:
            path = str(Path(tempfile.mkdtemp(prefix=prefix)) / "scale.sqlite3")
        env["SQLITE_PATH"] = path
    os.environ.update(env)
    manage = [sys.executable, str(ROOT / "manage.py")]
    if not args.sqlite and not args.database_url:
        subprocess.run([*manage, "migrate", "-v0"], check=True, cwd=ROOT)
        subprocess.run(
            [*manage, "generate_scale_data", "--years", str(args.years)], check=True, cwd=ROOT
        )
    subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], check=True, cwd=ROOT)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yaohai_portal.settings")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
