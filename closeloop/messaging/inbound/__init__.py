"""The lead mailbox: polling IMAP and turning received mail into leads and timeline entries.

config (IMAP_URL), parsing (MIME → ParsedMail), classify (auto-reply, bounce, list),
routing (the services that record a message), polling (IMAP), selectors (the status page).
"""
