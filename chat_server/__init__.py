"""The groupchat server: one process, one thread, a selectors loop."""
