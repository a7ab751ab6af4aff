"""Model files, the command line and the demo."""
