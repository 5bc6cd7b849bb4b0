"""Imports of leads, organizations, contacts and deals from CSV and XLSX files.

reading (files) -> mapping (columns) -> values/resolvers (cells) -> engine + handlers (rows)
-> services (what views, the command line and the worker call) and selectors (what they read).
"""
