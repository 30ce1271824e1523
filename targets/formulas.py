"""Formulas of derived targets, kept as data on the target (``Target.formula``).

Grammar: arithmetic (+ - * / and parentheses) over numbers and variable names, optionally
wrapped in ``avg(...)`` to average the yearly values over the plan years (年均 rates).

Variables, resolved per region and year:
- ``fires``, ``deaths``, ``injuries``, ``direct_loss_10k_yuan`` — the fire statistics table;
- ``stations_in_service`` — stations of the register in the region (and below) that are built
  or in service and were completed by that year (or have no completion year);
- any other name — the base figure whose ``key`` is that name (``population`` …).

A value that is not there is never guessed: evaluation raises ``MissingInput`` naming it
("缺少基数：population，2025年"), and the status engine reports that instead of a number.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, DivisionByZero, InvalidOperation

FIRE_STATISTIC_FIELDS = ("fires", "deaths", "injuries", "direct_loss_10k_yuan")
STATIONS_IN_SERVICE = "stations_in_service"


class FormulaError(ValueError):
    """The formula text is not valid."""


class MissingInput(LookupError):
    """A value the formula needs is not in the database (the message says which)."""

    @classmethod
    def base_figure(cls, name: str, year: int) -> MissingInput:
        return cls(f"缺少基数：{name}，{year}年")

    @classmethod
    def fire_statistic(cls, name: str, year: int) -> MissingInput:
        return cls(f"缺少火灾统计：{name}，{year}年")


@dataclass(frozen=True)
class Formula:
    text: str
    expression: ast.expr
    average: bool

    @property
    def variables(self) -> set[str]:
        return {node.id for node in ast.walk(self.expression) if isinstance(node, ast.Name)}

    def evaluate(self, lookup: Callable[[str], Decimal]) -> Decimal:
        return _evaluate(self.expression, lookup)


_ALLOWED_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div)


def parse_formula(text: str) -> Formula:
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as error:
        raise FormulaError(f"公式无法解析：{text!r}") from error
    average = False
    if isinstance(tree, ast.Call):
        if not (isinstance(tree.func, ast.Name) and tree.func.id == "avg" and len(tree.args) == 1):
            raise FormulaError(f"只支持 avg(...) 一个函数：{text!r}")
        tree, average = tree.args[0], True
    for node in ast.walk(tree):
        allowed = (ast.BinOp, ast.UnaryOp, ast.Name, ast.Constant, ast.Load, ast.USub, ast.UAdd)
        if not isinstance(node, allowed + _ALLOWED_OPERATORS):
            raise FormulaError(f"公式中不允许 {type(node).__name__}：{text!r}")
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float):
            raise FormulaError(f"公式中的常量应为数字：{text!r}")
    return Formula(text, tree, average)


def _evaluate(node: ast.expr, lookup: Callable[[str], Decimal]) -> Decimal:
    if isinstance(node, ast.Constant):
        return Decimal(str(node.value))
    if isinstance(node, ast.Name):
        return lookup(node.id)
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, lookup)
        return -value if isinstance(node.op, ast.USub) else value
    left, right = _evaluate(node.left, lookup), _evaluate(node.right, lookup)
    try:
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        return left / right
    except (DivisionByZero, InvalidOperation):
        raise MissingInput("公式除数为零") from None
