"""A reference-free catalog retriever: rank catalog items from the conversation so far.

The recommender simulator is a 135M model: it cannot recall titles from its weights, but it can
choose among and talk about a few candidates put in front of it (as PEARL and iEvaLM do). This
module is what puts them there. Its only input is what was said — each message's speaker, text
and the catalog items linked in it — so nothing of a seed profile or a target can reach it; its
statistics are fitted on train dialogues only (:func:`fit_retriever` refuses any other split).

Six signals, each scaled to [0, 1] over the catalog and combined with the weights of
``params.yaml`` (``retriever``), chosen on the validation split by
``benchmarks/bench_recommendation.py``:

* **attributes**: genres, decades and full names of people said in the conversation (found by
  scikit-learn's ``CountVectorizer`` on the catalog's own vocabulary), matched to item metadata;
  an item scores the summed idf of the requested attributes it has, so "a horror movie from the
  80s with Jamie Lee Curtis" finds *Halloween (1978)*. The seeker's words weigh more.
* **text**: TF-IDF (word 1-2 grams) of the conversation against item plots ("time travel").
* **content**: the metadata (genres, people, decade as whole tokens) of the items mentioned so far,
  the latest weighing most, against every item's (a seeker who liked *Superbad* is shown comedies
  with its cast).
* **co-mention**: how often an item was mentioned in one train dialogue with the items mentioned
  so far, normalized by both items' counts.
* **context**: what seekers of train dialogues had said before a recommender first named the
  item there, one TF-IDF document per item (the requests it answered: "something scary" ->
  *Halloween*), against the conversation's words. With ~900 train dialogues most items have no
  such document, so it is a weak signal (see ``reports/recommendation.md``).
* **popularity**: how many train dialogues a recommender mentioned the item in (log-scaled): the
  prior when the conversation says nothing yet.

Items already mentioned are never candidates, nor their namesakes (an item whose title without
year, normalized, is that of an item said: after *Beauty and the Beast (2017)* its 1991 and 2009
namesakes are no new suggestion), nor items without a year: each candidate can be written
``Title (Year)``, the form the title linker is surest of, and the catalog's yearless names are
mostly duplicates of dated ones ("Moana" beside "Moana (2016)"). A ranking holds at most one item
per base title, the best-scored (:func:`top_rows`, used by :meth:`CatalogRetriever.rank` and the
benchmark alike), so the metadata and co-mention signals cannot fill a note with remakes of one
film. Ranking is deterministic: ties fall to catalog order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from interplay.config.params import RetrieverParams
from interplay.corpus.catalog import Catalog, CatalogItem
from interplay.corpus.schema import Dialogue
from interplay.text.titles import normalize_title

#: Decade words a conversation uses, rewritten to the token an item's metadata carries.
_DECADE = re.compile(r"\b(?:19|20)?([0-9])0'?s\b")
_DECADE_WORDS = {
    "sixties": "1960s", "seventies": "1970s", "eighties": "1980s", "nineties": "1990s",
}
#: How people name genres -> the catalog's genre words (plurals and adjectives are not stemmed
#: by TF-IDF: "romantic comedies" would otherwise miss every "romance, comedy" item).
_GENRE_WORDS = {
    "comedies": "comedy", "funny": "comedy", "hilarious": "comedy", "romantic": "romance",
    "romcom": "romance comedy", "rom-com": "romance comedy", "romcoms": "romance comedy",
    "rom-coms": "romance comedy", "scary": "horror", "horrors": "horror", "dramas": "drama",
    "dramatic": "drama", "thrillers": "thriller", "documentaries": "documentary",
    "westerns": "western", "musicals": "musical", "animated": "animation", "cartoons": "animation",
    "cartoon": "animation", "mysteries": "mystery", "biopic": "biography", "biopics": "biography",
    "biographical": "biography", "historical": "history", "scifi": "sci fi",
    "superhero": "action superhero", "superheroes": "action superhero", "kids": "family",
    "wars": "war", "sports": "sport", "crimes": "crime", "fantasies": "fantasy",
}
_WORD = re.compile(r"[\w'-]+")


@dataclass(frozen=True)
class Said:
    """One message as the retriever sees it: who spoke, what they wrote, which items it names."""

    role: str
    text: str
    item_ids: tuple[str, ...] = ()


def _decade_token(digit: str) -> str:
    century = "19" if digit in "3456789" else "20"
    return f"decade{century}{digit}0s"


def normalize_query(text: str) -> str:
    """Lower-case text with genre words as the catalog spells them and decade spellings ("80s",
    "1980's", "eighties") as one token."""
    text = _WORD.sub(lambda m: _GENRE_WORDS.get(m.group(0), m.group(0)), text.lower())
    for word, decade in _DECADE_WORDS.items():
        text = text.replace(word, decade)
    return _DECADE.sub(lambda m: _decade_token(m.group(1)), text)


def item_document(item: CatalogItem) -> str:
    """The free text an item is matched on: its plot. Not the title: conversational words would
    match titles ("help" -> *Help!*, "scary movie" -> *Scary Movie*), and titles said in the
    conversation are linked items, matched by the content and co-mention signals instead."""
    return item.plot


def metadata_tokens(item: CatalogItem) -> list[str]:
    """An item's metadata as whole tokens (``genre:comedy``, ``person:Jim Carrey``, its decade)."""
    tokens = [f"genre:{g}" for g in item.genres] + [f"person:{p}" for p in (*item.directors, *item.actors)]
    if item.year is not None and 1930 <= item.year < 2030:
        tokens.append(_decade_token(str(item.year)[2]))
    return tokens


