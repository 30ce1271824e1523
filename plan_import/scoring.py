"""How well the importer does on the five seed plans, against the hand-made fixtures.

Matching (one-to-one, greedy by best similarity):
- task: title similarity ≥ 0.6 (``difflib.SequenceMatcher`` ratio on the titles, or the
  draft title contained in the gold title or the reverse) and, when the gold task names a
  lead unit, a draft lead unit that equals, contains or is contained in one gold lead
  unit; a gold task without units matches on the title alone;
- target: equal value, equal unit (％ = %; the part before “/” of a gold unit such as
  次/月 counts, since the importer reads 次), and equal year — a gold or draft target
  without a year matches any year;
- milestone: equal date (tasks', targets' and not-yet-attached milestones pooled per plan;
  yearly milestones the importer spreads over the period are not counted).
Recall = matched / gold, precision = matched / draft.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import yaml
from django.conf import settings

from plan_import.draft import Draft
from plan_import.extract import extract
from plan_import.readers import read_document

TITLE_SIMILARITY = 0.6


def fixture_dir() -> Path:
    return Path(settings.BASE_DIR) / "fixtures"


@dataclass
class Score:
    gold: int
    draft: int
    matched: int

    @property
    def recall(self) -> float:
        return self.matched / self.gold if self.gold else 1.0

    @property
    def precision(self) -> float:
        return self.matched / self.draft if self.draft else (1.0 if not self.gold else 0.0)

    def __add__(self, other: Score) -> Score:
        return Score(self.gold + other.gold, self.draft + other.draft, self.matched + other.matched)


def _greedy(gold: list, drafted: list, similar) -> int:
    pairs = []
    for i, g in enumerate(gold):
        for j, d in enumerate(drafted):
            score = similar(g, d)
            if score is not None:
                pairs.append((score, i, j))
    pairs.sort(reverse=True)
    used_g, used_d, matched = set(), set(), 0
    for _score, i, j in pairs:
        if i in used_g or j in used_d:
            continue
        used_g.add(i)
        used_d.add(j)
        matched += 1
    return matched


def _units_overlap(gold: list[str], drafted: list[str]) -> bool:
    return any(g == d or g in d or d in g for g in gold for d in drafted if g and d)


def _task_similarity(gold: dict, task) -> float | None:
    title_g, title_d = gold["title"], task.title
    ratio = difflib.SequenceMatcher(None, title_g, title_d).ratio()
    if (
        title_d
        and (title_d in title_g or title_g in title_d)
        and min(len(title_d), len(title_g)) >= 4
    ):
        ratio = max(ratio, 0.9)
    if ratio < TITLE_SIMILARITY:
        return None
    leads = [u["unit"] for u in gold.get("units") or [] if u["role"] == "lead"]
    if leads and not _units_overlap(leads, task.lead_units):
        return None
    return ratio


def _unit(text: str | None) -> str:
    return (text or "").replace("％", "%").replace("㎡", "平方米").split("/")[0]


def _target_similarity(gold: dict, target) -> float | None:
    if gold.get("target_value") is None or target.value is None:
        return None
    if float(gold["target_value"]) != float(target.value):
        return None
    if _unit(gold.get("measure_unit")) != _unit(target.unit):
        return None
    year_g, year_d = gold.get("target_year"), target.year
    if year_g and year_d and int(year_g) != int(year_d):
        return None
    return difflib.SequenceMatcher(None, gold.get("name") or "", target.name).ratio()


def _milestone_similarity(gold, drafted) -> float | None:
    if str(gold["due_on"]) != drafted.due_on.isoformat():
        return None
    return difflib.SequenceMatcher(None, gold.get("text") or "", drafted.text).ratio()


def score_plan(gold: dict, draft: Draft) -> dict[str, Score]:
    gold_tasks = gold.get("tasks") or []
    gold_targets = gold.get("targets") or []
    gold_milestones = [
        m for owner in [*gold_tasks, *gold_targets] for m in owner.get("milestones") or []
    ]
    draft_milestones = [
        m for owner in [*draft.tasks, *draft.targets] for m in owner.milestones if not m.yearly
    ] + list(draft.milestones)
    return {
        "tasks": Score(
            len(gold_tasks), len(draft.tasks), _greedy(gold_tasks, draft.tasks, _task_similarity)
        ),
        "targets": Score(
            len(gold_targets),
            len(draft.targets),
            _greedy(gold_targets, draft.targets, _target_similarity),
        ),
        "milestones": Score(
            len(gold_milestones),
            len(draft_milestones),
            _greedy(gold_milestones, draft_milestones, _milestone_similarity),
        ),
    }


def seed_pairs() -> list[tuple[str, Path, dict]]:
    """(plan code, source text file, gold fixture) for each seed plan."""
    pairs = []
    for path in sorted((fixture_dir() / "plans").glob("*.yaml")):
        gold = yaml.safe_load(path.read_text(encoding="utf-8"))
        source = fixture_dir() / "sources" / gold["plan"]["source_file"]
        pairs.append((gold["plan"]["code"], source, gold))
    return pairs


def score_seeds(convert=None) -> dict[str, dict[str, Score]]:
    """Scores per plan; ``convert(source_path) -> (name, bytes)`` lets the tests feed a
    .docx or .pdf made from the text instead of the text itself."""
    results = {}
    for code, source, gold in seed_pairs():
        name, data = convert(source) if convert else (source.name, source.read_bytes())
        results[code] = score_plan(gold, extract(read_document(name, data)))
    return results


def total(results: dict[str, dict[str, Score]]) -> dict[str, Score]:
    summed: dict[str, Score] = {}
    for scores in results.values():
        for kind, score in scores.items():
            summed[kind] = summed[kind] + score if kind in summed else score
    return summed


def table(results: dict[str, dict[str, Score]]) -> str:
    kinds = ("tasks", "targets", "milestones")
    head = "| plan | " + " | ".join(f"{k} R | {k} P" for k in kinds) + " |"
    rows = [head, "|" + " --- |" * (1 + 2 * len(kinds))]

    def cells(scores):
        return " | ".join(
            f"{s.recall:.0%} ({s.matched}/{s.gold}) | {s.precision:.0%} ({s.matched}/{s.draft})"
            for s in (scores[k] for k in kinds)
        )

    for code, scores in results.items():
        rows.append(f"| {code} | {cells(scores)} |")
    rows.append(f"| **all five** | {cells(total(results))} |")
    return "\n".join(rows)
