"""A title is linked only where the text writes it as a title (issue 11's rule)."""

from __future__ import annotations

import pytest

from interplay.simulation.linking import link_titles
from interplay.textmatch import TitleIndex

INDEX = TitleIndex.build(
    [
        ("1", "The A-Team", 2010), ("2", "Up", 2009), ("3", "The Shining", 1980), ("4", "Home Alone", 1990),
        ("5", "Her", 2013), ("6", "The Lord of the Rings", 2001), ("7", "Titanic", 1997),
        ("8", "Hot Tub Time Machine", 2010), ("9", "Super Troopers", 2001), ("10", "Cabin by the Lake", 2000),
    ]
)


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("We need a team up for this", []),  # everyday words that are also titles
        ("Are you up for Her (2013)?", ["5"]),  # a one-word title with its year
        ("I loved her in that one and it is up to you", []),
        ("Have you seen The A-Team?", ["1"]),
        ("Home alone is no fun", []),  # a sentence start and a lowercase word: prose
        ("You might like Home Alone or The Lord of the Rings", ["4", "6"]),
        ('I think "titanic" is long', ["7"]),  # quoted
        ("Titanic is long", []),  # a one-word title, capitalized only as a sentence start
        ("I like Hot Tub Time Machine and Super Troopers (2001) a lot", ["8", "9"]),  # order kept
        ("Or Cabin by the Lake (2000)", ["10"]),
    ],
)
def test_titles_are_linked_only_where_written_as_titles(text: str, ids: list[str]) -> None:
    assert link_titles(text, INDEX) == ids
