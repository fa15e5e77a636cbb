"""Title normalization and fuzzy matching: the leak check, mention linking and metrics rely on it."""

from __future__ import annotations

import pytest

from interplay.text.titles import (
    TitleIndex,
    is_short_title,
    names_title,
    normalize_title,
    split_title_year,
)


def test_normalize_title_strips_year_punctuation_and_odd_spacing() -> None:
    assert normalize_title("Police Academy  (1984)") == "police academy"
    assert normalize_title("Dude, Where's My Car? (2000)") == "dude wheres my car"
    assert normalize_title("Amélie (2001)") == "amelie"
    assert split_title_year("American Pie  (1999)") == ("American Pie", 1999)
    assert split_title_year("Back to the Future") == ("Back to the Future", None)


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("I loved police academy so much", "Police Academy  (1984)"),
        ("Have you seen Supr Troopers?", "Super Troopers (2001)"),  # a typo still names it
        ("what about Super Troopers (2001) then", "Super Troopers (2001)"),
        ("we watched Up last night", "Up (2009)"),
    ],
)
def test_names_title(text: str, title: str) -> None:
    assert names_title(text, title)


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("I was upset about it", "Up (2009)"),  # short titles need a whole word
        ("over here, please", "Her (2013)"),
        ("I like action movies", "Last Action Hero (1993)"),  # a text shorter than the title
        ("I like romantic comedies", "Police Academy (1984)"),
        ("", "Police Academy (1984)"),
    ],
)
def test_text_does_not_name_title(text: str, title: str) -> None:
    assert not names_title(text, title)


@pytest.mark.parametrize(
    ("text", "title", "named"),
    [
        ("I loved Up (2009) a lot.", "Up (2009)", True),  # with its year, as titles are rendered
        ("have you seen it (2017)?", "It (2017)", True),
        ('Have you seen "Up"?', "Up (2009)", True),  # in quotes
        ("What's up? I need a movie.", "Up (2009)", False),  # an everyday word in lowercase
        ("It was great. Up next: something else?", "Up (2009)", False),  # capitals that start a sentence
        ("i loved elf", "Elf (2003)", False),
        ("I loved Elf with my kids", "Elf (2003)", True),
    ],
)
def test_everyday_word_titles_count_only_where_written_as_titles(text: str, title: str, named: bool) -> None:
    """One rule for the leakage metric, the profile filter and the leak guard alike."""
    assert names_title(text, title) is named


def test_common_single_words_and_tiny_titles_are_short() -> None:
    assert is_short_title("it") and is_short_title("her") and is_short_title("signs")
    assert not is_short_title("terminator") and not is_short_title("police academy")


def test_threshold_is_a_parameter() -> None:
    assert not names_title("Have you seen Supr Troopers?", "Super Troopers (2001)", threshold=99)


@pytest.fixture()
def index() -> TitleIndex:
    return TitleIndex.build(
        [
            ("1", "It (1990)", None),
            ("2", "It", 2017),
            ("3", "Super Troopers", 2001),
            ("4", "Police Academy  (1984)", None),
            ("5", "Police Academy 2: Their First Assignment (1985)", None),
        ]
    )


def test_index_links_exact_titles_preferring_the_year(index: TitleIndex) -> None:
    assert index.link("It (2017)") == "2"
    assert index.link("It (1990)") == "1"
    assert index.link("it", year=2017) == "2"
    assert index.link("Police Academy") == "4"


def test_index_links_fuzzy_titles_and_refuses_weak_matches(index: TitleIndex) -> None:
    assert index.link("Super Troopers!!") == "3"
    assert index.link("Supr Troopers (2001)") == "3"
    assert index.link("Police Academy 2 Their First Asignment") == "5"
    assert index.link("Top Gun (1986)") is None
    assert index.link("Itt") is None  # short titles never link fuzzily
    assert index.link("") is None


def test_index_prefers_a_dated_entry_when_the_year_does_not_decide() -> None:
    index = TitleIndex.build([("1", "Predator", None), ("2", "Predator", 1987), ("3", "Titanic", 1997)])
    assert index.link("Predator") == "2"
    assert index.link("Predator (2030)") == "2"
    assert index.link("Titanic") == "3"


def test_series_are_dated_titles_that_begin_many_others() -> None:
    sequels = [(f"s{n}", f"Star Wars: Episode {n}", 1990 + n) for n in range(5)]
    potter = [(f"p{n}", f"Harry Potter and Part {n}", 2000 + n) for n in range(5)]
    few = [(f"m{n}", f"The Matrix {n}", 2000 + n) for n in range(2)]
    index = TitleIndex.build(
        [("1", "Star Wars", 1977), ("2", "Harry Potter", None), ("3", "The Matrix", 1999), *sequels, *potter, *few]
    )
    # the undated "Harry Potter" is the series itself; two sequels do not make a series
    assert index.series == {"star wars"}
