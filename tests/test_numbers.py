from __future__ import annotations

import pytest

from voicecoach.core.numbers import digits_to_words, number_to_words, words_to_number


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (0, "zero"),
        (7, "seven"),
        (13, "thirteen"),
        (20, "twenty"),
        (45, "forty five"),
        (100, "one hundred"),
        (120, "one hundred twenty"),
        (999, "nine hundred ninety nine"),
    ],
)
def test_number_and_words_both_ways(number: int, words: str) -> None:
    assert number_to_words(number) == words
    assert words_to_number(words) == number


def test_every_number_round_trips() -> None:
    assert all(words_to_number(number_to_words(n)) == n for n in range(1000))


@pytest.mark.parametrize("text", ["forty-five", "Forty Five", "45"])
def test_spellings_of_forty_five(text: str) -> None:
    assert words_to_number(text) == 45


def test_hundred_and() -> None:
    assert words_to_number("one hundred and twenty") == 120


@pytest.mark.parametrize("text", ["", "five six", "twenty thirty", "twelve three", "seconds"])
def test_not_a_number(text: str) -> None:
    assert words_to_number(text) is None


def test_out_of_range() -> None:
    with pytest.raises(ValueError):
        number_to_words(1000)


def test_digits_to_words_leaves_other_tokens() -> None:
    assert digits_to_words("hold 45 s 3x") == "hold forty five s 3x"
