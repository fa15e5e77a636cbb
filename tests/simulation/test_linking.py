"""A title is linked only where the text writes it as a title (issue 11's rule)."""

from __future__ import annotations

import pytest

from interplay.simulation.linking import link_titles
from interplay.text.titles import TitleIndex

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


#: Titles that generated text writes bare for something else (labelled false links of the default run).
GENERATED = TitleIndex.build(
    [
        ("sw", "Star Wars", 1977), *[(f"sw{n}", f"Star Wars: Episode {n}", 1999 + n) for n in range(5)],
        ("nye", "New Year's Eve", 2011), ("one", "The One", 2001), ("others", "The Others", 2001),
        ("eg", "End Game", 2006), ("ij", "Indiana Jones", None), ("p", "Predator", 1987), ("her", "Her", 2013),
        ("av", "The Avengers", 2012), ("bp", "Black Panther", 2018), ("bm", "A Beautiful Mind", 2001),
        ("cf", "Cape Fear", 1991), ("dh", "Die Hard", 1988), ("dh4", "Live Free or Die Hard", 2007),
        ("sp", "Speed", 1994),
    ]
)


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("Have you seen any of the new Star Wars movies?", []),  # a series, bare
        ("You might like Star Wars (1977) or \"Star Wars\"", ["sw"]),  # ... with its year or quoted
        ("Have a safe New Year's Eve!", []),  # a holiday
        ("I've been meaning to try The One who wasn't", []),  # an article and an everyday word
        ("The Others were boring", []),
        ("So glad to hear about \"EndGame\", you'll enjoy it", []),  # quoted, no year: exact only
        ('amazing films out there: "Indiana Jones & The Darker Tendrils," and more', []),  # made up
        ("Now let's talk about Predator (sic!)", ["p"]),  # a garbled year
        ("Her (my wife) and The Avengers (3rd) are out", []),  # an everyday word; a sequel's ordinal
        ("Black Panther has always been one of my favorites", ["bp"]),  # two capitals at a sentence start
        ("some favorites: Watch A Beautiful Mind (2015) ,", ["bm"]),  # a run starts a word
        ("Cape Fear: The Lost City Of The Dead...", ["cf"]),  # a subtitle after a colon
        ("Have you seen Live Free or Die Hard (2007)", ["dh4"]),  # "or" inside a title (default run)
        ("Die Hard or Speed (1994)?", ["dh", "sp"]),  # ... and between two
    ],
)
def test_generated_text_links_only_titles_that_name_the_film(text: str, ids: list[str]) -> None:
    assert link_titles(text, GENERATED) == ids
