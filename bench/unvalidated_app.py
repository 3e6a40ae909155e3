"""The collector with DataCue validation switched off, for one measurement only: what storing costs.

    python bench/ingest.py --app bench.unvalidated_app:app --loads single,batch100 --rss-events 0

Every event is taken as sent (the benchmark's events are valid); never serve this.
"""

from collector import create_app
from collector.schemas import datacue

datacue.EVENT.load = lambda item, **kwargs: item  # the schema instance the DataCue endpoint uses
app = create_app()
