"""Password reset by e-mail — off unless settings.PASSWORD_RESET_BY_EMAIL is on.

Off (the default): every reset URL answers 404 and admins reset passwords on the user page
(accounts.user_views.user_password). On:

- Requests are limited per client address (over the limit: 429 请稍后再试) and per account
  (over the limit no mail is sent — and the answer is the same, so the limit tells nothing).
- Known and unknown addresses get the same page in the same time: the request does the same
  work for both (looks the address up, renders the mail — for an unknown address a stand-in
  that is never sent) and hands the sending to a thread, so the SMTP round trip of a real
  mail is not in the answer's time either.
- The link is never logged: the mail's text is not, a failed send logs only the error's
  kind, and the link's token is cut out of the request's log lines (fireplan.logs).
- A new password ends the user's API tokens (accounts.signals) like any password change.

settings.py refuses to start with the flag on, DEBUG off and a mail backend that does not
send (the console backend would print working links into the server's log). In DEBUG the
console backend is fine: the link goes to the developer's own console.
"""

from __future__ import annotations

import logging
import threading
from functools import wraps

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.http import Http404
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from core.security import client_ip, rate_limit

logger = logging.getLogger(__name__)

# Threads still sending (tests wait for them: wait_for_mail).
_senders: list[threading.Thread] = []
_senders_lock = threading.Lock()


def enabled_only(view):
    """404 unless password reset by e-mail is on (read per request)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not settings.PASSWORD_RESET_BY_EMAIL:
            raise Http404(_("未开通邮件重置密码，请联系系统管理员重置"))
        return view(request, *args, **kwargs)

    return wrapped


def _send_all(messages: list[EmailMultiAlternatives]) -> None:
    for message in messages:
        try:
            message.send()
        except Exception as error:  # the text holds the link: log the kind of failure only
            logger.error("password reset mail not sent: %s", type(error).__name__)


def send_in_background(messages: list[EmailMultiAlternatives]) -> None:
    """Send on a thread of its own; started for no mail as well, so a known and an unknown
    address cost the request the same. Not a daemon: a worker that exits finishes it."""
    thread = threading.Thread(target=_send_all, args=(messages,), name="password-reset-mail")
    with _senders_lock:
        _senders[:] = [sender for sender in _senders if sender.is_alive()]
        _senders.append(thread)
    thread.start()


def wait_for_mail(timeout: float = 10) -> None:
    with _senders_lock:
        pending = list(_senders)
    for sender in pending:
        sender.join(timeout)


class ResetRequestForm(auth_forms.PasswordResetForm):
    email = forms.EmailField(
        label=_lazy("电子邮箱"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        """Django calls this for each matching user: the mail is built now, sent later."""
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        self.outgoing.append(EmailMultiAlternatives(subject, body, from_email, [to_email]))

    def save(self, **options):
        self.outgoing: list[EmailMultiAlternatives] = []
        limit, window = settings.PASSWORD_RESET_LIMITS["account"]
        if not rate_limit("password_reset_account", self.cleaned_data["email"].casefold(),
                          limit, window):  # fmt: skip
            super().save(**options)
        if self.outgoing:
            send_in_background(self.outgoing)
            return
        # An unknown address, or one over its limit: the same work, nothing sent.
        stand_in = User(username="-", email=self.cleaned_data["email"])
        context = {
            "email": stand_in.email,
            "domain": "-",
            "site_name": "-",
            "uid": "-",
            "user": stand_in,
            "token": default_token_generator.make_token(stand_in),
            "protocol": "https",
            **(options.get("extra_email_context") or {}),
        }
        self.send_mail(
            options["subject_template_name"],
            options["email_template_name"],
            context,
            None,
            stand_in.email,
        )
        send_in_background([])


class ResetRequestView(auth_views.PasswordResetView):
    form_class = ResetRequestForm
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    @property
    def extra_email_context(self):
        return {"timeout_minutes": max(1, settings.PASSWORD_RESET_TIMEOUT // 60)}

    def post(self, request, *args, **kwargs):
        limit, window = settings.PASSWORD_RESET_LIMITS["address"]
        wait = rate_limit("password_reset_address", client_ip(request) or "-", limit, window)
        if wait:
            message = _("重置密码的请求过于频繁，请稍后再试（约 %(minutes)s 分钟后）。") % {
                "minutes": max(1, -(-wait // 60))
            }
            response = render(
                request,
                "registration/locked_out.html",
                {"title": _("请稍后再试"), "message": message},
                status=429,
            )
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)


request_view = enabled_only(ResetRequestView.as_view())
done_view = enabled_only(auth_views.PasswordResetDoneView.as_view())
confirm_view = enabled_only(auth_views.PasswordResetConfirmView.as_view())
complete_view = enabled_only(auth_views.PasswordResetCompleteView.as_view())
