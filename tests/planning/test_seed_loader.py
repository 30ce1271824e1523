"""load_seed_plans: idempotent, all-or-nothing, and precise about what is wrong."""

from pathlib import Path

import pytest
import yaml
from django.apps import apps
from django.core.management import CommandError, call_command

from core.models import Region
from planning.models import Plan
from seeds.loader import fixture_files, load_seed_plans
from targets.models import Target

pytestmark = pytest.mark.django_db

SEED_CODES = {
    "nanjing-2021-2023",
    "haimen-2021-2025",
    "nanyang-2021-2025",
    "fuxin-2021-2025",
    "lianzhou-2021-2025",
}


def row_counts() -> dict[str, int]:
    """Rows in every table of our apps, history tables included."""
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in {"core", "planning", "targets", "stations"}
    }


def test_there_is_one_fixture_file_per_seed_plan():
    codes = {yaml.safe_load(path.read_text("utf-8"))["plan"]["code"] for path in fixture_files()}
    assert codes == SEED_CODES


def test_every_fixture_names_its_seed_text():
    for path in fixture_files():
        plan = yaml.safe_load(path.read_text("utf-8"))["plan"]
        assert plan["source_file"].endswith(".txt"), path.name


def test_loading_twice_changes_nothing(seeded):
    before = row_counts()
    result = load_seed_plans()
    assert not result.changed, (dict(result.created), dict(result.updated))
    assert row_counts() == before  # history tables too: nothing was saved again


def test_the_command_says_when_nothing_changed(seeded, capsys):
    call_command("load_seed_plans")
    assert "无变化" in capsys.readouterr().out


def test_a_fixture_change_updates_only_that_row_and_records_history(seeded, tmp_path):
    path = next(p for p in fixture_files() if "lianzhou" in p.name)
    data = yaml.safe_load(path.read_text("utf-8"))
    data["targets"][0]["name"] += "（修订）"
    edited = tmp_path / path.name
    edited.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    result = load_seed_plans([edited])
    assert dict(result.updated) == {"target": 1}
    target = Target.objects.get(plan__code="lianzhou-2021-2025", code=data["targets"][0]["code"])
    assert target.name.endswith("（修订）")
    assert target.history.first().history_change_reason == "载入种子规划"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text, "utf-8")
    return path


BAD_PLAN = """
plan: {code: bad-plan, title: 坏规划, kind: five_year, start_year: 2021, end_year: 2025,
       region: 测试省}
regions:
  - {path: 测试省, level: province}
targets:
  - {code: g1, name: 新建消防站, measure: increment, comparator: gte, target_value: 5}
  - {code: g2, name: 消火栓, measure: increment, comparator: gte, target_value: -3}
"""


def test_a_bad_row_writes_nothing_and_names_file_row_and_field(tmp_path):
    before = row_counts()
    with pytest.raises(CommandError) as error:
        call_command("load_seed_plans", write(tmp_path, BAD_PLAN))
    assert "bad.yaml targets[2].target_value: 不能为负数" in str(error.value)
    assert row_counts() == before
    assert not Region.objects.filter(name="测试省").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("measure: increment, comparator: gte, target_value: 5", "measure: sum, target_value: 5"),
         "targets[1].measure: 取值 'sum' 不在"),
        (("name: 新建消防站,", "name: 新建消防站, colour: red,"), "targets[1]: 未知字段 colour"),
        (("region: 测试省}", "region: 外省}"), "区划 '外省' 未在 regions 中声明"),
        (("end_year: 2025", "end_year: 2019"), "end_year: 终止年度不能早于起始年度"),
    ],
)  # fmt: skip
def test_bad_values_are_refused_with_a_clear_message(tmp_path, change, message):
    text = BAD_PLAN.replace("target_value: -3", "target_value: 3").replace(*change)
    with pytest.raises(CommandError) as error:
        call_command("load_seed_plans", write(tmp_path, text))
    assert message in str(error.value)
    assert not Plan.objects.filter(code="bad-plan").exists()


def test_a_file_that_is_not_yaml_is_refused(tmp_path):
    with pytest.raises(CommandError) as error:
        call_command("load_seed_plans", write(tmp_path, "plan: [unclosed"))
    assert "YAML 格式错误" in str(error.value)


def test_only_loads_the_named_plan_and_refuses_unknown_codes():
    with pytest.raises(CommandError) as error:
        call_command("load_seed_plans", only=["no-such-plan"])
    assert "no-such-plan" in str(error.value)
