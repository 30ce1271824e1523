"""Who may see and change assessment rules and import batches (core.scope)."""

from core.scope import inside, located, register

register("reports.assessmentscheme", located("plan__region_id"))
register("reports.itemweight", located("scheme__plan__region_id"))
register("reports.deduction", located("scheme__plan__region_id"))
register("reports.vetoitem", located("scheme__plan__region_id"))
register("reports.gradeband", located("scheme__plan__region_id"))
register("reports.importbatch", inside("region_id"))
