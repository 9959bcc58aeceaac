"""The live view readable from 2 m: the view model (core/display) and its rich rendering."""

from __future__ import annotations

import io
import itertools

import pytest
from rich.console import Console

from voicecoach.core.catalog import Catalog
from voicecoach.core.display import (
    BIG_PIXEL,
    BIG_ROWS,
    PHASE_COLOURS,
    PHASE_WORDS,
    LiveView,
    big_digits,
    live_view,
)
from voicecoach.core.session import GET_READY_S, RELAX_S, SWITCH_SIDE_S, Phase
from voicecoach.liveview import LiveTerminal, live_panel
from voicecoach.testing import SessionDriver, items


def view(driver: SessionDriver, last_heard: str = "") -> LiveView:
    return live_view(driver.session, driver.clock.now(), last_heard)


def hold_countdown(driver: SessionDriver) -> list[int | None]:
    """The seconds shown at each 100 ms step of the hold the session is in."""
    shown = []
    while driver.phase() == "hold":
        shown.append(view(driver).seconds_left)
        driver.wait_ms(100)
    return shown


# --- the countdown -----------------------------------------------------------------------------


def test_the_hold_length_shows_while_the_instruction_is_said_then_counts_down(
    bundled_catalog: Catalog,
) -> None:
    driver = SessionDriver(bundled_catalog, items("knee-to-chest"))
    driver.until("hold")
    hold = driver.session.hold_s()
    ends = driver.session.timed.ends_at
    instruction_s = ends - driver.clock.now() - hold
    assert instruction_s > 1, "the hold phase starts with 'Rep 1 of 5 ... Hold for 10 seconds.'"
    assert view(driver).seconds_left == hold
    assert live_view(driver.session, ends).seconds_left == 0
    assert live_view(driver.session, ends + 3).seconds_left == 0
    assert live_view(driver.session, ends - 4.5).seconds_left == 5
    assert live_view(driver.session, ends - 4.0).seconds_left == 4
    shown = hold_countdown(driver)
    assert shown[0] == hold and shown[-1] == 1
    assert all(a is not None and b is not None and a >= b for a, b in itertools.pairwise(shown))
    assert sorted(set(shown), key=lambda s: -(s or 0)) == list(range(hold, 0, -1))
    # the hold length stays up all through the sentence, then one second per number
    assert shown.count(hold) >= round((instruction_s + 1) * 10) - 1
    assert shown.count(5) == 10
    assert driver.phase() == "relax"


def test_the_longer_last_hold_counts_from_its_own_length(bundled_catalog: Catalog) -> None:
    driver = SessionDriver(bundled_catalog, items("lying-trunk-rotation/crossed-legs"))
    dose = driver.session.step.dose
    assert dose.last_hold_s == 30 and dose.hold_s == 10
    driver.until("hold")
    while driver.session.rep < dose.reps:
        assert view(driver).seconds_left == 10 and view(driver).total_s == 10
        driver.until("relax")
        driver.until("hold")
    shown = hold_countdown(driver)
    assert shown[0] == 30 and shown[-1] == 1
    assert set(shown) == set(range(1, 31))


def test_hold_longer_raises_the_number(bundled_catalog: Catalog) -> None:
    driver = SessionDriver(bundled_catalog, items("knee-to-chest"))
    driver.until("hold")
    driver.wait_ms(8000)
    before = view(driver).seconds_left
    assert before is not None and before < 10
    driver.say("hold_longer")
    after = view(driver)
    assert after.seconds_left == before + 5 and after.total_s == 15


def test_the_rest_counts_from_its_length(bundled_catalog: Catalog) -> None:
    driver = SessionDriver(bundled_catalog, items("pelvic-tilt"))
    rest_s = driver.session.step.dose.rest_s
    driver.until("rest")
    assert driver.session.timed.ends_at - driver.clock.now() > rest_s  # "Rest for 60 seconds."
    shown = view(driver)
    assert (shown.seconds_left, shown.total_s, shown.colour) == (rest_s, rest_s, "blue")
    assert shown.set == "set 1 of 2" and shown.rep == "rep 10 of 10"
    ends = driver.session.timed.ends_at
    assert live_view(driver.session, ends - 29.5).seconds_left == 30
    driver.until("hold")
    assert view(driver).set == "set 2 of 2" and view(driver).rep == "rep 1 of 10"


