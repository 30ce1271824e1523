from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Notice


def notice_list(request):
    notices = Notice.objects.filter(user=request.user).order_by("read_at", "-created_at")[:200]
    return render(request, "accounts/notice_list.html", {"notices": notices})


@require_POST
def notices_mark_read(request):
    Notice.objects.filter(user=request.user, read_at__isnull=True).update(read_at=timezone.now())
    return redirect("accounts:notice_list")


def api_token(request):
    """The user's own API token: create (shown once), replace or revoke it."""
    from rest_framework.authtoken.models import Token

    from accounts.services import issue_api_token, revoke_api_token

    new_key = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            revoke_api_token(request.user)
            messages.success(request, _("访问令牌已撤销，使用它的系统将无法再访问"))
        else:
            new_key = issue_api_token(request.user)
            messages.success(
                request, _("已生成新的访问令牌，旧令牌随即失效。请立即复制保存，离开本页后不再显示")
            )
    existing = Token.objects.filter(user=request.user).first()
    return render(request, "accounts/api_token.html", {"token": existing, "new_key": new_key})
