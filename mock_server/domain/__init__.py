"""The domain: the rules of both APIs in plain Python, no web framework, no state engine.

``activities`` is the Sport Activities API (events, subscriptions, users, the geo catalog),
``tracking`` the Sports Tracking Data API (uploads, blobs, activities, thumbnails). Both take
their state through the protocols of ``ports`` (which ``mock_server.state`` implements) and
their "now" from a ``clock``; their errors (``errors``) carry the HTTP status to answer.
"""
