from rest_framework.routers import DefaultRouter

from targets.api import views

router = DefaultRouter(trailing_slash=True)
router.register("targets", views.TargetViewSet, basename="target")
router.register("milestones", views.MilestoneViewSet, basename="milestone")
router.register("allocations", views.AllocationViewSet, basename="allocation")
router.register("reports", views.ProgressReportViewSet, basename="report")
router.register("fire-statistics", views.FireStatisticViewSet, basename="fire-statistic")
router.register("base-figures", views.BaseFigureViewSet, basename="base-figure")
router.register("notices", views.NoticeViewSet, basename="notice")
