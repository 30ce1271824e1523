from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from .models import Notice


def notice_list(request):
    notices = Notice.objects.filter(user=request.user).order_by("read_at", "-created_at")[:200]
    return render(request, "accounts/notice_list.html", {"notices": notices})


@require_POST
def notices_mark_read(request):
    Notice.objects.filter(user=request.user, read_at__isnull=True).update(read_at=timezone.now())
    return redirect("notice_list")
