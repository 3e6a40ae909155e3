"""Reference data: the record types, the one path records take whatever API sends them, and DataCue's backend
operations on them.
"""
