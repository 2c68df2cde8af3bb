"""The application mounted under /autre/ (tests/test_routes.py)."""

from django.urls import include, path

urlpatterns = [path("autre/", include("vigie.urls"))]
