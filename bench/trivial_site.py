"""
The settings the benchmark's server runs with: the project's own, with one more address,
/bench/trivial (bench/trivial_urls.py), a view that does nothing but answer "ok".

It is the baseline issue 16 sets the cached pages against (≥ 0.8 × its requests/s): the
cheapest answer Django can give through the same middleware stack and the same gunicorn
settings. /healthz is close to it, but it is the project's own endpoint (`never_cache`, and
free to change); this one only ever measures Django, the middleware and gunicorn.
bench/run.py puts bench/ on PYTHONPATH and sets DJANGO_SETTINGS_MODULE=trivial_site.
"""

from yaohai_portal.settings import *  # noqa: F403

ROOT_URLCONF = "trivial_urls"
