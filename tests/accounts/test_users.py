"""User management in the browser (admins only, inside their scope), the set-up command, and
the login pages. The cast comes from tests/conftest.py: admin_jiangsu manages 南京 and 海门,
not 南阳."""

import io
import re

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver, reverse

from accounts.models import Profile
from core.models import Region, Unit

STRONG = "Qinhuai-fire-2024"


def region(name: str) -> Region:
    return Region.objects.get(name=name)


def create_form(**overrides) -> dict:
    data = {
        "username": "li_qinhuai",
        "full_name": "李华",
        "email": "lihua@example.cn",
        "password1": STRONG,
        "password2": STRONG,
        "role": "liaison",
        "region": region("秦淮区").pk,
        "unit": "",
    }
    return data | overrides


def edit_form(user: User, **overrides) -> dict:
    profile = user.profile
    data = {
        "full_name": user.first_name,
        "email": user.email,
        "role": profile.role,
        "region": profile.region_id,
        "unit": profile.unit_id or "",
        "is_active": "on" if user.is_active else "",
    }
    return {k: v for k, v in (data | overrides).items() if v is not None}


def text(response) -> str:
    return response.content.decode()


# ------------------------------------------------------------------------------ create


def test_admin_creates_a_user_in_their_scope_and_history_names_the_admin(client, admin_jiangsu):
    client.force_login(admin_jiangsu)
    response = client.post(reverse("accounts:user_create"), create_form())

    user = User.objects.get(username="li_qinhuai")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:user_edit", args=[user.pk])
    assert (user.first_name, user.email) == ("李华", "lihua@example.cn")
    assert (user.profile.role, user.profile.region.name) == ("liaison", "秦淮区")
    assert user.check_password(STRONG)
    record = user.profile.history.get()
    assert (record.history_user, record.history_change_reason) == (admin_jiangsu, "创建用户")

    page = text(client.get(response["Location"]))
    assert "已创建用户 li_qinhuai" in page
    assert "admin_jiangsu 创建（创建用户）" in page


def test_the_created_user_can_log_in_and_sees_only_their_scope(client, admin_jiangsu):
    client.force_login(admin_jiangsu)
    client.post(reverse("accounts:user_create"), create_form())
    client.logout()

    response = client.post(
        reverse("login"), {"username": "li_qinhuai", "password": STRONG}, follow=True
    )
    plans = {plan.code for plan in response.context["plans"]}
    assert "nanjing-2021-2023" in plans
    assert "nanyang-2021-2025" not in plans


def test_admin_cannot_create_a_user_outside_their_scope(client, admin_jiangsu):
    client.force_login(admin_jiangsu)
    response = client.post(reverse("accounts:user_create"), create_form(region=region("南召县").pk))

    assert response.status_code == 400
    assert "选择一个有效的选项" in text(response)
    assert not User.objects.filter(username="li_qinhuai").exists()


def test_region_choices_are_the_admins_scope_labelled_with_their_path(client, admin_jiangsu):
    client.force_login(admin_jiangsu)
    response = client.get(reverse("accounts:user_create"))

    labels = [label for _, label in response.context["form"].fields["region"].choices]
    assert "江苏省/南京市/秦淮区" in labels
    assert "江苏省/南通市/海门区" in labels
    assert not any("南阳" in label for label in labels)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("12345678", "此密码太短，至少要包含 10 个字符。"),
        ("1234567890", "密码只包含数字。"),
        ("password123", "这个密码太常见了。"),
        ("li_qinhuai1", "密码跟 用户名 太相似了。"),
    ],
)
def test_weak_password_is_refused_in_chinese(client, admin_jiangsu, password, message):
    client.force_login(admin_jiangsu)
    response = client.post(
        reverse("accounts:user_create"), create_form(password1=password, password2=password)
    )

    assert response.status_code == 400
    assert "密码强度不足" in text(response)
    assert message in text(response)
    assert not User.objects.filter(username="li_qinhuai").exists()


def test_weak_password_is_refused_in_chinese_for_an_english_browser(client, admin_jiangsu):
    client.force_login(admin_jiangsu)
    response = client.post(
        reverse("accounts:user_create"),
        create_form(password1="12345678", password2="12345678"),
        headers={"accept-language": "en"},
    )

    assert response.status_code == 400
    assert "此密码太短" in text(response)


