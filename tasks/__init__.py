"""Stage entry points: one thin module per ``dvc.yaml`` stage, each with ``run(params, root)``."""
