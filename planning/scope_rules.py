"""Who may see and change plans and their parts: located by the plan's region (core.scope)."""

from core.scope import located, register

register("planning.plan", located("region_id"))
register("planning.stage", located("plan__region_id"))
register("planning.section", located("plan__region_id"))
register("planning.task", located("plan__region_id"))
register("planning.taskassignment", located("task__plan__region_id"))
register("planning.taskupdate", located("task__plan__region_id"))
