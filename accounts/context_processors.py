"""What every page's header shows: the menu for the user's role and unread notices."""

from django.urls import reverse

from accounts.choices import NoticeLevel
from accounts.models import Notice
from core.choices import Role
from core.scope import APPROVE, CHANGE, EXPORT, MANAGE_USERS, REPORT, can, role_of

LEVEL_BADGE = {
    NoticeLevel.DANGER: "danger",
    NoticeLevel.WARNING: "warning",
    NoticeLevel.INFO: "info",
}

# (url name, label, action the role needs)
MENU = [
    ("reports:home", "总览", None),
    ("reports:plan_list", "规划", None),
    ("stations:station_list", "消防站台账", None),
    ("targets:my_reports", "我的填报", REPORT),
    ("targets:review_inbox", "审核", APPROVE),
    ("reports:completeness", "填报完整性", (APPROVE, EXPORT)),
    ("reports:period_list", "填报期间", CHANGE),
    ("reports:excel_home", "Excel 导入导出", (REPORT, EXPORT)),
    ("accounts:user_list", "用户管理", MANAGE_USERS),
    ("core:job_list", "我的下载", (REPORT, EXPORT)),
]


def header(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    path = request.path
    items = []
    for name, label, action in MENU:
        actions = action if isinstance(action, tuple) else (action,)
        if action is not None and not any(can(user, a) for a in actions):
            continue
        try:
            url = reverse(name)
        except Exception:  # a page not installed yet
            continue
        items.append({"url": url, "label": label, "active": path == url})
    # One query: unread notices by level, worst first.
    levels = list(
        Notice.objects.filter(user=user, read_at__isnull=True).values_list("level", flat=True)
    )
    worst = next((lvl for lvl in NoticeLevel.values[::-1] if lvl in levels), NoticeLevel.INFO)
    role = role_of(user)
    return {
        "nav_items": items,
        "unread_notices": len(levels),
        "unread_notice_level": LEVEL_BADGE[worst],
        "user_role_label": Role(role).label if role else "",
        "can_export": can(user, EXPORT),
    }