def _tokens(tokens: list[str]) -> list[str]:
    return tokens


#: Words as the attribute extractor and the catalog's attribute phrases are both split.
_PHRASE_TOKEN = r"(?u)\b\w[\w'-]*\b"
_PHRASE_WORDS = re.compile(_PHRASE_TOKEN)


def _phrase_key(token: str) -> str | None:
    """The words a metadata token is written with in a conversation (``person:Jim Carrey`` ->
    "jim carrey"); None for one-word names, which are everyday words too ("Young", "Will")."""
    kind, _, value = token.partition(":")
    words = _PHRASE_WORDS.findall(normalize_query(value if value else kind))
    if kind == "person" and len(words) < 2:
        return None
    return " ".join(words) if 0 < len(words) <= 4 else None


def _scaled(scores: np.ndarray) -> np.ndarray:
    top = scores.max(initial=0.0)
    return scores / top if top > 0 else scores


@dataclass(frozen=True, eq=False)
class CatalogRetriever:
    """Fitted statistics over the catalog; :meth:`rank` is a pure function of what was said."""

    item_ids: tuple[str, ...]
    vectorizer: TfidfVectorizer | None  # None: no plots to match (or ``match_plot`` off)
    item_vectors: sparse.csr_matrix | None  # items x plot terms, rows L2-normalized
    metadata_vectors: sparse.csr_matrix  # items x metadata tokens, rows L2-normalized
    extractor: CountVectorizer  # attribute phrases said ("comedy", "jim carrey", "decade1990s")
    phrase_items: sparse.csr_matrix  # phrases x items: idf of the phrase where the item has it
    comention: sparse.csr_matrix  # items x items, normalized co-mention counts, zero diagonal
    context_vectorizer: TfidfVectorizer | None  # None: no train recommendation had words before it
    context_vectors: sparse.csr_matrix | None  # items x context terms, rows L2-normalized
    popularity: np.ndarray  # items, in [0, 1]
    yearless: np.ndarray  # rows of items without a year: never candidates
    base_title: np.ndarray  # items: the number of the item's title without year (normalized)
    position: dict[str, int]
    params: RetrieverParams
    train_dialogue_ids: frozenset[str]

    def signals(self, said: Sequence[Said]) -> dict[str, np.ndarray]:
        """Each signal's score of every catalog item, scaled to [0, 1] (see the module doc)."""
        return self.signals_batch([said])[0]

    def signals_batch(self, conversations: Sequence[Sequence[Said]]) -> list[dict[str, np.ndarray]]:
        """:meth:`signals` of each conversation, computed together: one vectorizer pass and one
        product per signal for them all, not one per conversation (preprocessing ranks every
        seeker turn of the train dialogues). Each conversation's scores are the same numbers
        as alone: every step works row by row, in the same order."""
        p = self.params
        n = len(conversations)
        if n == 0:
            return []
        queries = [
            normalize_query(" ".join(s.text for s in said if (s.role == "user") == seeker))
            for said in conversations for seeker in (True, False)
        ]
        columns: dict[str, np.ndarray] = {}  # signal -> items x conversations, unscaled
        if self.vectorizer is not None:
            query = self.vectorizer.transform(queries)
            columns["text"] = _dense(self.item_vectors @ (query[0::2] + query[1::2] * p.recommender_text_weight).T)
        if self.context_vectorizer is not None:
            query = self.context_vectorizer.transform(queries)
            context = query[0::2] + query[1::2] * p.recommender_text_weight
            columns["context"] = _dense(self.context_vectors @ context.T)
        said_phrases = self.extractor.transform(queries)
        phrases = (said_phrases[0::2] > 0).astype(np.float64) + (said_phrases[1::2] > 0) * p.recommender_text_weight
        columns["attributes"] = _dense(phrases @ self.phrase_items).T
        weights = [self._item_weights(said) for said in conversations]
        rows = [j for j, w in enumerate(weights) for _ in w]
        items = sparse.csr_matrix(
            ([v for w in weights for v in w.values()], (rows, [i for w in weights for i in w])),
            shape=(n, len(self.item_ids)),
        )
        columns["content"] = _dense(self.metadata_vectors @ (items @ self.metadata_vectors).T)
        columns["comention"] = _dense(self.comention @ items.T)
        out = []
        for j, w in enumerate(weights):
            one = {"popularity": self.popularity}
            for name, column in columns.items():
                if w or name not in _OF_MENTIONS:  # nothing mentioned: those signals are absent
                    one[name] = _scaled(np.ascontiguousarray(column[:, j]))
            one["mentioned"] = np.array(sorted(w), dtype=np.int64)
            one["namesakes"] = np.flatnonzero(np.isin(self.base_title, self.base_title[one["mentioned"]]))
            one["yearless"] = self.yearless
            out.append(one)
        return out

    def _item_weights(self, said: Sequence[Said]) -> dict[int, float]:
        """Row -> weight of each item mentioned so far: 1 for the seeker's own mentions (the
        recommender's count ``recommender_item_weight``), times ``recency`` per later message."""
        p = self.params
        weights: dict[int, float] = {}
        for age, message in enumerate(reversed(said)):
            weight = (1.0 if message.role == "user" else p.recommender_item_weight) * p.recency**age
            for item_id in message.item_ids:
                row = self.position.get(item_id)
                if row is not None:
                    weights[row] = max(weights.get(row, 0.0), weight)
        return weights

    def rank(self, said: Sequence[Said], k: int) -> list[str]:
        """The ``k`` best items not mentioned yet, best first, one per base title."""
        return self.rank_batch([said], k)[0]

    def rank_batch(self, conversations: Sequence[Sequence[Said]], k: int) -> list[list[str]]:
        """:meth:`rank` of each conversation, scored together (:meth:`signals_batch`)."""
        return [
            [self.item_ids[i] for i in top_rows(combine(signals, self.params), self.base_title, k)]
            for signals in self.signals_batch(conversations)
        ]


