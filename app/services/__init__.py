"""Domain services: plain async functions over a SQLAlchemy session, shared by GraphQL, jobs and the CLI."""