def test_password_confirmation_must_match(client, admin_jiangsu):
    client.force_login(admin_jiangsu)
    response = client.post(reverse("accounts:user_create"), create_form(password2=STRONG + "x"))

    assert response.status_code == 400
    assert "两次输入的密码不一致" in text(response)
    assert not User.objects.filter(username="li_qinhuai").exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"username": "李 华"}, "含有不允许的字符"),
        ({"username": "staff_nanjing_office"}, "已被使用"),
        ({"username": "STAFF_NANJING_OFFICE"}, "已被使用"),
        ({"email": "not-an-address"}, "不是有效的电子邮箱地址"),
        ({"role": "boss"}, "选择一个有效的选项"),
        ({"region": ""}, "必填项"),
        ({"region": "abc"}, "选择一个有效的选项"),
    ],
)
def test_bad_input_creates_nobody_and_says_why(
    client, admin_jiangsu, staff_nanjing, overrides, message
):
    client.force_login(admin_jiangsu)
    users = User.objects.count()
    response = client.post(reverse("accounts:user_create"), create_form(**overrides))

    assert response.status_code == 400
    assert message in text(response)
    assert User.objects.count() == users


def test_a_unit_must_belong_to_the_users_region_or_above(client, admin_jiangsu):
    haimen_unit = Unit.objects.filter(region__name="海门区").first()
    client.force_login(admin_jiangsu)
    response = client.post(reverse("accounts:user_create"), create_form(unit=haimen_unit.pk))

    assert response.status_code == 400
    assert "无上下级关系" in text(response)
    assert not User.objects.filter(username="li_qinhuai").exists()


# ------------------------------------------------------------------------------ edit


def test_admin_changes_role_region_and_deactivates_with_history(
    client, admin_jiangsu, staff_nanjing
):
    client.force_login(admin_jiangsu)
    url = reverse("accounts:user_edit", args=[staff_nanjing.pk])
    response = client.post(
        url,
        edit_form(staff_nanjing, role="supervisor", region=region("秦淮区").pk, is_active=""),
    )

    assert response.status_code == 302
    staff_nanjing.refresh_from_db()
    assert not staff_nanjing.is_active
    assert (staff_nanjing.profile.role, staff_nanjing.profile.region.name) == (
        "supervisor",
        "秦淮区",
    )
    record = staff_nanjing.profile.history.first()
    assert record.history_user == admin_jiangsu
    assert record.history_change_reason == "修改用户；停用账号"

    page = text(client.get(url))
    assert "角色：委员会办公室工作人员 → 督查考核人员" in page
    assert "管辖区划：南京市 → 秦淮区" in page
    assert "已停用" in page


def test_a_deactivated_user_can_no_longer_log_in(client, admin_jiangsu, staff_nanjing):
    client.force_login(admin_jiangsu)
    client.post(
        reverse("accounts:user_edit", args=[staff_nanjing.pk]),
        edit_form(staff_nanjing, is_active=""),
    )
    client.logout()

    response = client.post(
        reverse("login"), {"username": "staff_nanjing_office", "password": "Pass-word-2021"}
    )
    assert response.status_code == 200
    assert "用户名或密码不正确" in text(response)


def test_admin_cannot_move_a_user_outside_their_scope(client, admin_jiangsu, staff_nanjing):
    client.force_login(admin_jiangsu)
    response = client.post(
        reverse("accounts:user_edit", args=[staff_nanjing.pk]),
        edit_form(staff_nanjing, region=region("南召县").pk),
    )

    assert response.status_code == 400
    assert "选择一个有效的选项" in text(response)
    staff_nanjing.profile.refresh_from_db()
    assert staff_nanjing.profile.region.name == "南京市"


def test_admin_cannot_demote_or_deactivate_themselves(client, admin_jiangsu):
    client.force_login(admin_jiangsu)
    url = reverse("accounts:user_edit", args=[admin_jiangsu.pk])
    response = client.post(url, edit_form(admin_jiangsu, role="viewer"))

    assert response.status_code == 400
    assert "不能修改自己的角色" in text(response)
    admin_jiangsu.profile.refresh_from_db()
    assert admin_jiangsu.profile.role == "admin"


