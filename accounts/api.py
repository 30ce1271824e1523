"""POST /api/v1/auth/token/: a user name and password for a new API token (with its expiry),
for programs that cannot open the token page (/accounts/token/). Goes through django-axes
like the login page: failures count towards the lock-out and slow the next tries down
(core.security), a refused or locked-out pair is 429 with Retry-After. An unknown user, a
wrong password and an inactive user get the same answer."""

from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.services import issue_api_token
from core.security import lockout_response

INVALID_CREDENTIALS = gettext_lazy("用户名或密码不正确")


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(label="用户名", max_length=150)
    password = serializers.CharField(
        label="密码", max_length=4096, trim_whitespace=False, style={"input_type": "password"}
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        label="访问令牌", help_text="请求时放在请求头 Authorization: Token <令牌> 中"
    )
    expires = serializers.DateTimeField(
        label="到期时间", help_text="此后该令牌回答 401 token_expired，需重新获取"
    )


class ObtainTokenView(APIView):
    # No session and no token here: the credentials are the body (and no CSRF is needed).
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="auth_token_create",
        tags=["auth"],
        summary="用用户名和密码换取访问令牌",
        description=(
            "每次返回一个新的访问令牌及其到期时间（有效期 API_TOKEN_TTL_DAYS 天，默认 30 天；"
            "请保存复用，每个用户最多 20 个有效令牌，超出回答 400 too_many_tokens）。"
            "在“API 访问令牌”页面可查看和撤销令牌；修改或重置密码、停用账号后令牌全部失效。"
            "用户名不存在、密码错误或账号停用时同样回答 400 invalid_credentials；"
            "同一用户名和地址连续失败 3 次后须等待数秒才能再试（429 slow_down），"
            "达到上限后回答 429 locked_out；Retry-After 为需等待的秒数。"
        ),
        auth=[],
        request=TokenRequestSerializer,
        # 400 and 429 get the shared error body from core.api_schema.
        responses={200: TokenSerializer},
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # Django's request: django-axes records the attempt on it and flags a lock-out.
        django_request = request._request
        user = authenticate(
            django_request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if getattr(django_request, "axes_locked_out", False):
            return lockout_response(django_request)
        if user is None:
            body = {"code": "invalid_credentials", "message": str(INVALID_CREDENTIALS)}
            return Response(body, status=400)
        token = issue_api_token(user)  # a ServiceError (too_many_tokens) → 400 with its code
        return Response(TokenSerializer({"token": token.key, "expires": token.expires}).data)
