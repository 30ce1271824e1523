from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

admin.site.site_header = "消防救援规划任务跟踪系统"
admin.site.site_title = "消防规划跟踪"
admin.site.index_title = "数据管理"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
]