def test_admin_resets_a_password_and_history_records_it(client, admin_jiangsu, staff_nanjing):
    client.force_login(admin_jiangsu)
    response = client.post(
        reverse("accounts:user_password", args=[staff_nanjing.pk]),
        {"password1": STRONG, "password2": STRONG},
    )

    assert response.status_code == 302
    staff_nanjing.refresh_from_db()
    assert staff_nanjing.check_password(STRONG)
    assert staff_nanjing.profile.history.first().history_change_reason == "重置密码"


def test_a_weak_reset_password_is_refused_and_the_old_one_kept(
    client, admin_jiangsu, staff_nanjing
):
    client.force_login(admin_jiangsu)
    response = client.post(
        reverse("accounts:user_password", args=[staff_nanjing.pk]),
        {"password1": "nanjing", "password2": "nanjing"},
    )

    assert response.status_code == 400
    assert "此密码太短" in text(response)
    staff_nanjing.refresh_from_db()
    assert staff_nanjing.check_password("Pass-word-2021")


@pytest.mark.parametrize(
    ("page", "method"),
    [
        ("accounts:user_edit", "get"),
        ("accounts:user_edit", "post"),
        ("accounts:user_password", "post"),
    ],
)
def test_users_outside_the_admins_scope_are_404(client, admin_jiangsu, staff_nanyang, page, method):
    client.force_login(admin_jiangsu)
    url = reverse(page, args=[staff_nanyang.pk])
    data = edit_form(staff_nanyang, role="viewer") | {"password1": STRONG, "password2": STRONG}
    response = getattr(client, method)(url, data if method == "post" else None)

    assert response.status_code == 404
    staff_nanyang.refresh_from_db()
    assert staff_nanyang.profile.role == "staff"
    assert staff_nanyang.check_password("Pass-word-2021")


def test_the_list_shows_only_users_in_scope(client, admin_jiangsu, staff_nanjing, staff_nanyang):
    client.force_login(admin_jiangsu)
    response = client.get(reverse("accounts:user_list"))

    names = {user.username for user in response.context["page"]}
    assert names == {"admin_jiangsu", "staff_nanjing_office"}


@pytest.mark.parametrize(
    "who", ["staff_nanjing", "liaison_nanzhao", "supervisor_nanyang", "viewer_nanyang", "outsider"]
)
@pytest.mark.parametrize(
    ("page", "method"),
    [
        ("accounts:user_list", "get"),
        ("accounts:user_create", "get"),
        ("accounts:user_create", "post"),
        ("accounts:user_edit", "get"),
        ("accounts:user_edit", "post"),
        ("accounts:user_password", "post"),
    ],
)
def test_roles_without_user_management_get_403(request, client, staff_nanjing, who, page, method):
    actor = request.getfixturevalue(who)
    client.force_login(actor)
    args = [staff_nanjing.pk] if page in ("accounts:user_edit", "accounts:user_password") else []
    data = create_form() | edit_form(staff_nanjing, role="admin")
    response = getattr(client, method)(reverse(page, args=args), data if method == "post" else None)

    assert response.status_code == 403
    assert not User.objects.filter(username="li_qinhuai").exists()
    staff_nanjing.profile.refresh_from_db()
    assert staff_nanjing.profile.role == "staff"


def test_only_admins_see_the_user_menu(client, admin_jiangsu, staff_nanjing):
    client.force_login(admin_jiangsu)
    assert reverse("accounts:user_list") in text(client.get(reverse("reports:home")))
    client.force_login(staff_nanjing)
    assert reverse("accounts:user_list") not in text(client.get(reverse("reports:home")))


# ------------------------------------------------------------------------------ list


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"search": "nanjing"}, {"staff_nanjing_office"}),
        ({"search": "王"}, {"wang_haimen"}),
        ({"role": "admin"}, {"admin_jiangsu"}),
        ({"role": "liaison"}, {"wang_haimen"}),
        ({"region": "海门区"}, {"wang_haimen"}),
        ({"region": "南通市"}, {"wang_haimen"}),
        ({"active": "0"}, set()),
        ({"role": "nonsense"}, {"admin_jiangsu", "staff_nanjing_office", "wang_haimen"}),
    ],
)
def test_the_list_filters_by_search_role_region_and_state(
    client, admin_jiangsu, staff_nanjing, query, expected
):
    wang = User.objects.create_user("wang_haimen", first_name="王芳")
    Profile.objects.create(user=wang, role="liaison", region=region("海门区"))
    if "region" in query:
        query = {"region": region(query["region"]).pk}
    client.force_login(admin_jiangsu)
    response = client.get(reverse("accounts:user_list"), query)

    assert response.status_code == 200
    assert {user.username for user in response.context["page"]} == expected


