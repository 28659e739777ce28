-- Lists (alerts, the live queue, residents) are logged as reads of each resident on
-- them, once per person, resident and kind of list every few minutes: this index
-- finds the last such read.

CREATE INDEX record_reads_by_reader ON record_reads (user_id, resident_id, what, at DESC);
