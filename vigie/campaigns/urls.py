from __future__ import annotations

from django.urls import path

from vigie.campaigns import link_views, views

urlpatterns = [
    path("", views.campaign_list, name="campaign_list"),
    path("nouvelle/", views.campaign_new, name="campaign_new"),
    path("lancer/", views.campaign_launch, name="campaign_launch"),
    path("<uuid:public_id>/", views.campaign_detail, name="campaign_detail"),
    path("<uuid:public_id>/pause/", views.campaign_pause, name="campaign_pause"),
    path("<uuid:public_id>/reprendre/", views.campaign_resume, name="campaign_resume"),
    path("<uuid:public_id>/relancer/", views.campaign_remind, name="campaign_remind"),
    path("<uuid:public_id>/reessayer/", views.campaign_retry, name="campaign_retry"),
    path("<uuid:public_id>/export/<str:fmt>/", views.campaign_export, name="campaign_export"),
    # A campaign e-mail's personal link: public pages, for the client (no sign-in).
    path("lien/<str:token>/", link_views.campaign_link, name="campaign_link"),
    path("lien/<str:token>/ouvert/", link_views.campaign_link_open, name="campaign_link_open"),
]
