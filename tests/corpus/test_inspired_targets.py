"""INSPIRED profiles' targets against hand labels (issue 28, item 6).

``fixtures/inspired_targets.jsonl`` labels every dialogue of INSPIRED's ``dev.tsv`` (99, in the
shared corpora) and ``test.tsv`` (99, part ``held_out_2``) with the catalog film the seeker
accepted, or none; how it was labelled and how the parts were drawn: ``fixtures/inspired_targets.md``.
Precision = targets that are a labelled film / targets made; recall = labelled films that became
the target / dialogues with a labelled film. ``held_out`` was not looked at while the first rules
were written; ``held_out_2`` was labelled after the second round and measured once, unread; the
fourth round's rules were then written from its errors, so every part is development data now and
no figure here is a held-out measurement.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from pathlib import Path

import pytest

from interplay.corpus.catalog import Catalog, load_catalog
from interplay.corpus.inspired import (
    build_dialogue,
    called_new,
    films_in_text,
    link_annotation,
    new_release,
    read_inspired,
    unannotated_films,
)
from interplay.corpus.schema import Dialogue

LABELS = Path(__file__).parents[1] / "fixtures" / "inspired_targets.jsonl"
SPLIT_SEED = 28
DEV_SIZE = 50
#: ``test.tsv`` of sweetpeach/Inspired (``data/dialog_data/``), which ``held_out_2`` labels. Not in
#: the shared corpora yet: read from there when added, or from ``$INSPIRED_TEST_TSV``.
TEST_TSV_SHA256 = "a10f63ff26045158460730d4829ffba74bee86fb744d9f48c1c1c511ef609993"


def _labels() -> list[dict]:
    return [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]


def _test_tsv(corpora: Path) -> Path | None:
    """INSPIRED's ``test.tsv`` (the file ``held_out_2`` labels), or None where this checkout lacks it."""
    for path in (corpora / "inspired" / "test.tsv", Path(os.environ.get("INSPIRED_TEST_TSV", "/nonexistent"))):
        if path.is_file():
            assert hashlib.sha256(path.read_bytes()).hexdigest() == TEST_TSV_SHA256, f"{path} is another file"
            return path
    return None


@pytest.fixture(scope="module")
def dialogues(corpora: Path) -> dict[str, Dialogue]:
    catalog = load_catalog(corpora / "redial")
    files = [corpora / "inspired" / "dev.tsv", _test_tsv(corpora)]
    read = [d for path in files if path is not None for d in read_inspired(path, catalog)]
    return {d.dialogue_id: d for d in read if isinstance(d, Dialogue)}


def _needs(part: str, dialogues: dict[str, Dialogue]) -> None:
    """Skip a measure of ``held_out_2`` where ``test.tsv`` is not here to read."""
    labelled = [label["dialogue_id"] for label in _labels() if label["part"] == part]
    if part == "held_out_2" and not any(dialogue_id in dialogues for dialogue_id in labelled):
        pytest.skip(
            f"INSPIRED's test.tsv (sha256 {TEST_TSV_SHA256[:12]}...) is in neither the corpora nor $INSPIRED_TEST_TSV"
        )


def target_scores(labels: list[dict], dialogues: dict[str, Dialogue]) -> tuple[float, float, int, int, list[str]]:
    """(precision, recall, targets made, labelled films, the wrong targets) of the reader's targets."""
    made = correct = found = 0
    wrong = []
    labelled = [label for label in labels if label["target"]]
    for label in labels:
        targets = dialogues[label["dialogue_id"]].target_item_ids
        made += len(targets)
        hits = [t for t in targets if t in label["target"]]
        correct += len(hits)
        found += bool(hits)
        wrong += [f"line {label['line']}: {t} (labelled {label['film'] or 'none'})" for t in targets if t not in hits]
    return correct / max(made, 1), found / max(len(labelled), 1), made, len(labelled), wrong


