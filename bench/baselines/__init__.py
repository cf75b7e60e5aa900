"""What the same machine does without eventops: bare apps doing the same database work."""
