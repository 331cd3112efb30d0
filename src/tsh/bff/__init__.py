"""Screens for the 11 apps: declarations over domain services, run by one mechanism (runtime.py)."""
