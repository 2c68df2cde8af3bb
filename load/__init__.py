"""Load test: gunicorn on PostgreSQL against a firm of 100,000 clients, driven by wrk."""
