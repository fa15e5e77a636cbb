"""The human-evaluation kit: blinded pairwise tasks for Label Studio, and the analysis of its export.

``interplay human-eval export`` pairs each Interplay dialogue with the baseline's dialogue of the
same seed profile (:mod:`.tasks`), in Label Studio's task import format with its labeling
configuration (:mod:`.criteria`); which system is A is kept in a separate key file. ``interplay
human-eval analyze`` reads Label Studio's JSON export back with that key (:mod:`.analysis`): win /
tie / loss per criterion with Wilson intervals and Krippendorff's alpha (:mod:`.agreement`), as
``reports/human_eval.md`` (:mod:`.report`). The modules are pure; :mod:`.files` reads and writes.
"""
