"""``Authorization: Token <key>`` for the REST API (settings.REST_FRAMEWORK): the key's digest
looked up in accounts.ApiToken, with the user's profile in the same query (every request
needs it for the scope, core.scope). Wrong keys are throttled per address by the base class
(core.api_auth). An expired token is 401 ``token_expired``; a revoked or unknown one 401
``authentication_failed``."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions

from accounts.models import ApiToken
from core.api_auth import ThrottledTokenAuthentication

# ``last_used`` is written at most this often per token: not one UPDATE per API request.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


class TokenExpired(exceptions.AuthenticationFailed):
    default_code = "token_expired"
    default_detail = gettext_lazy("访问令牌已过期，请重新获取")


class ApiTokenAuthentication(ThrottledTokenAuthentication):
    model = ApiToken

    def authenticate_credentials(self, key):
        token = (
            ApiToken.objects.select_related("user__profile")
            .filter(digest=ApiToken.digest_of(key))
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed(_("访问令牌无效或已被撤销"))
        now = timezone.now()
        if token.is_expired(now):
            raise TokenExpired(
                _(
                    "访问令牌已于 %(time)s 过期，请在“API 访问令牌”页面或通过"
                    " POST /api/v1/auth/token/ 重新获取"
                )
                % {"time": f"{timezone.localtime(token.expires):%Y-%m-%d %H:%M}"}
            )
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("该用户已停用"))
        if token.last_used is None or now - token.last_used >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used=now)
            token.last_used = now
        return token.user, token
