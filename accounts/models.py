"""Who a user is in the product: a role and a scope (a region with everything below it, and
optionally a unit), the notices shown in the page header, and the user's API tokens."""

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from accounts.choices import NoticeLevel
from core.choices import Role
from core.models import Region, Unit


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="profile",
    )
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices, default=Role.VIEWER)
    region = models.ForeignKey(
        Region,
        verbose_name=_("管辖区划"),
        on_delete=models.PROTECT,
        related_name="profiles",
        help_text=_("可查看和办理该区划及其下级区划的事项"),
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("所属单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="profiles",
        help_text=_("联络员代表的责任单位（可选）"),
    )
    phone = models.CharField(_("联系电话"), max_length=32, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("用户角色与范围")
        verbose_name_plural = _("用户角色与范围")

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.region}"


class Notice(models.Model):
    """A reminder for one user (deadline near, falling behind pace, overdue)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="notices",
    )
    level = models.CharField(_("级别"), max_length=16, choices=NoticeLevel.choices)
    key = models.CharField(_("去重键"), max_length=128, help_text=_("同一事项只提醒一次"))
    text = models.CharField(_("内容"), max_length=255)
    url = models.CharField(_("链接"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("邮件发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("提醒")
        verbose_name_plural = _("提醒")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="notice_unique_key_per_user"),
        ]
        indexes = [models.Index(fields=["user", "read_at"], name="notice_user_unread_idx")]

    def __str__(self) -> str:
        return self.text


class ApiToken(models.Model):
    """A key for the REST API (``Authorization: Token <key>``), one of several a user may
    hold. The key itself is shown once, when it is made; the database keeps its SHA-256
    digest only (a key has 160 random bits, so a fast hash is enough) and the first
    characters to tell tokens apart. Each token ends at ``expires``
    (settings.API_TOKEN_TTL_DAYS after creation); all of a user's tokens end when the
    password changes or the account is deactivated (accounts.signals)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    digest = models.CharField(_("摘要"), max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        _("前缀"), max_length=8, editable=False, help_text=_("令牌的前 8 位，用于辨认")
    )
    created = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)
    expires = models.DateTimeField(_("到期时间"))
    last_used = models.DateTimeField(_("最近使用"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API 访问令牌")
        verbose_name_plural = _("API 访问令牌")
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.prefix}…"

    @staticmethod
    def digest_of(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    def is_expired(self, now=None) -> bool:
        return self.expires <= (now or timezone.now())
