from django.conf import settings

from livelihood.plan.models import Milestone
from livelihood.reporting.models import MonthlyReport


def portal(request):
    """What every page shows: the 演示数据 banner while generated demo data exists, and the
    thresholds the method text names."""

    def demo_data():
        return (
            MonthlyReport.objects.filter(is_demo=True).exists()
            or Milestone.objects.filter(is_demo=True).exists()
        )

    # A callable: templates call it only where they show the banner.
    return {
        "demo_data": demo_data,
        "tolerance_points": settings.PROGRESS_TOLERANCE_POINTS,
        "due_day": settings.REPORT_DUE_DAY,
    }
