"""INSPIRED profiles' targets against hand labels (issue 28, item 6).

``fixtures/inspired_targets.jsonl`` labels every dialogue of the shared ``inspired/dev.tsv`` (99,
the whole split) with the catalog film the seeker accepted, or none; how it was labelled and how
the parts were drawn: ``fixtures/inspired_targets.md``. Precision = targets that are a labelled
film / targets made; recall = labelled films that became the target / dialogues with a labelled
film. The ``held_out`` part was not looked at while the target rules were tuned.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from interplay.corpus.catalog import Catalog, load_catalog
from interplay.corpus.inspired import link_annotation, read_inspired, unannotated_films
from interplay.corpus.schema import Dialogue

LABELS = Path(__file__).parents[1] / "fixtures" / "inspired_targets.jsonl"
SPLIT_SEED = 28
DEV_SIZE = 50


def _labels() -> list[dict]:
    return [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def dialogues(corpora: Path) -> dict[str, Dialogue]:
    catalog = load_catalog(corpora / "redial")
    read = read_inspired(corpora / "inspired" / "dev.tsv", catalog)
    return {d.dialogue_id: d for d in read if isinstance(d, Dialogue)}


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
    labels = _labels()
    rows = (corpora / "inspired" / "dev.tsv").read_text(encoding="utf-8").split("\n")[1:]
    ids = list(dict.fromkeys("inspired-" + r.split("\t", 1)[0].removesuffix(".pkl") for r in rows if r.strip()))
    assert [label["dialogue_id"] for label in labels] == ids  # every dialogue, in file order
    random.Random(SPLIT_SEED).shuffle(ids)
    assert {label["dialogue_id"] for label in labels if label["part"] == "dev"} == set(ids[:DEV_SIZE])
    for label in labels:
        assert dialogues[label["dialogue_id"]].raw_line == label["line"]
        if label["outcome"] != "accept_new":
            assert label["target"] == [], label["line"]


#: (correct targets, targets made, labelled films found, labelled films) on each part, measured
#: with :func:`target_scores`: at 9f207e5, and with this module's rules (the floor they must keep).
BEFORE = {"dev": (16, 32, 16, 22), "held_out": (11, 30, 11, 21)}
AFTER = {"dev": (20, 21, 20, 22), "held_out": (14, 21, 14, 21)}
#: The issue's bar for target precision, and how far recall may fall below the code before.
GOAL_PRECISION = 0.95
RECALL_SLACK = 0.05


def _measure(part: str, dialogues: dict[str, Dialogue]) -> tuple[float, float, str]:
    precision, recall, made, labelled, wrong = target_scores(
        [label for label in _labels() if label["part"] == part], dialogues
    )
    summary = f"{part}: precision {precision:.3f} of {made} targets, recall {recall:.3f} of {labelled}; wrong: {wrong}"
    return precision, recall, summary


@pytest.mark.parametrize("part", ["dev", "held_out"])
def test_targets_are_more_precise_without_losing_recall(part: str, dialogues: dict[str, Dialogue]) -> None:
    precision, recall, summary = _measure(part, dialogues)
    correct, made, found, labelled = AFTER[part]
    assert precision >= correct / made - 1e-9, summary
    assert recall >= found / labelled - 1e-9, summary
    before_correct, before_made, before_found, before_labelled = BEFORE[part]
    assert precision > before_correct / before_made and recall >= before_found / before_labelled - RECALL_SLACK


def test_development_targets_reach_the_issue_bar(dialogues: dict[str, Dialogue]) -> None:
    """A development figure: the rules were written while reading this part's errors."""
    precision, _, summary = _measure("dev", dialogues)
    assert precision >= GOAL_PRECISION, summary


@pytest.mark.xfail(strict=True, reason="held-out precision 0.667 (14 of 21 targets): see fixtures/inspired_targets.md")
def test_held_out_targets_reach_the_issue_bar(dialogues: dict[str, Dialogue]) -> None:
    precision, _, summary = _measure("held_out", dialogues)
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


@pytest.mark.parametrize(
    ("line", "target"),
    [
        (95, None),  # Avengers: Endgame (not in the catalog) accepted; 9f207e5 took the Hulk of an earlier turn
        (333, None),  # Last Christmas; 9f207e5 took Friday (1995) from "this Friday"
        (2937, "Shakespeare in Love (1998)"),  # not annotated; the seeker had seen Moonrise Kingdom
        (2815, None),  # Jumping the Broom (not in the catalog); "If you liked Guess Who, ..." is its premise
        (468, None),  # Joker accepted ("I accept your recommendation"); Ex Machina offered after
    ],
)
def test_target_is_the_film_the_seeker_took(
    line: int, target: str | None, dialogues: dict[str, Dialogue], catalog: Catalog
) -> None:
    dialogue = next(d for d in dialogues.values() if d.raw_line == line)
    assert [catalog.get(t).title for t in dialogue.target_item_ids] == ([target] if target else [])
