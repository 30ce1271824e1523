"""Reminders: generate_notices creates blue (deadline within a week), red (deadline passed)
and yellow (behind pace) notices once each, for the right people; send_notices e-mails each
user one digest of their new notices; the header badge counts the unread ones. The 南阳 plan
and the cast come from tests/conftest.py."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notice
from core.models import Region
from planning.models import Plan
from reports.notices import generate_notices, send_digests
from targets import services
from targets.models import Target
from tests.conftest import open_period

pytestmark = pytest.mark.django_db

NANYANG = "nanyang-2021-2025"


def new_stations() -> Target:
    return Target.objects.get(plan__code=NANYANG, code="tg-new-stations")


def levels(user) -> list[str]:
    return sorted(Notice.objects.filter(user=user).values_list("level", flat=True))


def with_email(user, address: str):
    user.email = address
    user.save(update_fields=["email"])
    return user


@pytest.fixture
def deadlines(seeded):
    """南阳 2024 due in 3 days; 2023 due 2 days ago (not yet locked)."""
    return {
        "soon": open_period(NANYANG, "2024", due_in_days=3, locks_in_days=30),
        "passed": open_period(NANYANG, "2023", due_in_days=-2, locks_in_days=20),
    }


@pytest.fixture
def behind(open_2024, liaison_nanzhao, staff_nanyang):
    """南召县 reported 1 of its 3 new stations for 2024, approved: well behind pace. The plan
    is made a running one (its period extended to 2027): a finished plan is judged 已完成 /
    未完成, without pace, so it has nothing to warn of (issue 17)."""
    Plan.objects.filter(code=NANYANG).update(end_year=2027)
    report = services.save_report(
        actor=liaison_nanzhao,
        target=new_stations(),
        region=Region.objects.get(name="南召县"),
        period="2024",
        value="1",
        submit=True,
    )
    return services.approve_report(report, actor=staff_nanyang)


# ------------------------------------------------------------------------------ deadlines


def test_a_liaison_is_told_of_a_deadline_within_a_week_and_of_one_passed(
    deadlines, liaison_nanzhao
):
    generate_notices()

    soon = Notice.objects.get(user=liaison_nanzhao, level="info")
    due = deadlines["soon"].due_on
    assert soon.text == (
        f"南阳市“十四五”消防救援事业发展规划 2024 期间填报将于 {due:%Y-%m-%d} 截止"
        "（还剩 3 天），尚有 3 项未提交"
    )
    assert soon.url == reverse("targets:my_reports")
    passed = Notice.objects.get(user=liaison_nanzhao, level="danger")
    assert f"2023 期间填报已于 {deadlines['passed'].due_on:%Y-%m-%d} 截止" in passed.text
    assert passed.text.endswith("仍有 3 项未提交，请尽快补报")


def test_blue_yellow_and_red_are_each_created_once(behind, liaison_nanzhao, liaison_xixia):
    open_period(NANYANG, "2023", due_in_days=-2, locks_in_days=20)
    on = timezone.localdate() + datetime.timedelta(days=5)  # 2024 is due in 5 days then
    first = generate_notices(on=on)

    assert levels(liaison_nanzhao) == ["danger", "info", "warning"]
    assert first == Notice.objects.count()
    assert generate_notices(on=on) == 0
    assert Notice.objects.count() == first


def test_submitted_figures_are_not_owed_any_more(deadlines, liaison_nanzhao):
    target = new_stations()
    county = Region.objects.get(name="南召县")
    for code in ["tg-new-stations", "tg-b3-key-town", "tg-b3-old-stations"]:
        services.save_report(
            actor=liaison_nanzhao,
            target=Target.objects.get(plan=target.plan, code=code),
            region=county,
            period="2024",
            value="1",
            submit=True,
        )
    generate_notices()

    assert levels(liaison_nanzhao) == ["danger"]  # 2023 is still owed; 2024 is all in


def test_a_deadline_beyond_a_week_is_not_yet_told(open_2024, liaison_nanzhao):
    generate_notices()  # due in 10 days
    assert not Notice.objects.filter(user=liaison_nanzhao, level="info").exists()
    generate_notices(on=timezone.localdate() + datetime.timedelta(days=4))
    assert levels(liaison_nanzhao) == ["info"]


def test_a_locked_period_says_whom_to_ask(seeded, liaison_nanzhao):
    open_period(NANYANG, "2022", due_in_days=-40, locks_in_days=-10)
    generate_notices()

    notice = Notice.objects.get(user=liaison_nanzhao)
    assert notice.level == "danger"
    assert notice.text.endswith("期间已锁定，如需补报请联系委员会办公室")


def test_a_moved_deadline_is_told_again(deadlines, liaison_nanzhao):
    generate_notices()
    period = deadlines["soon"]
    period.due_on -= datetime.timedelta(days=1)
    period.save(update_fields=["due_on"])

    assert generate_notices() == 1  # a new deadline is a new notice
    assert Notice.objects.filter(user=liaison_nanzhao, level="info").count() == 2


# ------------------------------------------------------------------------------ pace


def test_a_liaison_is_warned_of_their_own_share_falling_behind(behind, liaison_nanzhao):
    generate_notices()

    warning = Notice.objects.get(user=liaison_nanzhao, level="warning")
    county = Region.objects.get(name="南召县")
    assert warning.key.startswith(f"pace:target:{new_stations().pk}:{county.pk}:")
    assert "新建消防站（南召县）" in warning.text
    assert "滞后" in warning.text


def test_another_county_is_not_warned_of_it(behind, liaison_xixia):
    generate_notices()
    assert not Notice.objects.filter(user=liaison_xixia, text__contains="南召县").exists()
    assert not Notice.objects.filter(user=liaison_xixia, level="warning").exists()


def test_staff_and_supervisors_are_warned_of_every_target_in_scope(
    behind, staff_nanyang, supervisor_nanyang, outsider, viewer_nanyang
):
    generate_notices()
    key = f"pace:target:{new_stations().pk}:"

    for user in (staff_nanyang, supervisor_nanyang):
        warning = Notice.objects.get(user=user, key__startswith=key)
        assert warning.level == "warning"
        assert "新建消防站（南阳市）" in warning.text
    assert not Notice.objects.filter(user=outsider, key__startswith=key).exists()
    assert not Notice.objects.filter(user=viewer_nanyang).exists()


# ------------------------------------------------------------------------------ e-mail


def test_each_user_gets_one_digest_of_their_new_notices(
    deadlines, liaison_nanzhao, liaison_xixia, mailoutbox
):
    with_email(liaison_nanzhao, "nanzhao@example.cn")
    generate_notices()
    sent, failed = send_digests(base_url="https://fireplan.example.cn")

    assert (sent, failed) == (1, [])  # 西峡's liaison has no address
    (message,) = mailoutbox
    assert message.to == ["nanzhao@example.cn"]
    assert message.subject == "【消防规划跟踪】您有 2 条新提醒"
    assert message.body.index("【已逾期】") < message.body.index("【临近截止】")
    for notice in Notice.objects.filter(user=liaison_nanzhao):
        assert notice.text in message.body
        assert notice.emailed_at is not None
    assert "https://fireplan.example.cn/reporting/my/" in message.body
    assert not Notice.objects.filter(user=liaison_xixia, emailed_at__isnull=False).exists()

    assert send_digests() == (0, [])  # nothing new to send
    assert len(mailoutbox) == 1


def test_read_notices_are_not_mailed(deadlines, liaison_nanzhao, mailoutbox):
    with_email(liaison_nanzhao, "nanzhao@example.cn")
    generate_notices()
    Notice.objects.filter(level="danger").update(read_at=timezone.now())
    send_digests()

    assert "1 条新提醒" in mailoutbox[0].subject


def test_the_command_creates_and_mails(deadlines, liaison_nanzhao, mailoutbox):
    with_email(liaison_nanzhao, "nanzhao@example.cn")
    out = io.StringIO()
    call_command("send_notices", "--email", stdout=out)

    assert "新建提醒 2 条" in out.getvalue()
    assert "已发送邮件 1 封" in out.getvalue()
    assert len(mailoutbox) == 1


def test_the_command_without_email_only_creates(deadlines, liaison_nanzhao, mailoutbox):
    with_email(liaison_nanzhao, "nanzhao@example.cn")
    on = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    call_command("send_notices", "--date", on, stdout=io.StringIO())

    assert levels(liaison_nanzhao) == ["danger", "info"]
    assert mailoutbox == []


def test_the_command_refuses_a_bad_date(seeded):
    with pytest.raises(CommandError, match="日期“2025-13-01”无效，应为 2025-01-31 这样的格式"):
        call_command("send_notices", "--date", "2025-13-01", stdout=io.StringIO())


def test_a_failed_mail_is_retried_next_time(deadlines, liaison_nanzhao, monkeypatch):
    with_email(liaison_nanzhao, "nanzhao@example.cn")
    generate_notices()

    def refuse(message):
        raise ConnectionRefusedError("SMTP 服务器无响应")

    monkeypatch.setattr("reports.notices.EmailMessage.send", refuse)
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 封邮件发送失败"):
        call_command("send_notices", "--email", stdout=io.StringIO(), stderr=err)

    assert "nanzhao@example.cn" in err.getvalue()
    assert not Notice.objects.filter(emailed_at__isnull=False).exists()


# ------------------------------------------------------------------------------ header


def test_the_header_badge_counts_unread_notices_in_the_worst_colour(
    client, deadlines, liaison_nanzhao
):
    generate_notices()
    client.force_login(liaison_nanzhao)
    page = client.get(reverse("reports:home")).content.decode()

    assert 'class="badge bg-danger" data-testid="notice-count">2</span>' in page
    listing = client.get(reverse("accounts:notice_list")).content.decode()
    assert "尚有 3 项未提交" in listing and "仍有 3 项未提交" in listing

    client.post(reverse("accounts:notices_mark_read"))
    assert 'data-testid="notice-count"' not in client.get(reverse("reports:home")).content.decode()