def test_labels_cover_the_split_drawn_by_the_stated_seed(corpora: Path, dialogues: dict[str, Dialogue]) -> None:
    labels = [label for label in _labels() if label["file"] == "dev.tsv"]
    rows = (corpora / "inspired" / "dev.tsv").read_text(encoding="utf-8").split("\n")[1:]
    ids = list(dict.fromkeys("inspired-" + r.split("\t", 1)[0].removesuffix(".pkl") for r in rows if r.strip()))
    assert [label["dialogue_id"] for label in labels] == ids  # every dialogue, in file order
    random.Random(SPLIT_SEED).shuffle(ids)
    assert {label["dialogue_id"] for label in labels if label["part"] == "dev"} == set(ids[:DEV_SIZE])
    for label in _labels():
        assert label["part"] in ("dev", "held_out") if label["file"] == "dev.tsv" else label["part"] == "held_out_2"
        if label["dialogue_id"] in dialogues:
            dialogue = dialogues[label["dialogue_id"]]
            assert dialogue.raw_line == label["line"]
            assert (Path(dialogue.raw_file).name == "dev.tsv") == (label["file"] == "dev.tsv")
        if label["outcome"] != "accept_new":
            assert label["target"] == [], label["line"]


#: (correct targets, targets made, labelled films found, labelled films) on each part, measured
#: with :func:`target_scores`: at 9f207e5 (before any target rule), and with this module's rules
#: (the floor they must keep). ``held_out_2`` scored (15, 35, 15, 40) at 3367ef3 and on the second
#: round (no rule written for ``held_out``'s errors changed one of its targets); the fourth round,
#: written from its errors, brought it to the figures below.
BEFORE = {"dev": (16, 32, 16, 22), "held_out": (11, 30, 11, 21), "held_out_2": (18, 54, 18, 40)}
AFTER = {"dev": (20, 21, 20, 22), "held_out": (19, 20, 19, 21), "held_out_2": (24, 32, 24, 40)}
#: The issue's bar for target precision, and how far recall may fall below the code before.
GOAL_PRECISION = 0.95
RECALL_SLACK = 0.05
PARTS = ("dev", "held_out", "held_out_2")
#: Parts whose errors the rules were written from: what they reach is a development figure. All
#: three since the fourth round (``held_out_2``'s errors, ``fixtures/inspired_targets.md``).
READ_WHILE_TUNING = ("dev", "held_out", "held_out_2")


def _measure(part: str, dialogues: dict[str, Dialogue]) -> tuple[float, float, str]:
    _needs(part, dialogues)
    precision, recall, made, labelled, wrong = target_scores(
        [label for label in _labels() if label["part"] == part], dialogues
    )
    summary = f"{part}: precision {precision:.3f} of {made} targets, recall {recall:.3f} of {labelled}; wrong: {wrong}"
    return precision, recall, summary


@pytest.mark.parametrize("part", PARTS)
def test_targets_keep_the_measured_floor(part: str, dialogues: dict[str, Dialogue]) -> None:
    precision, recall, summary = _measure(part, dialogues)
    correct, made, found, labelled = AFTER[part]
    assert precision >= correct / made - 1e-9, summary
    assert recall >= found / labelled - 1e-9, summary


@pytest.mark.parametrize("part", PARTS)
def test_targets_are_more_precise_without_losing_recall(part: str, dialogues: dict[str, Dialogue]) -> None:
    precision, recall, summary = _measure(part, dialogues)
    before_correct, before_made, before_found, before_labelled = BEFORE[part]
    assert precision > before_correct / before_made, summary
    assert recall >= before_found / before_labelled - RECALL_SLACK, summary


@pytest.mark.parametrize(
    "part",
    [
        "dev",
        "held_out",
        pytest.param(
            "held_out_2",
            marks=pytest.mark.xfail(
                strict=True,
                reason="held_out_2 precision 0.750 (24 of 32 targets): see fixtures/inspired_targets.md",
            ),
        ),
    ],
)
def test_development_targets_reach_the_issue_bar(part: str, dialogues: dict[str, Dialogue]) -> None:
    """A development figure: the rules were written while reading this part's errors."""
    assert part in READ_WHILE_TUNING
    precision, _, summary = _measure(part, dialogues)
    assert precision >= GOAL_PRECISION, summary


@pytest.fixture(scope="module")
def catalog(corpora: Path) -> Catalog:
    return load_catalog(corpora / "redial")


