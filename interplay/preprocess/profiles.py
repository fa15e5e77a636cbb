"""Seed profiles: what the user simulator knows about itself, and what it is looking for.

A profile is written as natural second-person sentences, because template wording ("genres:
biography") leaks into the simulator's turns. It never names a target title: every part is
checked with the same fuzzy matcher the ``leakage_rate`` metric uses, and a part that names a
target is removed (and counted), so reference-free simulation stays reference-free.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from interplay.config.params import PreprocessParams
from interplay.corpus.catalog import Catalog, CatalogItem
from interplay.corpus.schema import Dialogue, Role, Split
from interplay.text.titles import names_title, split_title_year

#: Genre -> (plural noun for "You love ...", adjective for "a ... movie").
_GENRE_WORDS: dict[str, tuple[str, str]] = {
    "action": ("action movies", "action"),
    "adventure": ("adventure movies", "adventure"),
    "animation": ("animated movies", "animated"),
    "biography": ("biopics", "biographical"),
    "comedy": ("comedies", "comedy"),
    "crime": ("crime stories", "crime"),
    "documentary": ("documentaries", "documentary"),
    "drama": ("dramas", "drama"),
    "family": ("family movies", "family"),
    "fantasy": ("fantasy movies", "fantasy"),
    "film-noir": ("film noirs", "film-noir"),
    "history": ("historical movies", "historical"),
    "horror": ("horror movies", "horror"),
    "music": ("music movies", "music"),
    "musical": ("musicals", "musical"),
    "mystery": ("mysteries", "mystery"),
    "romance": ("romantic movies", "romantic"),
    "sci-fi": ("science-fiction movies", "science-fiction"),
    "sport": ("sports movies", "sports"),
    "thriller": ("thrillers", "thriller"),
    "war": ("war movies", "war"),
    "western": ("westerns", "western"),
}


def genre_plural(genre: str) -> str:
    return _GENRE_WORDS.get(genre, (f"{genre} movies", genre))[0]


def genre_adjective(genre: str) -> str:
    return _GENRE_WORDS.get(genre, (genre, genre))[1]


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def join_words(words: Sequence[str], conjunction: str = "and") -> str:
    """``["a", "b", "c"]`` -> ``"a, b and c"``."""
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


@dataclass(frozen=True)
class TargetAttributes:
    genres: tuple[str, ...] = ()
    decade: str | None = None
    directors: tuple[str, ...] = ()
    actors: tuple[str, ...] = ()

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> TargetAttributes:
        return cls(
            genres=tuple(row.get("genres") or ()),
            decade=row.get("decade"),
            directors=tuple(row.get("directors") or ()),
            actors=tuple(row.get("actors") or ()),
        )


@dataclass(frozen=True)
class Profile:
    """A seed profile; its row form is ``interplay.dialogue.rows.PROFILES_SCHEMA`` (:meth:`to_row`,
    :meth:`from_row`), so it keeps its type from preprocessing into simulation."""

    profile_id: str
    dialogue_id: str
    split: Split | None
    preference_summary: str
    target_attributes: TargetAttributes
    target_attributes_text: str
    #: For evaluation only: these never reach a prompt.
    target_item_ids: tuple[str, ...]
    target_titles: tuple[str, ...]
    opening_role: Role | None

    def to_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["target_attributes"] = asdict(self.target_attributes)
        return row

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Profile:
        """The profile of a ``profiles.parquet`` row (lists become tuples, as preprocessing made them)."""
        return cls(
            profile_id=row["profile_id"],
            dialogue_id=row["dialogue_id"],
            split=row["split"],
            preference_summary=row["preference_summary"],
            target_attributes=TargetAttributes.from_row(row.get("target_attributes") or {}),
            target_attributes_text=row["target_attributes_text"],
            target_item_ids=tuple(row["target_item_ids"]),
            target_titles=tuple(row["target_titles"]),
            opening_role=row.get("opening_role"),
        )


@dataclass(frozen=True)
class ProfileOutcome:
    profile: Profile | None
    #: Parts removed from the summary / the attributes because they named a target title.
    summary_removals: int = 0
    attribute_removals: int = 0


class _LeakFilter:
    """Drops parts that name a target title, counting each drop."""

    def __init__(self, target_titles: Sequence[str], threshold: float) -> None:
        self.titles = list(target_titles)
        self.threshold = threshold
        self.removed = 0

    def leaks(self, text: str) -> bool:
        return any(names_title(text, title, self.threshold) for title in self.titles)

    def keep_joined(self, sentences: Iterable[str]) -> list[str]:
        """Sentences kept one by one while the text joined so far still names no target."""
        kept: list[str] = []
        for sentence in sentences:
            if self.leaks(" ".join([*kept, sentence])):
                self.removed += 1
            else:
                kept.append(sentence)
        return kept

    def keep(self, parts: Iterable[str]) -> list[str]:
        kept = []
        for part in parts:
            if self.leaks(part):
                self.removed += 1
            else:
                kept.append(part)
        return kept


def _ranked(values: Iterable[str]) -> list[str]:
    """Most frequent first, ties in order of first appearance."""
    values = list(values)
    counts = Counter(values)
    first = {v: i for i, v in reversed(list(enumerate(values)))}
    return sorted(counts, key=lambda v: (-counts[v], first[v]))


def _item(item_id: str, catalog: Catalog, titles: dict[str, str]) -> CatalogItem | None:
    item = catalog.get(item_id)
    if item is not None:
        return item
    if item_id in titles:
        name, year = split_title_year(titles[item_id])
        return CatalogItem(item_id, name, year)
    return None


def preference_summary(
    liked: Sequence[CatalogItem],
    disliked: Sequence[CatalogItem],
    mentioned: Sequence[CatalogItem],
    genres: Sequence[str],
    people: Sequence[str],
    leak: _LeakFilter,
    max_titles: int,
) -> str:
    """Second-person sentences from what the seeker liked, disliked, and named.

    ``mentioned`` (the seeker's other, unrated mentions) is used only when nothing was rated.
    """
    liked_titles = leak.keep(i.title for i in liked)[:max_titles]
    liked_items = [i for i in liked if i.title in liked_titles]
    disliked_titles = leak.keep(i.title for i in disliked)[:max_titles]
    sentences: list[str] = []
    liked_genres = _ranked(g for i in liked_items for g in i.genres)
    if liked_titles:
        # Name a genre only when it really describes the titles listed (half of them or more).
        shared = liked_genres and 2 * sum(liked_genres[0] in i.genres for i in liked_items) >= len(liked_items)
        what = genre_plural(liked_genres[0]) if shared else "movies"
        sentences.append(f"You love {what} such as {join_words(liked_titles)}.")
    said_genres = [g for g in leak.keep(genres) if not liked_genres or g != liked_genres[0]][:3]
    if said_genres:
        sentences.append(f"You said you are in the mood for {join_words([genre_plural(g) for g in said_genres], 'or')}.")
    people_counts = Counter(p for i in liked_items for p in (*i.directors, *i.actors[:2]))
    fans = [p for p in _ranked(p for i in liked_items for p in (*i.directors, *i.actors[:2])) if people_counts[p] > 1]
    named = list(dict.fromkeys([*leak.keep(fans[:2]), *leak.keep(people)]))[:3]
    if named:
        sentences.append(f"You are a fan of {join_words(named)}.")
    if disliked_titles:
        sentences.append(f"You did not enjoy {join_words(disliked_titles, 'or')}.")
    if not liked_titles and not disliked_titles:
        # The seeker named movies without saying whether they liked them: still a taste signal.
        mentioned_titles = leak.keep(i.title for i in mentioned)[:max_titles]
        if mentioned_titles:
            sentences.append(f"You brought up {join_words(mentioned_titles)} when talking about movies.")
    sentences = leak.keep_joined(sentences)
    if not sentences or leak.leaks(" ".join(sentences)):
        sentences = ["You enjoy a good movie but have no particular favourites in mind."]
    return " ".join(sentences)


def target_attributes(
    targets: Sequence[CatalogItem], params: PreprocessParams, leak: _LeakFilter
) -> TargetAttributes:
    """Structured attributes of the targets, limited to ``params.target_fields``, leak-free."""
    fields = set(params.target_fields)
    genres = leak.keep(_ranked(g for t in targets for g in t.genres))[:3] if "genres" in fields else []
    decades = _ranked(t.decade for t in targets if t.decade)
    decade = decades[0] if decades and "decade" in fields else None
    directors = leak.keep(_ranked(d for t in targets for d in t.directors))[:2] if "directors" in fields else []
    actors: list[str] = []
    if "actors" in fields:
        actors = leak.keep(dict.fromkeys(a for t in targets for a in t.actors[: params.max_actors]))
        actors = actors[: params.max_actors]
    return TargetAttributes(tuple(genres), decade, tuple(directors), tuple(actors))


def attributes_text(
    attrs: TargetAttributes, several_targets: bool, leak: _LeakFilter
) -> tuple[str, TargetAttributes]:
    """One natural sentence ("You are in the mood for a comedy movie from the 1980s, ...").

    A clause that still names a target is dropped together with its structured field, so the
    text and the fields always agree.
    """
    people_join = "or" if several_targets else "and"
    genres = [genre_adjective(g) for g in attrs.genres]
    clauses = {
        "genres": f"{_article(genres[0])} {join_words(genres, 'or')} movie" if genres else "",
        "decade": f"from the {attrs.decade}" if attrs.decade else "",
        "directors": f"directed by {join_words(attrs.directors, people_join)}" if attrs.directors else "",
        "actors": f"starring {join_words(attrs.actors, people_join)}" if attrs.actors else "",
    }
    for name, clause in clauses.items():
        if clause and leak.leaks(clause):
            leak.removed += 1
            clauses[name] = ""
            attrs = replace(attrs, **{name: None if name == "decade" else ()})
    open_to_anything = "You are open to any kind of movie."
    if not any(clauses.values()):
        return open_to_anything, attrs
    extra = [c for c in (clauses["directors"], clauses["actors"]) if c]
    # The wording around the clauses is checked too: a title such as "In the Mood" could hide there.
    for opening, joiner in (("You are in the mood for", ", ideally "), ("You would like to watch", ", "),):
        text = f"{opening} {clauses['genres'] or 'a movie'}"
        if clauses["decade"]:
            text += f" {clauses['decade']}"
        if extra:
            text += joiner + " and ".join(extra)
        if not leak.leaks(text):
            return text + ".", attrs
    leak.removed += 1
    return open_to_anything, TargetAttributes((), None, (), ())


def build_profile(dialogue: Dialogue, catalog: Catalog, params: PreprocessParams) -> ProfileOutcome:
    """One seed profile for a dialogue with a target item; None when it has none."""
    titles = {m.item_id: m.title for m in dialogue.item_mentions}
    targets = [t for t in (_item(i, catalog, titles) for i in dialogue.target_item_ids) if t]
    if not targets:
        return ProfileOutcome(None)
    target_titles = [t.title for t in targets]
    threshold = params.title_match_threshold
    summary_leak = _LeakFilter(target_titles, threshold)
    liked = [i for i in (_item(x, catalog, titles) for x in dialogue.liked_item_ids) if i]
    disliked = [i for i in (_item(x, catalog, titles) for x in dialogue.disliked_item_ids) if i]
    excluded = {*dialogue.target_item_ids, *dialogue.liked_item_ids, *dialogue.disliked_item_ids}
    mentioned_ids = dict.fromkeys(
        m.item_id for m in dialogue.item_mentions if m.role == "user" and m.item_id not in excluded
    )
    mentioned = [i for i in (_item(x, catalog, titles) for x in mentioned_ids) if i]
    summary = preference_summary(
        liked,
        disliked,
        mentioned,
        dialogue.preferred_genres,
        dialogue.preferred_people,
        summary_leak,
        params.max_summary_titles,
    )
    attr_leak = _LeakFilter(target_titles, threshold)
    attrs = target_attributes(targets, params, attr_leak)
    text, attrs = attributes_text(attrs, len(targets) > 1, attr_leak)
    profile = Profile(
        profile_id=f"profile-{dialogue.dialogue_id}",
        dialogue_id=dialogue.dialogue_id,
        split=dialogue.split,
        preference_summary=summary,
        target_attributes=attrs,
        target_attributes_text=text,
        target_item_ids=tuple(t.item_id for t in targets),
        target_titles=tuple(target_titles),
        opening_role=dialogue.opening_role,
    )
    return ProfileOutcome(profile, summary_leak.removed, attr_leak.removed)
