from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import ApiToken, Notice
from core.services import ServiceError


class LoginPage(auth_views.LoginView):
    """Django's log-in page, with the "forgot password" link when reset by e-mail is on."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["password_reset_by_email"] = settings.PASSWORD_RESET_BY_EMAIL
        return context


def notice_list(request):
    notices = Notice.objects.filter(user=request.user).order_by("read_at", "-created_at")[:200]
    return render(request, "accounts/notice_list.html", {"notices": notices})


@require_POST
def notices_mark_read(request):
    Notice.objects.filter(user=request.user, read_at__isnull=True).update(read_at=timezone.now())
    return redirect("accounts:notice_list")


def api_token(request):
    """The user's own API tokens: the list (created, expires, last used — never the keys), a
    new one (its key shown once, on this answer only), revoke one or all of them."""
    from accounts.services import issue_api_token, revoke_api_token

    new_token = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            raw = request.POST.get("token", "").strip()
            if raw and not raw.isdigit():
                messages.error(request, _("未找到要撤销的令牌"))
            elif raw:
                if revoke_api_token(request.user, int(raw)):
                    messages.success(request, _("访问令牌已撤销，使用它的系统将无法再访问"))
                else:
                    messages.error(request, _("该令牌不存在或已被撤销"))
            else:
                count = revoke_api_token(request.user)
                messages.success(
                    request,
                    _("已撤销全部 %(count)s 个访问令牌，使用它们的系统将无法再访问")
                    % {"count": count},
                )
            return redirect("accounts:api_token")
        try:
            new_token = issue_api_token(request.user)
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("已生成新的访问令牌，有效期至 %(expires)s。请立即复制保存，离开本页后不再显示")
                % {"expires": f"{timezone.localtime(new_token.expires):%Y-%m-%d %H:%M}"},
            )
    context = {
        "tokens": ApiToken.objects.filter(user=request.user),
        "new_token": new_token,
        "now": timezone.now(),
        "ttl_days": settings.API_TOKEN_TTL_DAYS,
    }
    return render(request, "accounts/api_token.html", context)
