"""The analytics tables and what reads them: visits, hourly rollups and tallies, the funnel, kept up to date from
the events (refresh.py).
"""
