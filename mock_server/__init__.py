"""Mock server and contract kit for Decathlon's Sport Activities API v1."""
