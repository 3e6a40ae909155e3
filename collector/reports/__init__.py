"""What analysts are shown: the report registry, the web panels, the shop reports, exports and how numbers are
written.
"""
