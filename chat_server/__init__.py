"""The groupchat server: one process, one thread, a selectors loop."""

__version__ = "0.1.0"
