"""The live view of a session on a terminal, readable from 2 m (the shell of core/display).

`live_panel` draws a `LiveView` with rich: the exercise, side, rep and set on their own lines, the
seconds left in a block font, a bar, the phase word and the last command heard, in a heavy
border coloured by phase. `LiveTerminal` shows it full screen (the terminal's alternate screen)
under the latest transcript lines while a session runs, and prints the whole transcript when
the session ends. With typed commands (`run --text`) the terminal's last line is left to the
person: the terminal echoes what they type there, and the view is redrawn around it.

Only for a terminal: a pipe or a file gets the plain transcript, one line per event (cli/run)."""

from __future__ import annotations

import io
import shutil
import sys
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Final, Literal, TextIO

from rich import box
from rich.align import Align
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.text import Text

from voicecoach.core.display import BIG_ROWS, LiveView, big_digits

RICH_COLOURS: Final = {"grey": "grey50"}
"""The display's colour names rich spells differently."""
BAR_WIDTH: Final = 40
TRANSCRIPT_KEPT_ON_SCREEN: Final = 60
"""Transcript lines rendered above the panel (at most; the screen shows those that fit)."""
REDRAW_EVERY: Final = 5
"""Status calls (100 ms steps) between two redraws of an unchanged screen: a line typed (and
echoed) or stray output moves the screen, the next redraw puts the view back."""
TYPE_HINT: Final = "type a command, then Enter:"

ColourSystem = Literal["standard", "256", "truecolor", "windows"]
_COLOUR_SYSTEMS: Final[dict[str, ColourSystem]] = {
    "standard": "standard",
    "256": "256",
    "truecolor": "truecolor",
    "windows": "windows",
}


def rich_colour(name: str) -> str:
    """A display colour name (PHASE_COLOURS) as rich spells it."""
    return RICH_COLOURS.get(name, name)


def live_panel(view: LiveView) -> Panel:
    """The live view as a panel with a heavy border in the phase's colour."""
    colour = rich_colour(view.colour)
    strong = f"bold {colour}"

    def line(text: str, style: str = "bold") -> Text:
        return Text(text, style=style, justify="center", no_wrap=True, overflow="ellipsis")

    big = big_digits("" if view.seconds_left is None else str(view.seconds_left))
    bar: RenderableType = Text("")
    if view.seconds_left is not None and view.total_s:
        bar = Align.center(
            ProgressBar(
                total=view.total_s,
                completed=view.seconds_left,
                width=BAR_WIDTH,
                complete_style=colour,
                finished_style=colour,
            )
        )
    heard = f"heard: {view.last_heard}" if view.last_heard else ""
    body = Group(
        line(view.exercise or "session over"),
        line(f"{view.side} side" if view.side else ""),
        line(view.rep),
        line(view.set),
        Text(""),
        *(line(row, strong) for row in (big or [""] * BIG_ROWS)),
        Text(""),
        bar,
        line(view.word.upper(), strong),
        line(heard, "italic"),
    )
    return Panel(
        body,
        box=box.HEAVY,
        border_style=strong,
        title=Text(f" {view.word} ", style=strong),
        padding=(0, 1),
    )


def transcript_lines(transcript: Sequence[str]) -> Group:
    """The transcript ("[  12.3] coach: ..." and "heard: ..." lines), what was heard in bold."""
    return Group(*(Text(text, style="bold" if "] heard: " in text else "") for text in transcript))


def _terminal_size() -> tuple[int, int]:
    size = shutil.get_terminal_size()
    return size.columns, size.lines


class LiveTerminal:
    """The live view on a terminal, full screen, for a running session.

    `view` builds the LiveView now (from the run's session, time and last command). Use it as a
    context manager around the session; `show` and `status` are the run's two callables."""

    def __init__(
        self,
        view: Callable[[], LiveView],
        *,
        typed: bool = False,
        out: TextIO | None = None,
        size: Callable[[], tuple[int, int]] | None = None,
    ) -> None:
        """`typed`: the person types commands (the last line is theirs). `out` and `size`
        (columns, lines) default to stdout and its size."""
        self._view = view
        self._typed = typed
        self._out = out if out is not None else sys.stdout
        self._size = size or _terminal_size
        detected = Console(file=self._out).color_system
        self._colours = _COLOUR_SYSTEMS.get(detected or "")
        self.transcript: list[str] = []
        self._active = False
        self._screen: tuple[int, int] = (0, 0)
        self._console: Console | None = None
        self._rendered: tuple[object, ...] = ()
        self._frame: list[str] = []
        self._unchanged = 0

    # --- the run's callables ---------------------------------------------------------------

    def show(self, text: str) -> None:
        """A transcript line: it scrolls above the panel (and is printed again at the end). It is
        drawn with the next status (within 100 ms): the many sentences of an introduction, given
        at once, are drawn once."""
        self.transcript.append(text)

    def status(self, text: str = "") -> None:
        """Called every step of the session loop: redraws what changed. The status line it is
        given is not used: the view comes from `view`."""
        self.draw()

    # --- the screen ------------------------------------------------------------------------

    def __enter__(self) -> LiveTerminal:
        self._active = True
        self._out.write("\033[?1049h")  # the alternate screen: the shell's screen is kept
        if not self._typed:
            self._out.write("\033[?25l")  # no cursor
        self.draw()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._active = False
        self._out.write("\033[?25h\033[?1049l")
        for text in self.transcript:  # the whole session, in the terminal's scrollback
            self._out.write(text + "\n")
        self._out.flush()

    def draw(self) -> None:
        """Writes the screen's lines that the view needs, when it changed (or every
        REDRAW_EVERY calls), each in place, the cursor left where the person types."""
        if not self._active:
            return
        columns, lines = self._size()
        resized = (columns, lines) != self._screen
        if resized:
            self._screen = (columns, lines)
            self._console = Console(
                file=io.StringIO(),
                width=max(20, columns - 1),  # a full last column would wrap on some terminals
                height=lines,
                force_terminal=True,
                color_system=self._colours,
                highlight=False,
                legacy_windows=False,
            )
            self._rendered, self._frame = (), []
            self._out.write(f"\033[2J\033[{lines};1H")  # the cursor on the last line
        frame = self._render(lines)
        self._unchanged += 1
        if frame == self._frame and self._unchanged < REDRAW_EVERY:
            return
        self._frame, self._unchanged = frame, 0
        parts = ["\0337"]  # keep the cursor (and what the person is typing) where it is
        parts += [f"\033[{row};1H{text}\033[K" for row, text in enumerate(frame, start=1)]
        parts.append("\0338")
        self._out.write("".join(parts))
        self._out.flush()

    def _render(self, lines: int) -> list[str]:
        """The screen's lines but the person's (ANSI text): the transcript's last lines, the
        panel, and the hint to type."""
        view = self._view()
        key = (view, len(self.transcript), self._screen)
        if key == self._rendered:
            return self._frame
        self._rendered = key
        room = lines - (2 if self._typed else 0)
        panel = self._ansi(live_panel(view))
        above = self._ansi(transcript_lines(self.transcript[-TRANSCRIPT_KEPT_ON_SCREEN:]))
        frame = [*above, *panel][-room:] if room > 0 else []
        frame = [""] * (room - len(frame)) + frame
        if self._typed:
            frame.append(self._ansi(Text(TYPE_HINT, style="dim"))[0])
        return frame

    def _ansi(self, renderable: RenderableType) -> list[str]:
        assert self._console is not None
        with self._console.capture() as capture:
            self._console.print(renderable, crop=True)
        return capture.get().splitlines()
