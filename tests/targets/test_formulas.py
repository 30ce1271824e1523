"""Derived-target formulas are data: parsed safely, evaluated exactly, never guessed."""

from decimal import Decimal

import pytest

from targets.formulas import FormulaError, MissingInput, parse_formula


def test_a_rate_formula_evaluates_with_exact_decimals():
    formula = parse_formula("deaths / population * 100000")
    values = {"deaths": Decimal(1), "population": Decimal(400000)}
    assert formula.evaluate(values.__getitem__) == Decimal("0.25")
    assert formula.variables == {"deaths", "population"}
    assert formula.average is False


def test_avg_marks_a_yearly_average():
    formula = parse_formula("avg(deaths / population * 100000)")
    assert formula.average is True
    assert formula.variables == {"deaths", "population"}


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "deaths.real",
        "max(deaths, 1)",
        "deaths ** 2",
        "'text'",
        "deaths /",
        "avg(a, b)",
    ],
)
def test_anything_but_arithmetic_is_refused(text):
    with pytest.raises(FormulaError):
        parse_formula(text)


def test_division_by_zero_is_a_missing_input_not_a_crash():
    formula = parse_formula("deaths / population")
    with pytest.raises(MissingInput, match="除数为零"):
        formula.evaluate({"deaths": Decimal(1), "population": Decimal(0)}.__getitem__)


def test_negative_and_grouped_terms():
    formula = parse_formula("-(a - b) * 2 + 1")
    assert formula.evaluate({"a": Decimal(1), "b": Decimal(3)}.__getitem__) == Decimal(5)


HAIMEN_PAY = (
    "(专职消防队员工资 - 城镇非私营单位在岗职工平均工资) / 城镇非私营单位在岗职工平均工资 * 100"
)


def test_chinese_variable_names_are_variables():
    formula = parse_formula(HAIMEN_PAY)
    assert formula.names_in_order == ["专职消防队员工资", "城镇非私营单位在岗职工平均工资"]
    assert formula.base_figure_names == formula.variables
    values = {
        "专职消防队员工资": Decimal(130000),
        "城镇非私营单位在岗职工平均工资": Decimal(100000),
    }
    assert formula.evaluate(values.__getitem__) == Decimal(30)


def test_full_width_brackets_and_operators_read_as_ascii():
    typed = (
        "（专职消防队员工资－城镇非私营单位在岗职工平均工资）÷城镇非私营单位在岗职工平均工资×１００"
    )
    values = {
        "专职消防队员工资": Decimal(130000),
        "城镇非私营单位在岗职工平均工资": Decimal(100000),
    }
    assert parse_formula(typed).evaluate(values.__getitem__) == Decimal(30)
    assert parse_formula("ｄｅａｔｈｓ / population").variables == {"deaths", "population"}


@pytest.mark.parametrize(
    "text",
    [
        "populаtion * 2",  # a Cyrillic а: looks like population, is not
        "δ * 2",
        "__class__ + 1",
        "True + 1",
        "1e999 * deaths",
        "人口.real",
        "avg(x, key=1)",
        "工资[0]",
        "(" * 300 + "1" + ")" * 300,
        "x + " * 200 + "x",
    ],
)
def test_other_scripts_and_python_are_refused(text):
    with pytest.raises(FormulaError):
        parse_formula(text)


def test_missing_inputs_say_what_and_when():
    formula = parse_formula("deaths / 人口")
    with pytest.raises(MissingInput) as caught:
        formula.evaluate(lambda name: (_ for _ in ()).throw(MissingInput.base_figure(name, 2022)))
    assert (caught.value.kind, caught.value.name, caught.value.year) == (
        "base_figure",
        "deaths",
        2022,
    )
