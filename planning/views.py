from django.shortcuts import render

from .models import Plan


def home(request):
    """Plans in the user's scope (the overview dashboard replaces this list in issue 7)."""
    plans = (
        Plan.objects.for_user(request.user)
        .exclude(status="reference")
        .select_related("region")
        .order_by("region__name", "-start_year")
    )
    return render(request, "planning/home.html", {"plans": plans})
