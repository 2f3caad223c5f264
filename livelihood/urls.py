from django.urls import path

from . import views

app_name = "livelihood"

urlpatterns = [
    path("", views.home, name="home"),
    path("<int:year>/", views.home, name="plan-home"),
    path("<int:year>/items/<str:code>/", views.item_detail, name="item-detail"),
]
