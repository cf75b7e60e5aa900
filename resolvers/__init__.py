"""Thin resolvers: check access, call a service, shape the result."""
