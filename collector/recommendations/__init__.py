"""The recommendation engine: DataCue's answers to page views (banners, similar, related and recently viewed
products), computed from tables the worker keeps up to date. Nothing here yet: it reads ingest, reference and
storage, and is read by the API and the worker.
"""
