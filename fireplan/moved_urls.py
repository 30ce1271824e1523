"""Page addresses that moved (README, 页面地址 URLs): each old address answers with a permanent
redirect to the page's address now, with the same path parameters and query string, so
bookmarks and links in old e-mails keep working. GET and HEAD get 301; other methods 308,
which keeps the method and body (a form sent from a page opened before the move still
arrives; its CSRF token is checked on the way, as on every POST). No login needed: the
redirect shows nothing but the new address, and the page there asks for the login.

Namespace ``moved``; each pattern is named like the page it leads to (``moved:report_edit``
→ ``targets:report_edit``). tests/test_moved_urls.py walks every one of them."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path
from django.views.generic import RedirectView

app_name = "moved"


class Moved(RedirectView):
    permanent = True
    query_string = True

    def post(self, request, *args, **kwargs):
        response = self.get(request, *args, **kwargs)
        if response.status_code == 301:
            response.status_code = 308  # Permanent Redirect: same method, same body
        return response

    put = patch = delete = post


def moved(old: str, new: str):
    """``old`` (a route) now at the page named ``new`` ("app:name")."""
    return path(old, login_not_required(Moved.as_view(pattern_name=new)), name=new.split(":")[1])


urlpatterns = [
    # /reports/ → /reporting/: the reporting workflow (我的填报, 审核, a report and its actions)
    moved("reports/my/", "targets:my_reports"),
    moved("reports/review/", "targets:review_inbox"),
    moved("reports/review/approve/", "targets:reports_bulk_approve"),
    moved("reports/<int:target_id>/<int:region_id>/<str:period>/", "targets:report_edit"),
    moved("reports/<int:pk>/submit/", "targets:report_submit"),
    moved("reports/<int:pk>/approve/", "targets:report_approve"),
    moved("reports/<int:pk>/return/", "targets:report_return"),
    moved("reports/<int:pk>/reopen/", "targets:report_reopen"),
    # /planning-office/ → /reporting/: completeness (填报完整性), reporting periods (填报期间)
    moved("planning-office/completeness/", "reports:completeness"),
    moved("planning-office/periods/", "reports:period_list"),
    moved("planning-office/periods/open/", "reports:period_open"),
    moved("planning-office/periods/<int:pk>/exception/", "reports:lock_exception_grant"),
    # /plans/regions/, /plans/units/ → /regions/, /units/
    moved("plans/regions/<int:pk>/", "reports:region_detail"),
    moved("plans/units/<int:pk>/", "reports:unit_detail"),
]