def _list_queries(client, admin, rows: int) -> int:
    nanjing, unit = region("南京市"), Unit.objects.filter(region__name="南京市").first()
    for number in range(rows):
        user = User.objects.create_user(f"nanjing_{number:02d}", email=f"u{number}@example.cn")
        Profile.objects.create(user=user, role="liaison", region=nanjing, unit=unit)
    client.force_login(admin)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("accounts:user_list"), {"region": nanjing.pk})
    assert len(response.context["page"]) == rows
    return len(queries)


@pytest.mark.parametrize("rows", [1, 30])
def test_the_list_costs_the_same_queries_for_1_and_30_users(client, admin_jiangsu, rows):
    # session, user with the admin's profile, region tree (scope), the region filter's choice
    # checked, region tree (region and below), count, the page of users with profile, region
    # and unit joined, unread notices (header), region choices rendered. Nothing per row.
    assert _list_queries(client, admin_jiangsu, rows) == 9


# ------------------------------------------------------------------------------ command


def run(*args, stdin: str | None = None, **options) -> str:
    out = io.StringIO()
    if stdin is not None:
        options["stdin"] = io.StringIO(stdin)
    call_command("create_scoped_user", *args, stdout=out, **options)
    return out.getvalue()


def test_the_command_creates_a_liaison_with_a_random_password(seeded):
    out = run("li_nanzhao", role="liaison", region="南召县", random_password=True)

    user = User.objects.get(username="li_nanzhao")
    password = re.search(r"密码：(\S+)", out).group(1)
    assert "已创建用户 li_nanzhao：联络员，河南省/南阳市/南召县" in out
    assert user.check_password(password)
    assert (user.profile.role, user.profile.region.name, user.profile.unit) == (
        "liaison",
        "南召县",
        None,
    )
    assert user.profile.history.get().history_user is None  # 系统


