"""Line-mode and Textual clients for groupchat."""

__version__ = "0.1.0"
