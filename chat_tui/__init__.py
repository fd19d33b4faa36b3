"""Line-mode and Textual clients for groupchat."""