def test_the_command_reads_the_password_from_stdin_and_finds_the_unit_above(seeded):
    out = run(
        "li_water",
        role="liaison",
        region_path="广东省/清远市/连州市/九陂镇",
        unit="水务部门",
        password_stdin=True,
        stdin=STRONG + "\n",
    )

    user = User.objects.get(username="li_water")
    assert user.check_password(STRONG)
    assert user.profile.region.name == "九陂镇"
    assert user.profile.unit.region.name == "连州市"
    assert "密码" not in out.replace("已创建用户", "")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"role": "boss", "region": "南召县"}, "未知角色“boss”"),
        ({"role": "liaison", "region": "南召"}, "找不到名为“南召”的区划"),
        ({"role": "liaison", "region_path": "河南省/南召县"}, "找不到区划路径"),
        ({"role": "liaison"}, "请用 --region 或 --region-path 指定管辖区划"),
        ({"role": "liaison", "region": "西峡县", "region_path": "河南省/南阳市/南召县"}, "不一致"),
        ({"role": "liaison", "region": "南召县", "unit": "不存在的单位"}, "找不到名为"),
        ({"role": "liaison", "region": "南召县", "unit": "水务部门"}, "不在“南召县”或其上级区划"),
    ],
)
def test_the_command_refuses_bad_input_and_creates_nobody(seeded, options, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        run("li_bad", random_password=True, **options)
    assert not User.objects.filter(username="li_bad").exists()


def test_the_command_refuses_an_ambiguous_region_name_and_accepts_its_path(seeded):
    Region.objects.create(name="南召县", level="district", parent=region("信阳市"))
    with pytest.raises(CommandError) as refused:
        run("li_bad", role="liaison", region="南召县", random_password=True)
    assert "有 2 个名为“南召县”的区划" in str(refused.value)
    assert "河南省/信阳市/南召县、河南省/南阳市/南召县" in str(refused.value)
    assert "--region-path" in str(refused.value)

    run("li_ok", role="liaison", region_path="河南省/南阳市/南召县", random_password=True)
    assert User.objects.get(username="li_ok").profile.region.parent.name == "南阳市"


@pytest.mark.parametrize(("password", "message"), [("short", "此密码太短"), ("", "没有密码")])
def test_the_command_refuses_a_weak_or_missing_password(seeded, password, message):
    with pytest.raises(CommandError, match=message):
        run("li_bad", role="viewer", region="南阳市", password_stdin=True, stdin=password)
    assert not User.objects.filter(username="li_bad").exists()


def test_the_command_refuses_an_existing_username(seeded, liaison_nanzhao):
    with pytest.raises(CommandError, match="用户名“liaison_nanzhao”已被使用"):
        run("liaison_nanzhao", role="viewer", region="南阳市", random_password=True)


def test_the_command_needs_exactly_one_way_to_set_the_password(seeded):
    with pytest.raises(CommandError):
        run("li_bad", role="viewer", region="南阳市")
    with pytest.raises(CommandError):
        run("li_bad", role="viewer", region="南阳市", random_password=True, password_stdin=True)


# ------------------------------------------------------------------------------ login pages


def test_login_page_logs_in_and_out(client, staff_nanyang):
    assert client.get(reverse("login")).status_code == 200
    wrong = client.post(
        reverse("login"), {"username": "staff_nanyang", "password": "wrong-password"}
    )
    assert "用户名或密码不正确" in text(wrong)

    response = client.post(
        reverse("login"), {"username": "staff_nanyang", "password": "Pass-word-2021"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:home")
    assert client.get(reverse("reports:home")).status_code == 200

    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert client.get(reverse("reports:home")).status_code == 302


def test_login_returns_to_the_page_asked_for(client, staff_nanyang):
    wanted = reverse("targets:review_inbox")
    response = client.get(wanted)
    assert response["Location"] == f"{reverse('login')}?next={wanted}"

    response = client.post(
        reverse("login"),
        {"username": "staff_nanyang", "password": "Pass-word-2021", "next": wanted},
    )
    assert response["Location"] == wanted


def test_password_change_page_refuses_weak_and_accepts_strong(client, staff_nanyang):
    client.force_login(staff_nanyang)
    url = reverse("password_change")
    assert client.get(url).status_code == 200

    weak = client.post(
        url,
        {"old_password": "Pass-word-2021", "new_password1": "123", "new_password2": "123"},
    )
    assert weak.status_code == 200
    assert "此密码太短" in text(weak)

    strong = client.post(
        url,
        {"old_password": "Pass-word-2021", "new_password1": STRONG, "new_password2": STRONG},
    )
    assert strong.status_code == 302
    assert strong["Location"] == reverse("password_change_done")
    staff_nanyang.refresh_from_db()
    assert staff_nanyang.check_password(STRONG)
    assert "密码已修改" in text(client.get(strong["Location"]))


# ------------------------------------------------------------------------------ anonymous

# Pages Django's auth app opens to anonymous users on purpose: logging in and resetting a
# forgotten password (by e-mail).
PUBLIC_PAGES = {
    "login",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "healthz",  # the load balancer's probe (fireplan/health.py): status only, no data
}
# Not pages: the admin has its own login (tests/test_admin.py); the API answers 401/403.
NOT_PAGES = ("admin/", "api/")
SAMPLE = {
    "int": "1", "str": "2024", "slug": "x", "path": "x", "uuid": "0" * 32,
    "lifecycle": "retire", "archive": "archive",
}  # fmt: skip


def pages():
    def walk(patterns, prefix=""):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if route.startswith(NOT_PAGES):
                continue
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "moved":
                    continue  # old addresses: a redirect to the page (tests/test_moved_urls.py)
                yield from walk(pattern.url_patterns, route)
            else:
                yield pattern.name, pattern.callback, route

    for name, view, route in walk(get_resolver().url_patterns):
        url = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE.get(m.group(1) or "str", "1"), route)
        yield pytest.param(name, view, "/" + url, id=name)


@pytest.mark.parametrize(("name", "view", "url"), list(pages()))
def test_every_page_but_login_sends_anonymous_users_to_the_login_page(db, client, name, view, url):
    if name in PUBLIC_PAGES:
        assert getattr(view, "login_required", True) is False
        return
    response = client.get(url)
    assert response.status_code == 302, url
    assert response["Location"].startswith(f"{reverse('login')}?next=")
