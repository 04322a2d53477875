"""Cameras over OpenCV: capture sources, document scanning and face capture checks."""