@pytest.mark.parametrize(
    ("text", "title", "linked"),
    [
        # Everyday words are not titles unless written as one (issue 28: 'around the holidays').
        ("Let's find something for around the holidays", "Holidays (2016)", None),
        ('Have you seen "Holidays"?', "Holidays (2016)", "Holidays (2016)"),
        # Days and months are capitalized anyway: only quotes or a year make them a title.
        ("i just watched Frozzen @ this Friday it was really good", "Friday (1995)", None),
        ('Ice Cube in "Friday" is great', "Friday (1995)", "Friday (1995)"),
        # The head of a longer name, or a franchise, is not the film.
        ("I'm a huge fan of Dave Chapelle", "Dave (1993)", None),
        ("Do they like Toy Story movies?", "Toy Story (1995)", None),
        ("I recommend a movie by Tarantino, Once Upon a Time in Hollywood", "Once Upon a Time (2013)", None),
        # A full title the catalog lacks is its main title, of the same year.
        ("How about Jumanji: Welcome to the Jungle?", "Jumanji: Welcome to the Jungle (2017)", "Jumanji (2017)"),
        # Right after a viewing verb a word in lower case is a title; not an everyday word.
        ("Have you seen airplane?", "Airplane! (1980)", "Airplane! (1980)"),
        ("Have you seen it yet?", "It (2017)", None),
        # A sequel the catalog lacks is not its first film.
        ("What is John Wick 3 about?", "John Wick (2014)", None),
        # A one-word title ending a longer capitalized name is not named (round 4); a possessive is
        # no such name.
        ("watch the first of them, which is Olympus Had Fallen", "Fallen (1998)", None),
        ("Have you seen Disney's Frozen?", "Frozen (2013)", "Frozen (2013)"),
    ],
)
def test_annotations_link_only_films_the_text_names(
    text: str, title: str, linked: str | None, catalog: Catalog
) -> None:
    item, _ = link_annotation(title, text, catalog, 90.0)
    assert (item.title if item is not None else None) == linked


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Ooh, have you seen Shakespeare in Love?", ["Shakespeare in Love (1998)"]),
        ('One horror movie that I recommend is "A quiet place", have you seen it?', ["A Quiet Place (2018)"]),
        (
            "Some of my favorites are the Toy Story movies, Forrest Gump and Cast Away.",
            ["Forrest Gump (1994)", "Cast Away (2000)"],
        ),
        ("The all-star cast includes Jesse Eisenberg and Emma Stone.", []),  # a person the row annotates
        ("It was fine. Thank you for the help", []),  # words in lower case are not a title
    ],
)
def test_films_the_tagger_missed_are_found_in_the_text(text: str, found: list[str], catalog: Catalog) -> None:
    assert [item.title for item in unannotated_films(text, catalog, {"emma stone"}, 90.0)] == found


def _span(text: str, words: str) -> tuple[int, int]:
    start = text.index(words)
    return start, start + len(words)


@pytest.mark.parametrize(
    ("text", "annotated", "found"),
    [
        # A name and a year: that year's film, also for a name of one word.
        ("How about Alien from 1979?", "", [("alien", "Alien (1979)")]),
        # A sequel is found where the catalog lacks it (no film), also where the tagger took the
        # name for a person's ("john wick" in the row's people).
        ("HOBBS & SHAW , ZEROVILLLE , John Wick 3 , Dead Wish ,", "", [("john wick 3", None)]),
        # Inside an annotated title the catalog lacks, a shorter name is not a film of its own.
        ("What about Star Wars, The rise of Skywalker?", "Star Wars, The rise of Skywalker", []),
        # A longer name around what the tagger annotated is the film, in any case.
        (
            "My favorite movie is Along came a Spider.",
            "Spider",
            [("along came a spider", "Along Came a Spider (2001)")],
        ),
    ],
)
def test_the_text_scan_reads_years_sequels_and_annotated_places(
    text: str, annotated: str, found: list[tuple[str, str | None]], catalog: Catalog
) -> None:
    places = [_span(text, annotated)] if annotated else []
    films = films_in_text(text, catalog, {"john wick"}, 90.0, places)
    assert [(f.key, f.item.title if f.item else None) for f in films] == found


