"""How a run is configured: the typed parameter model read from ``params.yaml`` (:mod:`.params`,
with the strict YAML reading of :mod:`.params_file`) and the offline environment every entry
point sets before any library starts (:mod:`.env`)."""
