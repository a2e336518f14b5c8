"""Offline twin (stateful mock) of Decathlon's Sport Activities API v1 and Sports Tracking
Data API v2."""
