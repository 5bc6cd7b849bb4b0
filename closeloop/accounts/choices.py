from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"
    REP = "rep", "Sales rep"


class RepVisibility(models.TextChoices):
    """What a rep sees besides their own records (a workspace setting)."""

    OWN = "own", "Own records only"
    TEAM = "team", "Records of their teams"
    ALL = "all", "Everyone's records"


class TokenScope(models.TextChoices):
    """What an API token may do: only read, or also change records."""

    READ = "read", "Read only"
    READ_WRITE = "read_write", "Read and write"
