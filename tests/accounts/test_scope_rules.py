"""Each app declares the scope rules of its own models; together they cover every model that
pages, the API, importers and exports filter by scope."""

from django.apps import apps

from core import scope


def test_every_scoped_model_has_its_rule_from_its_own_app():
    expected = {
        "core.region", "core.unit", "core.evidence", "accounts.profile", "auth.user",
        "planning.plan", "planning.stage", "planning.section", "planning.task",
        "planning.taskassignment", "planning.taskupdate", "stations.station",
        "targets.target", "targets.milestone", "targets.allocation", "targets.progressreport",
        "targets.firestatistic", "targets.basefigure", "targets.reportingperiod",
        "targets.lockexception", "targets.reportcontribution", "targets.targetadjustment",
        "targets.targetevaluationnote",
        "reports.assessmentscheme",
        "reports.itemweight", "reports.deduction", "reports.vetoitem", "reports.gradeband",
        "reports.importbatch",
    }  # fmt: skip
    assert set(scope.RULES) == expected
    assert scope.DISTINCT == {"targets.target", "core.evidence", "targets.progressreport"}
    for label in expected:
        apps.get_model(label)  # every label names a model


def test_core_knows_no_domain_rule():
    """core/scope.py names no app label: the rules come from the apps (scope_rules)."""
    source = apps.get_app_config("core").path + "/scope.py"
    text = open(source, encoding="utf-8").read()
    for app in ("planning.", "targets.", "stations.", "reports.", "accounts."):
        assert f'"{app}' not in text
