from .models import MonthlyReport


def portal(request):
    """`demo_data`: True while generated demo reports exist, so every page says so."""
    return {"demo_data": MonthlyReport.objects.filter(is_demo=True).exists()}
