"""Import jobs: files of history (events, interactions, reference records, coupons) stored durably, then
stored row by row by a worker through each API's own schema and write path (docs/imports.md)."""
