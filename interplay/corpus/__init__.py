"""Raw corpora: the normalized schema, the item catalog, one reader per corpus, and fetching."""
