"""Fault drills: real worker processes, PostgreSQL, an SMTP server and the sandbox partner."""
