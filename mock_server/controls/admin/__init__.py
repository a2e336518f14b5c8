"""The admin API: a blueprint skeleton and the routes of each control."""
