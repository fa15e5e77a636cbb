"""Rules about text shared by every stage: how a title is named in text (:mod:`.titles`), the
user's end marker (:mod:`.end_marker`), the role prompts (:mod:`.prompts`) and the credentials
kept out of every message (:mod:`.redaction`). One definition each, so that training, simulation
and the metrics cannot disagree."""