@pytest.mark.parametrize(
    ("dialogue", "text", "title", "year", "film"),
    [
        (
            "Was the new Lion King good?",
            "the lion king was good!",
            "The Lion King (1994)",
            2020,
            "The Lion King (2019)",
        ),
        (
            "Was the new Lion King good?",
            "Seen the original Lion King?",
            "The Lion King (1994)",
            2020,
            "The Lion King (1994)",
        ),
        # The newest of the catalog's films of the name is not new in 2019: the catalog lacks it.
        ("the new Black Christmas is scary", "Black Christmas", "Black Christmas (2006)", 2019, None),
        # "new" before a longer name is not about this one; a name of one film stays that film.
        ("The new blade runner 2049 is very good.", "Blade Runner", "Blade Runner (1982)", 2020, "Blade Runner (1982)"),
        (
            "The new blade runner 2049 is good.",
            "blade runner 2049",
            "Blade Runner 2049 (2017)",
            2020,
            "Blade Runner 2049 (2017)",
        ),
    ],
)
def test_a_film_the_dialogue_calls_new_is_the_recent_one(
    dialogue: str, text: str, title: str, year: int, film: str | None, catalog: Catalog
) -> None:
    item, _ = link_annotation(title, text, catalog, 90.0)
    assert item is not None
    if called_new(dialogue, text, item.name):
        item = new_release(item, year, catalog)
    assert (item.title if item is not None else None) == film


def _rows(*turns: tuple[str, str, str]) -> list[tuple[int, dict[str, str]]]:
    columns = {"people_names": "", "genres": "", "coarse_label": "accept_new"}
    return [
        (line, {"speaker": speaker, "text": text, "movies": movies, **columns})
        for line, (speaker, text, movies) in enumerate(turns, start=2)
    ]


@pytest.mark.parametrize(
    "turns",
    [
        # The seeker says they watched the film offered: not the new one taken.
        (
            ("RECOMMENDER", "You should see Monsters, Inc. tonight.", "Monsters, Inc. (2001)"),
            ("SEEKER", "I was watching Monsters Inc. with my son the other night.", ""),
        ),
        # A one-word title the seeker wrote first ("Inception") is not a new film when the
        # recommender names it after.
        (
            ("SEEKER", "Is it like the end of Inception, where you decide?", ""),
            ("RECOMMENDER", "Humm, I missed Inception.", "Inception (2010)"),
        ),
    ],
)
def test_a_film_the_seeker_had_met_is_not_the_target(turns: tuple, catalog: Catalog) -> None:
    dialogue = build_dialogue("20200227-080313_1_live.pkl", _rows(*turns), catalog, "dev.tsv", 90.0)
    assert dialogue.target_item_ids == ()


@pytest.mark.parametrize(
    ("line", "target"),
    [
        (95, None),  # Avengers: Endgame (not in the catalog) accepted; 9f207e5 took the Hulk of an earlier turn
        (333, None),  # Last Christmas; 9f207e5 took Friday (1995) from "this Friday"
        (2937, "Shakespeare in Love (1998)"),  # not annotated; the seeker had seen Moonrise Kingdom
        (2815, None),  # Jumping the Broom (not in the catalog); "If you liked Guess Who, ..." is its premise
        (468, None),  # Joker accepted ("I accept your recommendation"); Ex Machina offered after
        # held_out, whose errors the rules of 3367ef3 were then fixed on:
        (796, "Airplane! (1980)"),  # "Have you seen airplane?"; 3367ef3 took End Game (2006) from "endgame"
        (922, "The Lion King (2019)"),  # "the new Lion King"; annotated as the 1994 film
        (1155, None),  # Star Wars: The Rise of Skywalker; 3367ef3 took Star Wars (1977) inside that name
        (1718, None),  # John Wick 3 (not in the catalog); 3367ef3 took the earlier Green Lantern
        (1977, "Jumanji (2017)"),  # "Jumanji Welcome to the junle it is!!!", annotated Jumanji (1995)
        (2054, "Along Came a Spider (2001)"),  # "I'll take them!" (Hush too); annotated "Spider (2002)"
        (2333, "Alien (1979)"),  # "How about Alien from 1979?"; 3367ef3 took the earlier The Birds
    ],
)
def test_target_is_the_film_the_seeker_took(
    line: int, target: str | None, dialogues: dict[str, Dialogue], catalog: Catalog
) -> None:
    dialogue = next(d for d in dialogues.values() if d.raw_line == line)
    assert [catalog.get(t).title for t in dialogue.target_item_ids] == ([target] if target else [])


R, S = "RECOMMENDER", "SEEKER"


