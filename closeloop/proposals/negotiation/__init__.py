"""Negotiating a proposal: its versions and what changed, and discount approvals."""