@pytest.mark.parametrize(
    ("phase", "length"),
    [("get_ready", GET_READY_S), ("relax", RELAX_S), ("switch_side", SWITCH_SIDE_S)],
)
def test_the_short_pauses_count_down_too(
    bundled_catalog: Catalog, phase: Phase, length: float
) -> None:
    driver = SessionDriver(bundled_catalog, items("knee-to-chest"))
    driver.until(phase)
    shown = view(driver)
    assert shown.seconds_left == shown.total_s == round(length)
    assert shown.colour == "yellow"


# --- every phase -------------------------------------------------------------------------------


def test_each_phase_has_its_word_colour_and_countdown(bundled_catalog: Catalog) -> None:
    driver = SessionDriver(bundled_catalog, items("knee-to-chest", "deep-breathing"))
    seen: dict[str, LiveView] = {"intro": view(driver)}
    for phase in ("get_ready", "hold", "relax"):
        driver.until(phase)
        seen[phase] = view(driver)
    driver.say("pause")
    seen["paused"] = view(driver)
    driver.say("resume")
    driver.say("stop")
    seen["confirm_stop"] = view(driver)
    driver.say("no")
    driver.until("hold")
    driver.say("pain")
    seen["pain_check"] = view(driver)
    driver.say("rating", level=1)
    driver.until("switch_side")
    seen["switch_side"] = view(driver)
    driver.until("rest")
    seen["rest"] = view(driver)
    driver.say("next")
    driver.until("reps")
    seen["reps"] = view(driver)
    driver.until("done")
    seen["done"] = view(driver)
    assert set(seen) == set(PHASE_COLOURS) == set(PHASE_WORDS)
    colours = {phase: shown.colour for phase, shown in seen.items()}
    assert colours == {
        "intro": "white",
        "get_ready": "yellow",
        "hold": "green",
        "relax": "yellow",
        "switch_side": "yellow",
        "rest": "blue",
        "reps": "green",
        "paused": "red",
        "confirm_stop": "red",
        "pain_check": "red",
        "done": "grey",
    }
    for phase, shown in seen.items():
        assert shown.phase == phase and shown.word == PHASE_WORDS[phase]
        counted = phase in ("get_ready", "hold", "relax", "switch_side", "rest")
        assert (shown.seconds_left is not None) == counted, phase
        assert (shown.total_s is not None) == counted, phase
    assert seen["intro"].word == "listen"
    assert seen["hold"].side == "left" and seen["switch_side"].side == "right"
    assert (seen["hold"].exercise, seen["hold"].rep, seen["hold"].set) == (
        "Knee to chest",
        "rep 1 of 5",
        "set 1 of 2",
    )
    assert seen["reps"].exercise == "Deep breathing" and seen["reps"].side is None
    assert seen["reps"].set == ""  # one set: no set line
    assert seen["done"] == LiveView("", None, "", "", "done", "done", None, None, "grey")


def test_the_last_command_heard_is_kept(bundled_catalog: Catalog) -> None:
    driver = SessionDriver(bundled_catalog, items("knee-to-chest"))
    assert view(driver, "pause -> pause").last_heard == "pause -> pause"
    assert view(driver).last_heard == ""


# --- the block font ----------------------------------------------------------------------------


def test_big_digits_are_five_rows_of_blocks_of_one_width() -> None:
    for text in ["0", "7", "10", "60", "120", "1:05", " 9", "0123456789"]:
        rows = big_digits(text)
        assert len(rows) == BIG_ROWS == 5
        assert len({len(row) for row in rows}) == 1, text
        assert set("".join(rows)) <= {"█", " "}
        assert "█" in "".join(rows)
    one = len(big_digits("8")[0])
    assert one == 3 * len(BIG_PIXEL)
    assert len(big_digits("88")[0]) == 2 * one + len(BIG_PIXEL)  # a blank pixel between
    assert big_digits("") == [""] * 5


