from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from closeloop.core.ratelimit import RateLimited, client_ip

from .login_throttle import login_failure_record, login_success_record, login_throttle_check
from .models import User


class EmailBackend(ModelBackend):
    """Log in by email, case-insensitively; deactivated users cannot log in.

    A login through a page (with a request: the login page, the Django admin's) is throttled:
    past the failure limits it is refused before the password is checked, and the refusal is
    left on the request (`login_refusal`) for the form to show.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        email = (kwargs.get("email") or username or "").strip().lower()
        if not email or password is None:
            return None
        if request is None:
            return self._checked(email, password)
        ip = client_ip(request)
        try:
            login_throttle_check(email=email, ip=ip)
        except RateLimited as refusal:
            request.login_refusal = refusal  # type: ignore[attr-defined]
            raise PermissionDenied(refusal.message) from refusal
        user = self._checked(email, password)
        if user is None:
            login_failure_record(email=email, ip=ip)
        else:
            login_success_record(email=email)
        return user

    def _checked(self, email: str, password: str) -> User | None:
        try:
            user = User.objects.get(email__iexact=email)
        except User.DoesNotExist:
            User().set_password(password)  # same work as a real check: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id: int) -> User | None:  # type: ignore[override]
        try:
            user = User.objects.get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if user.is_active else None
