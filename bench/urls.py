"""The application's URLs plus the bench-only admin sites."""

from __future__ import annotations

from django.urls import path

from bench.admin import site10, site100
from vigie.urls import urlpatterns as app_urlpatterns

urlpatterns = [
    path("bench-admin-10/", site10.urls),
    path("bench-admin-100/", site100.urls),
    *app_urlpatterns,
]
