"""What a dialogue is and how it is measured: the row contract between stages (:mod:`.rows`) and
the metrics of SPEC as pure functions over those rows (:mod:`.metrics`)."""
