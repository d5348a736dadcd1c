"""The HTTP API's OpenAPI description: the registry of routes (openapi.py), the check routes generated from
the mode specs (checks.py) and the entries of the admin, health and description routes (routes.py)."""
