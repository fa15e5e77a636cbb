"""Releases: one version name for the git tag, ``dvc.lock``, the Hub tag and the DVC remote
(:mod:`.versions`), what a release run shows in Prefect's UI (:mod:`.artifacts`), and what differs
between a release and its reproduction (:mod:`.diff`)."""
