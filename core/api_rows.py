"""Lean list rows (issue 19): a serializer's read fields compiled once per request into plain
getters, so a page of 100 rows costs what reading the attributes costs — not DRF's field
machinery for each cell (``get_attribute``'s source walk, ``PKOnlyObject``, time-zone checks).

The serializer stays the contract: its fields decide the keys, their order and each value's
form (drf-spectacular documents the same serializer), and every field that is not a plain
column falls back to the field's own ``get_attribute`` + ``to_representation`` — exactly what
``Serializer.to_representation`` does. ``tests/test_api_lean_lists.py`` compares every list
endpoint's JSON with the serializer's own output.

A writer reads model instances (``getattr``) or, for ``values()`` rows, dictionaries
(``mapping=True``: a foreign key under its column name, ``target_id``); a field it cannot
read from a dictionary must be given in ``overrides`` (name → function of the row).
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Callable
from decimal import Decimal
from operator import attrgetter, itemgetter
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from rest_framework import fields as drf_fields
from rest_framework import relations, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

Row = Callable[[Any], dict]

# Field classes whose value, when it already has the right type, is its own representation.
IDENTITY_TYPES: dict[type, tuple[type, ...]] = {
    drf_fields.IntegerField: (int,),
    drf_fields.CharField: (str,),
    drf_fields.BooleanField: (bool,),
    drf_fields.ReadOnlyField: (str, int, bool),
    drf_fields.EmailField: (str,),
    drf_fields.URLField: (str,),
    drf_fields.SlugField: (str,),
}
if hasattr(drf_fields, "BigIntegerField"):  # DRF ≥ 3.16 (big integer primary keys)
    IDENTITY_TYPES[drf_fields.BigIntegerField] = (int,)


def _generic(field: drf_fields.Field) -> Callable[[Any], Any]:
    """What ``Serializer.to_representation`` does for one field (SkipField → left out)."""
    get, represent = field.get_attribute, field.to_representation

    def value(instance):
        attribute = get(instance)
        check = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
        return None if check is None else represent(attribute)

    return value


def _model_field(serializer: serializers.BaseSerializer, source: str) -> models.Field | None:
    model = getattr(getattr(serializer, "Meta", None), "model", None)
    if model is None:
        return None
    try:
        column = model._meta.get_field(source)
    except FieldDoesNotExist:  # a property or a method
        return None
    return column if isinstance(column, models.Field) and column.concrete else None


def _converter(field: drf_fields.Field) -> Callable[[Any], Any] | None:
    """How a plain value becomes the field's representation, or None when only the field's
    own code can say (then ``_generic`` is used)."""
    kind = type(field)
    if kind is drf_fields.ChoiceField:
        choices = field.choice_strings_to_values  # what ChoiceField.to_representation reads
        return lambda v: v if v in ("", None) else choices.get(str(v), v)
    if kind in IDENTITY_TYPES:
        types, represent = IDENTITY_TYPES[kind], field.to_representation
        return lambda v: v if v is None or type(v) in types else represent(v)
    if (
        kind is drf_fields.DateTimeField
        and (getattr(field, "format", api_settings.DATETIME_FORMAT) or "").lower()
        == drf_fields.ISO_8601
    ):
        zone, represent = field.default_timezone(), field.to_representation
        if zone is None:
            return None

        def instant(v):
            if v is None:
                return None
            if type(v) is not datetime.datetime or v.tzinfo is None:
                return represent(v)
            text = v.astimezone(zone).isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text

        return instant
    if (
        kind is drf_fields.DateField
        and (getattr(field, "format", api_settings.DATE_FORMAT) or "").lower()
        == drf_fields.ISO_8601
    ):
        represent = field.to_representation
        return lambda v: (
            v if v is None else (v.isoformat() if type(v) is datetime.date else represent(v))
        )
    if kind is drf_fields.DecimalField:
        represent = field.to_representation
        plain = not getattr(
            field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING
        ) and not getattr(field, "normalize_output", False)
        if not plain or field.decimal_places is None:
            return lambda v: None if v is None else represent(v)
        # DecimalField.quantize with its exponent and context made once, not for each cell.
        exponent, rounding = Decimal(".1") ** field.decimal_places, field.rounding
        context = decimal.getcontext().copy()
        if field.max_digits is not None:
            context.prec = field.max_digits

        def number(v):
            if v is None:
                return None
            if type(v) is not Decimal:
                return represent(v)
            return v.quantize(exponent, rounding=rounding, context=context)

        return number
    if kind is drf_fields.FloatField:
        return lambda v: None if v is None else float(v)
    return None


def _plain(field: drf_fields.Field, serializer, *, mapping: bool) -> Callable[[Any], Any] | None:
    """A getter for a field that reads one column (or one key), or None."""
    source = field.source
    if not source or source == "*" or "." in source:
        return None
    if type(field) is relations.PrimaryKeyRelatedField and field.pk_field is None:
        column = _model_field(serializer, source)
        if not isinstance(column, models.ForeignKey) or not column.target_field.primary_key:
            return None
        get = itemgetter(column.attname) if mapping else attrgetter(column.attname)
        return lambda row: get(row)  # the key's value is the representation (an int id)
    convert = _converter(field)
    if convert is None:
        return None
    if not mapping and _model_field(serializer, source) is None:
        return None  # a property or a method: the field's own lookup (callables …)
    get = itemgetter(source) if mapping else attrgetter(source)
    return lambda row: convert(get(row))


def _nested(field, *, mapping: bool) -> tuple[Callable[[Any], Any] | None, bool]:
    """A nested serializer (one, or many over a related manager / a list) compiled too, and
    whether it is pure (every field of it compiled: nothing reads the request)."""
    source = field.source
    if not source or "." in source or source == "*":
        return None, False
    if isinstance(field, serializers.ListSerializer) and isinstance(
        field.child, serializers.Serializer
    ):
        getters, pure = _compile(field.child, (), mapping)
        child = _writer(getters)
        get = itemgetter(source) if mapping else attrgetter(source)

        def many(row):
            # A prefetched relation straight from the prefetch cache: reading it through the
            # related manager builds a manager and a queryset per row (issue 19).
            prefetched = getattr(row, "_prefetched_objects_cache", None)
            if prefetched is not None and source in prefetched:
                return [child(item) for item in prefetched[source]]
            items = get(row)
            if items is None:
                return None
            if isinstance(items, models.manager.BaseManager):
                items = items.all()
            return [child(item) for item in items]

        return many, pure
    if isinstance(field, serializers.Serializer):
        getters, pure = _compile(field, (), mapping)
        child = _writer(getters)
        get = itemgetter(source) if mapping else attrgetter(source)
        return (lambda row: None if (value := get(row)) is None else child(value)), pure
    return None, False


Getters = list[tuple[str, Callable[[Any], Any] | None, Callable[[Any], Any] | None]]
# Compiled getters of serializers whose every field compiled (no method field, nothing that
# reads the request): built once per process, not once per request — building a
# ModelSerializer's fields costs about as much as writing a page of rows.
_PURE: dict[tuple, Getters] = {}


def _compile(serializer, overridden, mapping: bool) -> tuple[Getters, bool]:
    """(name, getter, fallback) for each readable field (getter None: overridden), and
    whether the list is pure. A compiled getter that meets a missing key or attribute hands
    the row to ``fallback``, the field's own code (default, null, or left out as DRF does)."""
    getters: Getters = []
    pure = True
    for field in serializer._readable_fields:
        name = field.field_name
        if name in overridden:
            getters.append((name, None, None))
            continue
        getter = _plain(field, serializer, mapping=mapping)
        nested_pure = True
        if getter is None:
            getter, nested_pure = _nested(field, mapping=mapping)
        if getter is not None:
            getters.append((name, getter, _generic(field)))
            pure = pure and nested_pure
        elif mapping and isinstance(serializer, serializers.ModelSerializer):
            # A method field or a relation expects the model instance, not a values() row.
            raise TypeError(f"{type(serializer).__name__}.{name}: 不能从 values() 行读取")
        else:
            getters.append((name, _generic(field), None))
            pure = False
    return getters, pure


def _writer(getters: Getters) -> Row:
    def write(row) -> dict:
        result = {}
        for name, getter, fallback in getters:
            try:
                result[name] = getter(row)
            except SkipField:
                continue
            except (KeyError, AttributeError):
                if fallback is None:
                    raise
                try:
                    result[name] = fallback(row)
                except SkipField:
                    continue
        return result

    return write


def row_writer(
    serializer: serializers.Serializer,
    *,
    overrides: dict[str, Callable[[Any], Any]] | None = None,
    mapping: bool = False,
) -> Row:
    """``serializer``'s representation of one row, as a function. ``serializer`` is a bound
    instance (its context reaches method fields); ``overrides`` replace fields by name."""
    overrides = overrides or {}
    key = (type(serializer), mapping, frozenset(overrides), timezone.get_current_timezone_name())
    getters = _PURE.get(key)
    if getters is None:
        getters, pure = _compile(serializer, overrides, mapping)
        if pure:
            _PURE[key] = getters
    return _writer(
        [(name, overrides[name], None) if getter is None else (name, getter, fallback)
         for name, getter, fallback in getters]
    )  # fmt: skip
