"""Cluster mode: several server processes sharing groups, members and messages through one Redis."""