SIGNALS = ("attributes", "text", "content", "comention", "context", "popularity")
#: The signals computed from the items mentioned so far.
_OF_MENTIONS = ("content", "comention")


def combine(signals: dict[str, np.ndarray], params: RetrieverParams) -> np.ndarray:
    """The weighted sum of the signals (a missing one counts zero); items mentioned so far, their
    namesakes (the same title without year: a remake of a film said is not a new suggestion) and
    yearless items get -inf."""
    total = np.zeros_like(signals["popularity"])
    for name in SIGNALS:
        if name in signals:
            total = total + getattr(params, f"{name}_weight") * signals[name]
    total[signals["namesakes"]] = -np.inf
    total[signals["yearless"]] = -np.inf
    return total


def top_rows(scores: np.ndarray, base_title: np.ndarray, k: int) -> list[int]:
    """The rows of the ``k`` best finite scores, at most one per base title (the best-scored of
    same-name remakes), best first; ties fall to catalog order."""
    rows: list[int] = []
    titles: set[int] = set()
    for row in np.argsort(-scores, kind="stable"):
        if len(rows) == k or not np.isfinite(scores[row]):
            break
        if base_title[row] not in titles:
            titles.add(base_title[row])
            rows.append(int(row))
    return rows


def _dense(matrix: sparse.spmatrix | np.ndarray) -> np.ndarray:
    dense = matrix.toarray() if sparse.issparse(matrix) else np.asarray(matrix)
    return dense.astype(np.float64)


def said_of(dialogue: Dialogue, upto: int | None = None) -> list[Said]:
    """The messages of a corpus dialogue (before index ``upto``) as the retriever sees them."""
    messages = dialogue.messages if upto is None else dialogue.messages[:upto]
    items: dict[int, list[str]] = {}
    for mention in dialogue.item_mentions:
        items.setdefault(mention.turn, []).append(mention.item_id)
    return [Said(m.role, m.content, tuple(items.get(t, ()))) for t, m in enumerate(messages)]


