from django.db import models


class LeadStatus(models.TextChoices):
    NEW = "new", "New"
    CONTACTED = "contacted", "Contacted"
    QUALIFYING = "qualifying", "Qualifying"
    # the three outcomes: every lead ends in exactly one of them
    QUALIFIED = "qualified", "Sales-qualified"
    NURTURING = "nurturing", "Nurturing"
    DISQUALIFIED = "disqualified", "Discarded"


# statuses a lead is still being worked in (the inbox); the rest are outcomes
OPEN_LEAD_STATUSES = (LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFYING)


class CriterionStatus(models.TextChoices):
    UNKNOWN = "unknown", "Unknown"
    NO = "no", "No"
    PARTLY = "partly", "Partly"
    YES = "yes", "Yes"


# share of a criterion's weight each answer earns
CRITERION_POINTS = {
    CriterionStatus.UNKNOWN: 0.0,
    CriterionStatus.NO: 0.0,
    CriterionStatus.PARTLY: 0.5,
    CriterionStatus.YES: 1.0,
}

# key, name, question: the four built-in criteria (BANT); admins may add more
BANT_CRITERIA = [
    ("budget", "Budget", "Can they pay for it? Amount or range."),
    ("authority", "Authority", "Who decides, and is our contact the decision-maker?"),
    ("need", "Need", "The problem, in their words."),
    ("timeline", "Timeline", "When do they intend to buy?"),
]

DEFAULT_DISQUALIFY_REASONS = [
    "No budget",
    "No need",
    "Not the decision-maker",
    "No timeline",
    "Competitor customer",
    "Spam",
    "Other",
]


class CampaignChannel(models.TextChoices):
    EMAIL = "email", "Email"
    ADS = "ads", "Ads"
    SOCIAL = "social", "Social media"
    EVENT = "event", "Event"
    CONTENT = "content", "Content"
    OTHER = "other", "Other"


class ImportKind(models.TextChoices):
    LEADS = "leads", "Leads"
    ORGANIZATIONS = "organizations", "Organizations"
    CONTACTS = "contacts", "Contacts"
    DEALS = "deals", "Deals"


class ImportMode(models.TextChoices):
    CREATE = "create", "Create only (skip duplicates)"
    UPDATE = "update", "Update existing only"
    UPSERT = "upsert", "Create or update"


class ImportState(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    UNDONE = "undone", "Undone"


class RowOutcome(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    SKIPPED = "skipped", "Skipped (duplicate)"
    FAILED = "failed", "Failed"


class DuplicateState(models.TextChoices):
    OPEN = "open", "To review"
    DISMISSED = "dismissed", "Not a duplicate"
    MERGED = "merged", "Merged"


class DuplicateScanState(models.TextChoices):
    QUEUED = "queued", "Waiting to start"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


DEFAULT_SOURCES = [
    "Website form",
    "Referral",
    "Email campaign",
    "Paid ads",
    "Social media",
    "Event",
    "Cold outreach",
    "Lead-generation team",
    "Import",
    "API",
    "Email",
    "Other",
]

# Mail providers whose domain says nothing about the sender's company.
FREE_MAIL_DOMAINS = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.de",
        "yahoo.fr",
        "ymail.com",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.de",
        "hotmail.fr",
        "outlook.com",
        "outlook.de",
        "live.com",
        "live.de",
        "msn.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "gmx.de",
        "gmx.net",
        "gmx.com",
        "gmx.at",
        "gmx.ch",
        "web.de",
        "t-online.de",
        "freenet.de",
        "posteo.de",
        "mailbox.org",
        "proton.me",
        "protonmail.com",
        "protonmail.ch",
        "pm.me",
        "zoho.com",
        "yandex.com",
        "yandex.ru",
        "mail.ru",
        "inbox.ru",
        "bk.ru",
        "list.ru",
        "qq.com",
        "163.com",
        "126.com",
        "orange.fr",
        "free.fr",
        "laposte.net",
        "wanadoo.fr",
        "libero.it",
        "virgilio.it",
        "tiscali.it",
        "seznam.cz",
        "wp.pl",
        "o2.pl",
        "onet.pl",
        "interia.pl",
        "btinternet.com",
        "sky.com",
        "virginmedia.com",
        "comcast.net",
        "verizon.net",
        "att.net",
        "sbcglobal.net",
        "cox.net",
        "earthlink.net",
        "fastmail.com",
        "hey.com",
        "tutanota.com",
        "tuta.io",
        "rediffmail.com",
    ]
)
