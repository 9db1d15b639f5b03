"""Health: the health check route."""
