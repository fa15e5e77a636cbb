"""The pipeline's contract: what a stage runs and depends on (:mod:`.stage_code`), what identifies
its outputs (:mod:`.stage_keys`, with the parameters that change none in :mod:`.runtime_keys`),
the order stages run in (:mod:`.stage_graph`), file hashes (:mod:`.hashing`) and the repair of
DVC's state after a kill (:mod:`.dvc_state`). ``dvc.yaml`` declares the stages; this package
derives everything else from it, so that a stage knows when it is stale without a second list."""