@pytest.mark.parametrize(
    ("turns", "target"),
    [
        # The rules of round 4, written from held_out_2's errors (fixtures/inspired_targets.md).
        # A premise is the object of "if you like": here "that one", and Ad Astra is offered.
        (
            (
                (R, "Have you watched Interstellar?", "Interstellar (2014)"),
                (S, "Oh, that's a good one.", ""),
                (R, "If you like that one Ad Astra is another good space movie.", "Ad Astra (2019)"),
            ),
            None,
        ),
        # A doubt is not "I have seen it"; "seen both" and a bare "I have" are.
        (
            (
                (
                    R,
                    'I love "How to Lose a Guy in 10 days", it is so relatable.',
                    "How to Lose a Guy in 10 Days (2003)",
                ),
                (S, "I'll have to check that one out, I don't think I've ever seen it.", ""),
            ),
            "How to Lose a Guy in 10 Days (2003)",
        ),
        (
            (
                (R, "Central Intelligence!", "Central Intelligence (2016)"),
                (S, "Im not sure if I have seen that one yet.", ""),
            ),
            "Central Intelligence (2016)",
        ),
        (
            (
                (
                    (R, "Have you seen Zombieland or I Am Legend?", "I Am Legend (2007)"),
                    (S, "Yes, I have seen both!", ""),
                )
            ),
            None,
        ),
        (
            (
                (R, "Have you watched The Wedding Planner?", "The Wedding Planner (2001)"),
                (S, "I have, I always really liked that movie as well.", ""),
            ),
            None,
        ),
        # One word in lower case after an offer or a viewing verb is a film, annotated or not.
        (
            ((R, "How about poltergeist!", "Poltergeist (1982)"), (S, "Perfect I accept that recommendation", "")),
            "Poltergeist (1982)",
        ),
        (((R, "Mmm, i see. Have you seen memento?", ""), (S, "No i haven't, i accept!", "")), "Memento (2000)"),
        (
            ((R, 'Another one I enjoyed is "Juno", have you watched it?', ""), (S, "Anyway, that will do.", "")),
            "Juno (2007)",
        ),
        # ... but not in the seeker's reply to the offer.
        (
            (
                (R, "Have you ever seen Zombieland?", "Zombieland (2009)"),
                (S, "i may watch zombieland at a separate time", ""),
            ),
            "Zombieland (2009)",
        ),
        # A film named as context is not offered: an actor's credit, a likeness, a sequel's original.
        (((R, "I loved him in Bedtime Stories!", "Bedtime Stories (2008)"), (S, "great movie!", "")), None),
        (((R, "Ill check out good boys, looks like Superbad and those types of comedies.", "Superbad (2007)"),), None),
        (
            (
                (R, "Then I think you would enjoy Doctor Sleep, it is a sequel to The Shining.", "Doctor Sleep (2019)"),
                (S, "wow!!!", ""),
            ),
            None,
        ),
        # A seeker who judges the film in the past tense has seen it.
        (
            (
                (R, "And The Hateful Eight stands as a masterpiece.", ""),
                (S, "Pardon the rhyme, but The Hateful Eight was great.", ""),
            ),
            None,
        ),
        # A series written bare is the franchise.
        (((R, "Star Wars suggests you like action and sci-fi.", "Star Wars (1977)"),), None),
        # A name the dialogue writes as a film's cast is a person, here and later.
        (
            (
                (R, "Jumanji is out now.", "Jumanji: The Next Level (2019)"),
                (R, "It features The Rock, Jack Black, and Kevin Hart.", ""),
            ),
            None,
        ),
        # "5th element" and "the fifth element" are one film, which the seeker brought up.
        (
            (
                (R, "Have you heard of Valerian and the City of a Thousand Planets?", ""),
                (S, "i really liked 5th element", "The 5th Element (1997)"),
                (R, "I also think you can find the fifth element on amazon", "The Fifth Element (1997)"),
            ),
            "Valerian and the City of a Thousand Planets (2017)",
        ),
    ],
)
def test_round_4_rules_pick_the_film_offered(turns: tuple, target: str | None, catalog: Catalog) -> None:
    dialogue = build_dialogue("20200227-080313_1_live.pkl", _rows(*turns), catalog, "test.tsv", 90.0)
    assert [catalog.get(t).title for t in dialogue.target_item_ids] == ([target] if target else [])