def _attribute_phrases(
    metadata: TfidfVectorizer, metadata_vectors: sparse.csr_matrix
) -> tuple[CountVectorizer, sparse.csr_matrix]:
    """The phrase extractor (scikit-learn's, on a fixed vocabulary) and, per phrase, the idf of
    its metadata token on every item that has it: an item scores the summed idf of the requested
    attributes it has, so a name counts more than a genre and a one-genre item gains nothing."""
    columns: dict[str, list[int]] = {}
    for token, column in metadata.vocabulary_.items():
        key = _phrase_key(token)
        if key is not None:
            columns.setdefault(key, []).append(column)
    phrases = sorted(columns)
    extractor = CountVectorizer(
        vocabulary={p: i for i, p in enumerate(phrases)}, ngram_range=(1, 4), token_pattern=_PHRASE_TOKEN,
        lowercase=True, dtype=np.float64,
    )
    rows = [i for i, p in enumerate(phrases) for _ in columns[p]]
    cols = [c for p in phrases for c in columns[p]]
    to_tokens = sparse.csr_matrix((metadata.idf_[cols], (rows, cols)), shape=(len(phrases), len(metadata.idf_)))
    has = (metadata_vectors > 0).astype(np.float64)
    return extractor, (to_tokens @ has.T).tocsr()


def _context_documents(train: Sequence[Dialogue], position: dict[str, int]) -> list[str]:
    """Per item, what seekers of train dialogues had said before a recommender first named it
    there (as :func:`normalize_query` writes it): the requests the item answered."""
    documents: list[list[str]] = [[] for _ in position]
    for dialogue in train:
        said = said_of(dialogue)
        seen: set[str] = set()
        for turn, message in enumerate(said):
            if message.role == "recommender":
                before = " ".join(s.text for s in said[:turn] if s.role == "user")
                for item_id in dict.fromkeys(message.item_ids):
                    if item_id not in seen and item_id in position and before:
                        documents[position[item_id]].append(normalize_query(before))
            seen.update(message.item_ids)
    return [" ".join(d) for d in documents]


def fit_retriever(catalog: Catalog, dialogues: Iterable[Dialogue], params: RetrieverParams) -> CatalogRetriever:
    """Fit on the catalog and train dialogues; any dialogue of another split is refused."""
    train = list(dialogues)
    foreign = [d.dialogue_id for d in train if d.split != "train"]
    if foreign:
        raise ValueError(f"the retriever is fitted on train dialogues only; got {foreign[:3]} of other splits")
    ids = tuple(item.item_id for item in catalog.items)
    position = {item_id: i for i, item_id in enumerate(ids)}
    plots = [item_document(item) for item in catalog.items]
    vectorizer, item_vectors = None, None
    if params.match_plot and any(plots):
        vectorizer = TfidfVectorizer(
            ngram_range=(1, 2), sublinear_tf=True, stop_words="english", min_df=params.min_df, dtype=np.float64
        )
        item_vectors = vectorizer.fit_transform(plots).tocsr()
    metadata = TfidfVectorizer(analyzer=_tokens, dtype=np.float64)
    metadata_vectors = metadata.fit_transform([metadata_tokens(item) or ["none"] for item in catalog.items]).tocsr()
    extractor, phrase_items = _attribute_phrases(metadata, metadata_vectors)
    rows, cols = [], []
    recommended = np.zeros(len(ids))
    for n, dialogue in enumerate(train):
        seen = sorted({position[m.item_id] for m in dialogue.item_mentions if m.item_id in position})
        rows.extend([n] * len(seen))
        cols.extend(seen)
        for row in {position[m.item_id] for m in dialogue.item_mentions if m.role == "recommender" and m.item_id in position}:
            recommended[row] += 1
    occurs = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(train), len(ids)))
    counts = np.asarray(occurs.sum(axis=0)).reshape(-1)
    together = (occurs.T @ occurs).tocsr()
    together.setdiag(0)
    together.eliminate_zeros()
    norm = sparse.diags(1.0 / np.sqrt(np.maximum(counts, 1.0)))
    comention = (norm @ together @ norm).tocsr()
    popularity = _scaled(np.log1p(recommended))
    contexts = _context_documents(train, position)
    context_vectorizer, context_vectors = None, None
    if any(contexts):
        context_vectorizer = TfidfVectorizer(sublinear_tf=True, stop_words="english", dtype=np.float64)
        context_vectors = context_vectorizer.fit_transform(contexts).tocsr()
    titles: dict[str, int] = {}
    base_title = np.array([titles.setdefault(normalize_title(item.name), len(titles)) for item in catalog.items])
    return CatalogRetriever(
        item_ids=ids,
        vectorizer=vectorizer,
        item_vectors=item_vectors,
        metadata_vectors=metadata_vectors,
        extractor=extractor,
        phrase_items=phrase_items,
        comention=comention,
        context_vectorizer=context_vectorizer,
        context_vectors=context_vectors,
        popularity=popularity,
        yearless=np.array([i for i, item in enumerate(catalog.items) if item.year is None], dtype=np.int64),
        base_title=base_title,
        position=position,
        params=params,
        train_dialogue_ids=frozenset(d.dialogue_id for d in train),
    )
