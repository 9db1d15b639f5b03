"""The HTTP kit: route declarations, request validation, the OpenAPI document."""
