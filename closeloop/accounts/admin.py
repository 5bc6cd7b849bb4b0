from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .forms import AdminLoginForm
from .models import Team, User, WorkspaceSettings


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active", "teams"]
    search_fields = ["email", "full_name"]
    filter_horizontal = ["teams"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["full_name", "role", "teams", "signature", "is_active"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    readonly_fields = ["last_login", "date_joined"]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "role", "password1", "password2"]})
    ]


admin.site.register(Team)
admin.site.register(WorkspaceSettings)

# The admin's login page goes through the same throttle as the app's (closeloop.accounts.forms).
admin.site.login_form = AdminLoginForm
