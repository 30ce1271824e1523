from rest_framework.routers import DefaultRouter

from planning.api import views

router = DefaultRouter(trailing_slash=True)
router.register("regions", views.RegionViewSet, basename="region")
router.register("units", views.UnitViewSet, basename="unit")
router.register("plans", views.PlanViewSet, basename="plan")
router.register("sections", views.SectionViewSet, basename="section")
router.register("tasks", views.TaskViewSet, basename="task")
router.register("task-updates", views.TaskUpdateViewSet, basename="task-update")
