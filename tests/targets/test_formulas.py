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
