"""
The admin of every concern. Django's admin autodiscovery imports this module; each concern's
`admin.py` registers its own models when imported.
"""

from livelihood.accounts import admin as accounts_admin  # noqa: F401
from livelihood.data import admin as data_admin  # noqa: F401
from livelihood.evaluation import admin as evaluation_admin  # noqa: F401
from livelihood.operations import admin as operations_admin  # noqa: F401
from livelihood.plan import admin as plan_admin  # noqa: F401
from livelihood.reporting import admin as reporting_admin  # noqa: F401
from livelihood.snapshots import admin as snapshots_admin  # noqa: F401
from livelihood.voice import admin as voice_admin  # noqa: F401
