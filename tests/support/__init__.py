"""What the tests share besides fixtures: request factories, real servers (gunicorn, PostgreSQL, an upstream),
the analysts' dataset and the answer contract. Fixtures themselves are in tests/conftest.py."""
