"""The Flask app around the views: error answers, CORS, security headers, rate limits, the request log, bodies
and the tracker's files.
"""
