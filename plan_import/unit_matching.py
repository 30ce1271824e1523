"""Matching the names a plan document uses to what the system already has: a unit name
(连州市应急管理局) to the units in the reviewer's scope (市应急局), a station's region name
(南召) to the region tree (南召县). Three steps; the first that finds something wins:

1. exact — the same name (confidence 1.0);
2. normalised — the same once what documents vary is taken away (confidence 0.9): full-width
   forms, spaces and quotes; 各 in front and 等 at the end; a region's name in front
   (南京市消防救援支队 → 消防救援支队) or a bare level word (市应急管理局 → 应急管理局); long
   forms shortened the way offices write them (应急管理局 → 应急局, 卫生健康委员会 → 卫健委,
   规划和自然资源局 → 规资局, 消防救援支队 → 消防支队 …). Region names drop their level
   word (南召县 → 南召, 卧龙区 → 卧龙);
3. similar — difflib's ratio of the normalised names, at least ``SIMILAR_AT`` (confidence
   0.85 × ratio, so never above a normalised match).

Candidates are given in order of preference (the plan's region first, then the regions
above it, then the others): among equally good matches the earlier wins. A match is a
proposal: the review page shows it with its confidence, and only exact and normalised ones
come preselected (``PRESELECT_AT``); nothing here writes.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

EXACT, NORMALISED, SIMILAR = "exact", "normalised", "similar"
SIMILAR_AT = 0.6  # the lowest ratio of normalised names proposed as a match
PRESELECT_AT = 0.9  # exact and normalised matches come preselected on the review page
HOW_LABELS = {EXACT: "完全一致", NORMALISED: "规范化后一致", SIMILAR: "名称相似"}

# Long forms → the short forms offices use, longest first within a family so that
# 发展和改革委员会 is shortened whole, not as …委员会 → …委.
ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    ("人民政府", "政府"),
    ("管理委员会", "管委会"),
    ("机构编制委员会办公室", "编办"),
    ("编制委员会办公室", "编办"),
    ("住房和城乡建设", "住建"),
    ("住房城乡建设", "住建"),
    ("发展和改革委员会", "发改委"),
    ("发展改革委员会", "发改委"),
    ("发展改革委", "发改委"),
    ("卫生健康委员会", "卫健委"),
    ("卫生健康委", "卫健委"),
    ("卫生和计划生育委员会", "卫健委"),
    ("人力资源和社会保障", "人社"),
    ("人力资源社会保障", "人社"),
    ("规划和自然资源", "规资"),
    ("自然资源和规划", "规资"),
    ("规划资源", "规资"),
    ("市场监督管理", "市场监管"),
    ("文化广电和旅游", "文旅"),
    ("文化广电旅游", "文旅"),
    ("文化和旅游", "文旅"),
    ("工业和信息化", "工信"),
    ("城市管理综合行政执法", "城管"),
    ("城市管理", "城管"),
    ("交通运输", "交通"),
    ("大数据管理", "大数据"),
    ("应急管理", "应急"),
    ("消防救援", "消防"),
    ("政法委员会", "政法委"),
    ("委员会", "委"),
    ("办公室", "办"),
)
LEVEL_WORDS = "省市区县镇乡"
REGION_SUFFIXES = ("自治州", "自治县", "街道", "新区", "省", "市", "区", "县", "镇", "乡")
_NOISE = re.compile(r"[\s\"'“”‘’「」《》·・]")


@dataclass(frozen=True)
class Match(Generic[T]):
    item: T
    confidence: float
    how: str  # exact | normalised | similar

    @property
    def preselected(self) -> bool:
        return self.confidence >= PRESELECT_AT

    @property
    def percent(self) -> int:
        return round(self.confidence * 100)

    @property
    def how_label(self) -> str:
        return HOW_LABELS[self.how]


def _plain(name: str) -> str:
    return _NOISE.sub("", unicodedata.normalize("NFKC", name or ""))


def short_region_names(names: Iterable[str]) -> list[str]:
    """Region names and their short forms (南京市 → 南京, 南召县 → 南召), longest first."""
    found = set()
    for name in names:
        name = _plain(name)
        if not name:
            continue
        found.add(name)
        short = region_key(name)
        if len(short) >= 2:
            found.add(short)
    return sorted(found, key=len, reverse=True)


def unit_key(name: str, region_names: Sequence[str] = ()) -> str:
    """A unit name with what documents vary taken away (see the module's docstring).
    ``region_names`` come from ``short_region_names`` (longest first)."""
    text = _plain(name)
    collective = text.startswith("各")
    text = text.removeprefix("各").removesuffix("等")
    for region in region_names:
        if text.startswith(region) and len(text) > len(region):
            text = text[len(region) :]
            break
    else:
        # 市应急管理局 → 应急管理局; 市场监管局 keeps its 市. Not after 各 (各区政府 stays
        # 区政府: a collective is not the 政府 of one region).
        if (
            not collective
            and len(text) > 2
            and text[0] in LEVEL_WORDS
            and not text.startswith("市场")
        ):
            text = text[1:]
    for long, short in ABBREVIATIONS:
        text = text.replace(long, short)
    return text


def region_key(name: str) -> str:
    """A region name without its level word (南召县 → 南召, 卧龙区 → 卧龙), kept whole when
    that would leave one character (沛县)."""
    text = _plain(name)
    for suffix in REGION_SUFFIXES:
        if text.endswith(suffix) and len(text) - len(suffix) >= 2:
            return text[: -len(suffix)]
    return text


class Matcher(Generic[T]):
    """The candidates indexed once; ``match(name)`` then costs two dictionary look-ups, and a
    similarity pass only for a name neither finds."""

    def __init__(
        self,
        candidates: Iterable[T],
        *,
        key: Callable[[str], str],
        name_of: Callable[[T], str] = lambda item: item.name,
    ):
        self.key, self.name_of = key, name_of
        self.candidates: list[tuple[T, str]] = []
        self.exact: dict[str, T] = {}
        self.normalised: dict[str, T] = {}
        for item in candidates:
            name = name_of(item)
            normal = key(name)
            self.candidates.append((item, normal))
            self.exact.setdefault(name, item)
            if normal:
                self.normalised.setdefault(normal, item)

    def match(self, name: str, *, limit: int = 3) -> list[Match[T]]:
        """The best matches of ``name``, best first: the exact or normalised one alone, else
        up to ``limit`` similar ones."""
        if name in self.exact:
            return [Match(self.exact[name], 1.0, EXACT)]
        normal = self.key(name)
        if normal in self.normalised:
            return [Match(self.normalised[normal], 0.9, NORMALISED)]
        if not normal:
            return []
        scored = []
        matcher = difflib.SequenceMatcher(autojunk=False)
        matcher.set_seq2(normal)
        for order, (item, other) in enumerate(self.candidates):
            matcher.set_seq1(other)
            if matcher.real_quick_ratio() < SIMILAR_AT or matcher.quick_ratio() < SIMILAR_AT:
                continue
            ratio = matcher.ratio()
            if ratio >= SIMILAR_AT:
                scored.append((-ratio, order, item))
        scored.sort(key=lambda row: row[:2])
        return [Match(item, round(-ratio * 0.85, 2), SIMILAR) for ratio, _, item in scored[:limit]]

    def best(self, name: str) -> Match[T] | None:
        found = self.match(name, limit=1)
        return found[0] if found else None


def unit_matcher(units: Iterable, region_names: Iterable[str]) -> Matcher:
    """Units (with ``.name``) in order of preference; ``region_names`` are the names of the
    regions whose names may stand in front of a unit's (the plan's, those above and below)."""
    names = short_region_names(region_names)
    return Matcher(units, key=lambda name: unit_key(name, names))


def region_matcher(regions: Iterable) -> Matcher:
    return Matcher(regions, key=region_key)