def test_every_digit_has_its_own_shape() -> None:
    shapes = {digit: tuple(big_digits(digit)) for digit in "0123456789"}
    assert len(set(shapes.values())) == 10
    assert all(len(rows[0]) == len(shapes["0"][0]) for rows in shapes.values())
    assert big_digits("1")[4] == "██████"  # the foot of the 1
    assert big_digits(":") == ["  ", "██", "  ", "██", "  "]


def test_big_digits_refuses_what_it_cannot_draw() -> None:
    with pytest.raises(ValueError, match="'a'"):
        big_digits("1a")


# --- the rich rendering ------------------------------------------------------------------------


def recorded(renderable: object) -> str:
    console = Console(record=True, width=80, force_terminal=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def test_the_panel_shows_the_big_seconds_and_the_exercise(bundled_catalog: Catalog) -> None:
    driver = SessionDriver(bundled_catalog, items("knee-to-chest"))
    driver.until("hold")
    driver.wait_ms(6000)
    shown = view(driver, "hold longer -> hold_longer")
    assert shown.seconds_left == 8
    panel = live_panel(shown)
    text = recorded(panel)
    for row in big_digits("8"):
        assert row in text
    for words in ["Knee to chest", "left side", "rep 1 of 5", "set 1 of 2", "HOLD"]:
        assert words in text
    assert "heard: hold longer -> hold_longer" in text
    assert panel.border_style == "bold green"
    lines = text.splitlines()
    assert lines[0].startswith("┏") and lines[-1].startswith("┗")
    assert all(len(line) == 80 for line in lines)


def test_the_panel_in_a_phase_without_countdown(bundled_catalog: Catalog) -> None:
    driver = SessionDriver(bundled_catalog, items("knee-to-chest"))
    driver.until("hold")
    hold_panel = recorded(live_panel(view(driver)))
    driver.say("pause")
    panel = live_panel(view(driver))
    text = recorded(panel)
    assert "PAUSED" in text and "█" not in text
    assert panel.border_style == "bold red"
    assert len(text.splitlines()) == len(hold_panel.splitlines())  # the layout does not jump
    driver.say("stop")
    driver.say("yes")
    done = live_panel(view(driver))
    assert "session over" in recorded(done) and done.border_style == "bold grey50"


# --- the terminal ------------------------------------------------------------------------------


def test_the_terminal_draws_in_place_and_leaves_the_last_line_to_the_person(
    bundled_catalog: Catalog,
) -> None:
    driver = SessionDriver(bundled_catalog, items("knee-to-chest"))
    out = io.StringIO()
    terminal = LiveTerminal(lambda: view(driver), typed=True, out=out, size=lambda: (80, 30))
    with terminal:
        terminal.show("[    0.0] coach: Next: Knee to chest.")
        driver.until("hold")
        start = len(out.getvalue())
        terminal.status("ignored")
        frame = out.getvalue()[start:]
        assert frame.startswith("\0337") and frame.endswith("\0338")  # the cursor kept
        assert "\033[29;1H" in frame and "\033[30;1H" not in frame  # the typing line untouched
        assert "Next: Knee to chest." in frame and "████" in frame
        assert "type a command" in frame
        start = len(out.getvalue())
        terminal.status()
        assert out.getvalue()[start:] == ""  # nothing changed: nothing written
        driver.wait_ms(5000)  # past the instruction: the seconds go down
        terminal.status()
        assert out.getvalue()[start:] != ""
    written = out.getvalue()
    assert written.startswith("\033[?1049h") and "\033[?25l" not in written
    assert written.endswith("\033[?1049l[    0.0] coach: Next: Knee to chest.\n")


def test_on_the_microphone_the_view_takes_the_whole_screen(bundled_catalog: Catalog) -> None:
    driver = SessionDriver(bundled_catalog, items("knee-to-chest"))
    out = io.StringIO()
    with LiveTerminal(lambda: view(driver), out=out, size=lambda: (60, 20)):
        terminal_output = out.getvalue()
    assert "\033[?25l" in terminal_output  # no cursor
    assert "\033[20;1H" in terminal_output.split("\0337", 1)[1]
    assert "type a command" not in terminal_output
