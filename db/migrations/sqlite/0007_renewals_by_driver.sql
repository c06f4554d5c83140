-- Nearly every page a driver sees looks up their renewal in progress by driver and status. The
-- partial unique index renewals_one_open cannot serve that query when the statuses are bound
-- parameters, so without this index each lookup read the whole table.
CREATE INDEX renewals_driver ON renewals (driver_id, status);
