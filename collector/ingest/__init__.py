"""The one intake path: a body's JSON, each event validated and mapped to its row (user agents, page addresses,
e-commerce mapping), stored with the refused ones. Free of Flask.
"""
