"""Spoken English numbers and integers, both ways (0 to 999): "forty five" <-> 45."""

from __future__ import annotations

from typing import Final

ONES: Final = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
TENS: Final = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_WORD_VALUES: Final = {word: value for value, word in enumerate(ONES)} | {
    word: 10 * value for value, word in enumerate(TENS) if word != "_"
}
MAX_SPOKEN_NUMBER: Final = 999


def number_to_words(number: int) -> str:
    """45 -> "forty five", 120 -> "one hundred twenty" (the form speech recognisers output)."""
    if not 0 <= number <= MAX_SPOKEN_NUMBER:
        raise ValueError(f"{number} is outside 0-{MAX_SPOKEN_NUMBER}")
    hundreds, rest = divmod(number, 100)
    words = [ONES[hundreds], "hundred"] if hundreds else []
    if rest or not words:
        if rest < 20:
            words.append(ONES[rest])
        else:
            tens, ones = divmod(rest, 10)
            words.append(TENS[tens])
            if ones:
                words.append(ONES[ones])
    return " ".join(words)


def words_to_number(text: str) -> int | None:
    """ "forty-five" or "one hundred and twenty" or "45" -> the integer; None if not a number."""
    text = text.strip().lower().replace("-", " ")
    if text.isdigit():
        return int(text)
    words = [w for w in text.split() if w != "and"]
    if not words:
        return None
    total = 0
    current = 0
    for word in words:
        if word == "hundred" and 0 < current < 10:
            total += current * 100
            current = 0
        elif word in _WORD_VALUES:
            value = _WORD_VALUES[word]
            if current and (value >= 10 or current % 10 or current < 20):
                return None  # "five six", "twenty thirty", "twelve three": not one number
            current += value
        else:
            return None
    return total + current


def digits_to_words(text: str) -> str:
    """Spells out every whole number written in digits: "hold 45 s" -> "hold forty five s"."""
    out = []
    for token in text.split():
        if token.isdigit() and int(token) <= MAX_SPOKEN_NUMBER:
            out.append(number_to_words(int(token)))
        else:
            out.append(token)
    return " ".join(out)
