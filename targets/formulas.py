"""Formulas of derived targets, kept as data on the target (``Target.formula``).

Grammar: arithmetic (+ - * / and parentheses) over numbers and variable names, optionally
wrapped in ``avg(...)`` to average the yearly values over the plan years (年均 rates).
Formulas are typed by people who write Chinese: full-width brackets, operators and digits
(（ ） ＋ － ＊ ／ × ÷ １２３) read as their ASCII forms.

Variables, resolved per region and year:
- ``fires``, ``deaths``, ``injuries``, ``direct_loss_10k_yuan`` — the fire statistics table;
- ``stations_in_service`` — stations of the register in the region (and below) that are built
  or in service and were completed by that year (or have no completion year);
- any other name — the base figure whose ``key`` is that name (``population`` …, or a Chinese
  name such as ``城镇非私营单位在岗职工平均工资``).

A variable name is ASCII letters, digits and underscores or Chinese characters (CJK unified
ideographs), not starting with a digit (``VARIABLE_PATTERN``; ``BaseFigure.key`` is checked
against the same pattern). The text is NFKC-normalised before parsing, so the name the
evaluator looks up is exactly the name written — no other script, no look-alike letters.

Safety: the text is parsed with ``ast`` in ``eval`` mode and every node is checked against a
short allow-list (numbers, names, + - * /, unary signs, one outer ``avg``); nothing is ever
compiled or run, and a name is only ever looked up by the caller's ``lookup`` function.

A value that is not there is never guessed: evaluation raises ``MissingInput`` naming it
("缺少基数：population，2025年", with ``kind``, ``name`` and ``year`` for pages that link to
where it is entered), and the status engine reports that instead of a number.
"""

from __future__ import annotations

import ast
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, DivisionByZero, InvalidOperation

from django.utils.translation import gettext as _

FIRE_STATISTIC_FIELDS = ("fires", "deaths", "injuries", "direct_loss_10k_yuan")
STATIONS_IN_SERVICE = "stations_in_service"
BASE_FIGURE, FIRE_STATISTIC = "base_figure", "fire_statistic"  # MissingInput.kind

# ASCII identifiers and CJK unified ideographs (basic block and extension A). A string, so
# that a migration can carry it (``BaseFigure.key``'s RegexValidator).
_NAME_START = "A-Za-z_\u3400-\u4dbf\u4e00-\u9fff"
VARIABLE_PATTERN = rf"^[{_NAME_START}][0-9{_NAME_START}]*\Z"
_VARIABLE = re.compile(VARIABLE_PATTERN)
MAX_FORMULA_LENGTH = 500
# Operators NFKC leaves alone: the multiplication and division signs.
_OPERATORS = str.maketrans({"×": "*", "÷": "/", "−": "-"})


class FormulaError(ValueError):
    """The formula text is not valid."""


class MissingInput(LookupError):
    """A value the formula needs is not in the database (the message says which).

    ``kind`` (``BASE_FIGURE`` or ``FIRE_STATISTIC``), ``name`` and ``year`` say which value,
    so a page can link to where it is entered; empty for other gaps (a zero divisor)."""

    def __init__(self, message: str, *, kind: str = "", name: str = "", year: int | None = None):
        super().__init__(message)
        self.kind, self.name, self.year = kind, name, year

    @classmethod
    def base_figure(cls, name: str, year: int) -> MissingInput:
        message = _("缺少基数：%(name)s，%(year)s年") % {"name": name, "year": year}
        return cls(message, kind=BASE_FIGURE, name=name, year=year)

    @classmethod
    def fire_statistic(cls, name: str, year: int) -> MissingInput:
        message = _("缺少火灾统计：%(name)s，%(year)s年") % {"name": name, "year": year}
        return cls(message, kind=FIRE_STATISTIC, name=name, year=year)


def normalize_name(name: str) -> str:
    """A variable name as formulas spell it (NFKC: full-width letters and digits → ASCII)."""
    return unicodedata.normalize("NFKC", name).strip()


def is_variable_name(name: str) -> bool:
    return bool(_VARIABLE.match(name)) and not name.startswith("__")


def is_base_figure_name(name: str) -> bool:
    """A name read from the base figures (not a fire statistic, not the station register)."""
    return name not in FIRE_STATISTIC_FIELDS and name != STATIONS_IN_SERVICE


@dataclass(frozen=True)
class Formula:
    text: str
    expression: ast.expr
    average: bool

    @property
    def variables(self) -> set[str]:
        return {node.id for node in ast.walk(self.expression) if isinstance(node, ast.Name)}

    @property
    def names_in_order(self) -> list[str]:
        """The variables in the order they are written, each once."""
        nodes = [node for node in ast.walk(self.expression) if isinstance(node, ast.Name)]
        nodes.sort(key=lambda node: (node.lineno, node.col_offset))
        return list(dict.fromkeys(node.id for node in nodes))

    @property
    def base_figure_names(self) -> set[str]:
        """The variables read from the base figures (``BaseFigure.key``)."""
        return {name for name in self.variables if is_base_figure_name(name)}

    def evaluate(self, lookup: Callable[[str], Decimal]) -> Decimal:
        return _evaluate(self.expression, lookup)


_ALLOWED_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div)
_ALLOWED_NODES = (ast.BinOp, ast.UnaryOp, ast.Name, ast.Constant, ast.Load, ast.USub, ast.UAdd)


def parse_formula(text: str) -> Formula:
    if len(text) > MAX_FORMULA_LENGTH:
        raise FormulaError(_("公式过长（最多 %(limit)s 个字符）") % {"limit": MAX_FORMULA_LENGTH})
    source = unicodedata.normalize("NFKC", text).translate(_OPERATORS).strip()
    try:
        tree = ast.parse(source, mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError) as error:
        raise FormulaError(_("公式无法解析：%(text)r") % {"text": text}) from error
    average = False
    if isinstance(tree, ast.Call):
        if not (isinstance(tree.func, ast.Name) and tree.func.id == "avg" and len(tree.args) == 1):
            raise FormulaError(_("只支持 avg(...) 一个函数：%(text)r") % {"text": text})
        if tree.keywords:
            raise FormulaError(_("只支持 avg(...) 一个函数：%(text)r") % {"text": text})
        tree, average = tree.args[0], True
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES + _ALLOWED_OPERATORS):
            raise FormulaError(
                _("公式中不允许 %(node)s：%(text)r") % {"node": type(node).__name__, "text": text}
            )
        if isinstance(node, ast.Constant) and (
            isinstance(node.value, bool)
            or not isinstance(node.value, int | float)
            or (isinstance(node.value, float) and not math.isfinite(node.value))
        ):
            raise FormulaError(_("公式中的常量应为数字：%(text)r") % {"text": text})
        if isinstance(node, ast.Name) and not is_variable_name(node.id):
            raise FormulaError(
                _("变量名“%(name)s”只能由英文字母、数字、下划线或汉字组成，且不以数字开头")
                % {"name": node.id}
            )
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
        raise MissingInput(_("公式除数为零")) from None
