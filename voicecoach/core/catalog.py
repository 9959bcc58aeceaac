"""The exercise catalog: loads `data/exercises.toml` into frozen dataclasses and validates it.

Every problem is a `CatalogError` naming the file, the item (exercise, variation, routine...)
and the field, or the line and column of a TOML syntax error. Unknown fields are errors.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, cast

from rapidfuzz import fuzz, process

from voicecoach.core.errors import CatalogError, UnknownExerciseError
from voicecoach.core.tomlfile import TOO_DEEP, read_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

Category = Literal["stretch", "strength", "mobility", "breathing", "walking"]
Position = Literal["supine", "prone", "side-lying", "quadruped", "kneeling", "seated", "standing"]
Direction = Literal["easier", "harder", "alternative"]

CATEGORIES: Final = ("stretch", "strength", "mobility", "breathing", "walking")
POSITIONS: Final = ("supine", "prone", "side-lying", "quadruped", "kneeling", "seated", "standing")
DIRECTIONS: Final = ("easier", "harder", "alternative")

DEFAULT_CATALOG_PATH: Final = Path(__file__).resolve().parents[2] / "data" / "exercises.toml"

# A name lookup below this rapidfuzz ratio (0-100, normalised edit similarity) is "unknown":
# at 80, "brdge" (91) and "knees to chest stretch" (98) find their exercise, while
# "plankk twist" (70, to "lying twist") and "bird doggo sandwich" (64) do not.
NAME_MATCH_MIN_SCORE: Final = 80.0
# How many "did you mean" names an unknown name gets, and how alike (WRatio, which also scores
# partial matches: "plankk twist" suggests "Plank") they must be.
SUGGESTION_COUNT: Final = 3
SUGGESTION_MIN_SCORE: Final = 60.0

# The largest dose the catalog may give: a session of 10**18 reps (or of a hold that long) would
# never end. The articles' doses are at most 60 s held, 10 reps, 2 sets, 60 s of rest.
MAX_HOLD_S: Final = 120
"""The longest hold, in the catalog and in a session ("hold longer" stops here)."""
MAX_REPS: Final = 100
MAX_SETS: Final = 20
MAX_REST_S: Final = 600

_ID_PATTERN: Final = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Caution:
    """A warning the coach speaks, in the article's own sense, with where it comes from."""

    text: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Dose:
    """How much of an exercise: the articles' own numbers."""

    hold_s: int
    """Seconds each rep is held; 0 for a movement that is not held."""
    reps: int
    """Repetitions in a set (per side when `per_side`)."""
    sets: int
    """Sets, with `rest_s` between them."""
    rest_s: int
    """Seconds of rest between sets."""
    per_side: bool
    """Whether the reps are done on one side, then the other."""
    last_hold_s: int | None = None
    """A longer hold for the last rep, where the article asks for one."""
    note: str | None = None
    """The article's dose in words, e.g. "Hold for 10-30 seconds. Repeat 2-5 times."."""


@dataclass(frozen=True)
class Variation:
    """Another form of an exercise: easier, harder, or an alternative position."""

    id: str
    name: str
    direction: Direction
    steps: tuple[str, ...]
    """Its own steps; empty when it is done as the exercise's steps say."""
    dose: Dose
    """The exercise's dose with this variation's overrides applied."""
    position: Position
    cautions: tuple[Caution, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Exercise:
    """One movement, merged across the articles that describe it."""

    id: str
    name: str
    aliases: tuple[str, ...]
    category: Category
    position: Position
    targets: tuple[str, ...]
    benefit: str
    steps: tuple[str, ...]
    dose: Dose
    variations: tuple[Variation, ...]
    cautions: tuple[Caution, ...]
    sources: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The name and every alias: what a person may call it."""
        return (self.name, *self.aliases)

    def variation(self, variation_id: str) -> Variation | None:
        return next((v for v in self.variations if v.id == variation_id), None)


@dataclass(frozen=True)
class Avoid:
    """An exercise the articles say not to do, with their reason."""

    id: str
    name: str
    reason: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class RedFlag:
    """A sign that means: stop and see a doctor (from the articles' "see a doctor if")."""

    id: str
    text: str
    urgent: bool
    """True for signs the session must stop for (numbness, weakness, bladder or bowel)."""
    sources: tuple[str, ...]


@dataclass(frozen=True)
class RoutineItem:
    exercise_id: str
    variation_id: str | None = None


@dataclass(frozen=True)
class Routine:
    """An ordered set of exercises grouped so the person does not get up and down."""

    id: str
    name: str
    description: str
    items: tuple[RoutineItem, ...]


@dataclass(frozen=True)
class Catalog:
    """Everything in the data file, validated."""

    path: Path
    sources: Mapping[str, str]
    """Article key -> title."""
    general_cautions: tuple[Caution, ...]
    red_flags: tuple[RedFlag, ...]
    avoid: tuple[Avoid, ...]
    exercises: tuple[Exercise, ...]
    routines: tuple[Routine, ...]
    _by_id: Mapping[str, Exercise] = field(default_factory=dict, repr=False, compare=False)

    def exercise(self, exercise_id: str) -> Exercise:
        try:
            return self._by_id[exercise_id]
        except KeyError:
            raise UnknownExerciseError(exercise_id, ()) from None

    def routine(self, routine_id: str) -> Routine:
        for routine in self.routines:
            if routine.id == routine_id:
                return routine
        names = ", ".join(r.id for r in self.routines)
        raise CatalogError(f"unknown routine '{routine_id}' (routines: {names})", path=self.path)

    def find(self, name: str) -> Exercise:
        """The exercise a person means by `name` (id, name or alias, fuzzily)."""
        return find_exercise(self.exercises, name)


def normalize_name(text: str) -> str:
    """Lower case, apostrophes dropped, punctuation to spaces: "Child's Pose" -> "childs pose"."""
    text = text.lower().replace("'", "").replace("\u2019", "")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def find_exercise(exercises: Iterable[Exercise], name: str) -> Exercise:
    """Exact (normalised) id, name or alias first; then the best fuzzy match above threshold."""
    exercises = tuple(exercises)
    wanted = re.sub(r"^(the|a|an) ", "", normalize_name(name))
    choices: dict[str, Exercise] = {}
    for exercise in exercises:
        for candidate in (exercise.id, *exercise.names):
            choices.setdefault(normalize_name(candidate), exercise)
    if wanted in choices:
        return choices[wanted]
    best = process.extractOne(wanted, list(choices), scorer=fuzz.ratio)
    if best is not None and best[1] >= NAME_MATCH_MIN_SCORE:
        return choices[best[0]]
    ranked = process.extract(wanted, list(choices), scorer=fuzz.WRatio, limit=SUGGESTION_COUNT * 3)
    suggestions: list[str] = []
    for choice, score, _ in ranked:
        if score >= SUGGESTION_MIN_SCORE and choices[choice].name not in suggestions:
            suggestions.append(choices[choice].name)
    raise UnknownExerciseError(name, tuple(suggestions[:SUGGESTION_COUNT]))


# --- loading --------------------------------------------------------------------------------


class _Table:
    """Reads one TOML table field by field and rejects the fields nobody asked for."""

    def __init__(self, data: object, path: Path, item: str, prefix: str = "") -> None:
        if not isinstance(data, dict):
            raise CatalogError("expected a table", path=path, item=item, field=prefix or None)
        self.data: dict[str, Any] = data
        self.path = path
        self.item = item
        self.prefix = prefix
        self.seen: set[str] = set()

    def error(self, key: str, message: str) -> CatalogError:
        return CatalogError(message, path=self.path, item=self.item, field=self.prefix + key)

    def _get(self, key: str, required: bool) -> Any:
        self.seen.add(key)
        if key not in self.data and required:
            raise self.error(key, "missing")
        return self.data.get(key)

    def text(self, key: str, *, required: bool = True) -> str | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, f"expected non-empty text, got {value!r}")
        return value.strip()

    def required_text(self, key: str) -> str:
        return cast(str, self.text(key))

    def ident(self, key: str = "id") -> str:
        value = self.required_text(key)
        if not _ID_PATTERN.match(value):
            raise self.error(key, f"'{value}' is not a lower-case-dashed id")
        return value

    def integer(
        self, key: str, *, required: bool = True, minimum: int = 0, maximum: int | None = None
    ) -> int | None:
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.error(key, f"expected a whole number >= {minimum}, got {value!r}")
        if maximum is not None and value > maximum:
            raise self.error(key, f"expected at most {maximum}, got {value!r}")
        return value

    def boolean(self, key: str, *, required: bool = True) -> bool | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, bool):
            raise self.error(key, f"expected true or false, got {value!r}")
        return value

    def texts(self, key: str, *, required: bool = True) -> tuple[str, ...]:
        value = self._get(key, required)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.error(key, "expected a list of non-empty texts")
        return tuple(v.strip() for v in value)

    def choice(self, key: str, allowed: tuple[str, ...], *, required: bool = True) -> str | None:
        value = self.text(key, required=required)
        if value is not None and value not in allowed:
            raise self.error(key, f"'{value}' is not one of {', '.join(allowed)}")
        return value

    def tables(self, key: str, *, required: bool = False) -> list[object]:
        value = self._get(key, required)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(key, "expected a list of tables")
        return value

    def sub(self, key: str, *, required: bool = True) -> _Table | None:
        value = self._get(key, required)
        if value is None:
            return None
        return _Table(value, self.path, self.item, f"{self.prefix}{key}.")

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            raise self.error(unknown[0], "unknown field")


def load_catalog(path: Path | str = DEFAULT_CATALOG_PATH) -> Catalog:
    """Reads and validates the data file. Raises `CatalogError` on any problem."""
    path = Path(path)
    text = read_text(path, CatalogError)
    try:
        document = tomllib.loads(text)
    except RecursionError:  # tomllib recurses once per level of nesting
        raise CatalogError(TOO_DEEP, path=path) from None
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        found = re.search(r"\(at line (\d+), column (\d+)\)", message)
        if found is None:
            raise CatalogError(f"invalid TOML: {message}", path=path) from None
        reason = message[: found.start()].strip()
        line, column = int(found.group(1)), int(found.group(2))
        raise CatalogError(f"invalid TOML: {reason}", path=path, line=line, column=column) from None
    return parse_catalog(document, path)


def parse_catalog(document: dict[str, Any], path: Path) -> Catalog:
    top = _Table(document, path, "top level")
    version = top.integer("schema", minimum=1)
    if version != 1:
        raise top.error("schema", f"unsupported schema version {version} (this reads 1)")

    sources_table = top.sub("sources")
    assert sources_table is not None
    sources = {key: sources_table.required_text(key) for key in list(sources_table.data)}
    sources_table.done()

    def source_keys(table: _Table, key: str = "sources") -> tuple[str, ...]:
        keys = table.texts(key)
        if not keys:
            raise table.error(key, "needs at least one source")
        for source in keys:
            if source not in sources:
                raise table.error(key, f"unknown source '{source}' (known: {', '.join(sources)})")
        return keys

    def cautions(table: _Table, key: str = "cautions") -> tuple[Caution, ...]:
        result = []
        for index, raw_caution in enumerate(table.tables(key)):
            entry = _Table(raw_caution, path, table.item, f"{table.prefix}{key}[{index}].")
            result.append(Caution(entry.required_text("text"), source_keys(entry)))
            entry.done()
        return tuple(result)

    general_cautions = cautions(top, "general_cautions")

    red_flags = []
    for raw_flag in top.tables("red_flag", required=True):
        entry = _Table(raw_flag, path, "red_flag")
        flag_id = entry.ident()
        entry.item = f"red_flag '{flag_id}'"
        red_flags.append(
            RedFlag(
                id=flag_id,
                text=entry.required_text("text"),
                urgent=bool(entry.boolean("urgent")),
                sources=source_keys(entry),
            )
        )
        entry.done()

    avoid = []
    for raw_avoid in top.tables("avoid"):
        entry = _Table(raw_avoid, path, "avoid")
        avoid_id = entry.ident()
        entry.item = f"avoid '{avoid_id}'"
        avoid.append(
            Avoid(
                avoid_id,
                entry.required_text("name"),
                entry.required_text("reason"),
                source_keys(entry),
            )
        )
        entry.done()

    exercises = [
        _parse_exercise(raw, path, source_keys, cautions)
        for raw in top.tables("exercise", required=True)
    ]
    by_id: dict[str, Exercise] = {}
    for exercise in exercises:
        if exercise.id in by_id:
            raise CatalogError(
                "duplicate id", path=path, item=f"exercise '{exercise.id}'", field="id"
            )
        by_id[exercise.id] = exercise
    _check_names_unique(exercises, path)

    avoid_names = {normalize_name(a.name) for a in avoid} | {a.id for a in avoid}
    routines = []
    for raw_routine in top.tables("routine", required=True):
        entry = _Table(raw_routine, path, "routine")
        routine_id = entry.ident()
        entry.item = f"routine '{routine_id}'"
        items = []
        for reference in entry.texts("exercises"):
            exercise_id, _, variation_id = reference.partition("/")
            if exercise_id in avoid_names:
                raise entry.error("exercises", f"'{exercise_id}' is on the avoid list")
            if exercise_id not in by_id:
                raise entry.error("exercises", f"unknown exercise '{exercise_id}'")
            if variation_id and by_id[exercise_id].variation(variation_id) is None:
                raise entry.error(
                    "exercises", f"exercise '{exercise_id}' has no variation '{variation_id}'"
                )
            items.append(RoutineItem(exercise_id, variation_id or None))
        if not items:
            raise entry.error("exercises", "a routine needs at least one exercise")
        routines.append(
            Routine(
                routine_id,
                entry.required_text("name"),
                entry.required_text("description"),
                tuple(items),
            )
        )
        entry.done()
    top.done()

    return Catalog(
        path=path,
        sources=sources,
        general_cautions=general_cautions,
        red_flags=tuple(red_flags),
        avoid=tuple(avoid),
        exercises=tuple(exercises),
        routines=tuple(routines),
        _by_id=by_id,
    )


def _parse_dose(table: _Table, base: Dose | None) -> Dose:
    required = base is None

    def pick(value: Any, inherited: Any) -> Any:
        return inherited if value is None else value

    hold_s = table.integer("hold_s", required=required, maximum=MAX_HOLD_S)
    reps = table.integer("reps", required=required, minimum=1, maximum=MAX_REPS)
    sets = table.integer("sets", required=required, minimum=1, maximum=MAX_SETS)
    rest_s = table.integer("rest_s", required=required, maximum=MAX_REST_S)
    per_side = table.boolean("per_side", required=required)
    last_hold_s = table.integer("last_hold_s", required=False, minimum=1, maximum=MAX_HOLD_S)
    note = table.text("note", required=False)
    table.done()
    if base is None:
        return Dose(
            cast(int, hold_s), cast(int, reps), cast(int, sets), cast(int, rest_s),
            cast(bool, per_side), last_hold_s, note,
        )  # fmt: skip
    return Dose(
        hold_s=pick(hold_s, base.hold_s),
        reps=pick(reps, base.reps),
        sets=pick(sets, base.sets),
        rest_s=pick(rest_s, base.rest_s),
        per_side=pick(per_side, base.per_side),
        last_hold_s=pick(last_hold_s, base.last_hold_s),
        note=pick(note, base.note),
    )


def _parse_exercise(raw: object, path: Path, source_keys: Any, cautions: Any) -> Exercise:
    entry = _Table(raw, path, "exercise")
    exercise_id = entry.ident()
    entry.item = f"exercise '{exercise_id}'"
    dose_table = entry.sub("dose")
    assert dose_table is not None
    dose = _parse_dose(dose_table, None)
    position = cast(Position, entry.choice("position", POSITIONS))
    steps = entry.texts("steps")
    if not steps:
        raise entry.error("steps", "needs at least one step")

    variations: list[Variation] = []
    for index, raw_variation in enumerate(entry.tables("variation")):
        v = _Table(raw_variation, path, entry.item, f"variation[{index}].")
        variation_id = v.ident()
        v.prefix = f"variation '{variation_id}'."
        if any(existing.id == variation_id for existing in variations):
            raise v.error("id", "duplicate variation id")
        v_dose_table = v.sub("dose", required=False)
        variations.append(
            Variation(
                id=variation_id,
                name=v.required_text("name"),
                direction=cast(Direction, v.choice("direction", DIRECTIONS)),
                steps=v.texts("steps", required=False),
                dose=dose if v_dose_table is None else _parse_dose(v_dose_table, dose),
                position=cast(
                    Position, v.choice("position", POSITIONS, required=False) or position
                ),
                cautions=cautions(v),
                sources=source_keys(v),
            )
        )
        v.done()

    exercise = Exercise(
        id=exercise_id,
        name=entry.required_text("name"),
        aliases=entry.texts("aliases", required=False),
        category=cast(Category, entry.choice("category", CATEGORIES)),
        position=position,
        targets=entry.texts("targets"),
        benefit=entry.required_text("benefit"),
        steps=steps,
        dose=dose,
        variations=tuple(variations),
        cautions=cautions(entry),
        sources=source_keys(entry),
    )
    entry.done()
    return exercise


def _check_names_unique(exercises: list[Exercise], path: Path) -> None:
    """A spoken name must lead to one exercise: names and aliases are unique across the file."""
    owner: dict[str, str] = {}
    for exercise in exercises:
        own: set[str] = set()
        for name in exercise.names:
            key = normalize_name(name)
            if key in own:
                message = f"name '{name}' is listed twice"
            elif owner.get(key, exercise.id) != exercise.id:
                message = f"name '{name}' is already used by exercise '{owner[key]}'"
            else:
                own.add(key)
                continue
            raise CatalogError(
                message, path=path, item=f"exercise '{exercise.id}'", field="aliases"
            )
        for key in {*own, exercise.id}:
            owner.setdefault(key, exercise.id)


# --- presenting -----------------------------------------------------------------------------


def describe_dose(dose: Dose) -> str:
    """A short spoken-style summary: "2 sets of 5 per side, hold 10 seconds, rest 60 seconds"."""
    parts = [f"{dose.sets} {'set' if dose.sets == 1 else 'sets'} of {dose.reps}"]
    if dose.per_side:
        parts[0] += " per side"
    if dose.hold_s:
        parts.append(f"hold {dose.hold_s} seconds")
    if dose.last_hold_s:
        parts.append(f"last hold {dose.last_hold_s} seconds")
    if dose.sets > 1 and dose.rest_s:
        parts.append(f"rest {dose.rest_s} seconds")
    return ", ".join(parts)


def _caution_dict(caution: Caution) -> dict[str, object]:
    return {"text": caution.text, "sources": list(caution.sources)}


def _dose_dict(dose: Dose) -> dict[str, object]:
    return {
        "hold_s": dose.hold_s,
        "reps": dose.reps,
        "sets": dose.sets,
        "rest_s": dose.rest_s,
        "per_side": dose.per_side,
        "last_hold_s": dose.last_hold_s,
        "note": dose.note,
    }


def exercise_to_dict(exercise: Exercise) -> dict[str, object]:
    """Plain JSON-ready data for `voicecoach list --json` and `show --json`."""
    return {
        "id": exercise.id,
        "name": exercise.name,
        "aliases": list(exercise.aliases),
        "category": exercise.category,
        "position": exercise.position,
        "targets": list(exercise.targets),
        "benefit": exercise.benefit,
        "steps": list(exercise.steps),
        "dose": _dose_dict(exercise.dose),
        "variations": [
            {
                "id": v.id,
                "name": v.name,
                "direction": v.direction,
                "position": v.position,
                "steps": list(v.steps),
                "dose": _dose_dict(v.dose),
                "cautions": [_caution_dict(c) for c in v.cautions],
                "sources": list(v.sources),
            }
            for v in exercise.variations
        ],
        "cautions": [_caution_dict(c) for c in exercise.cautions],
        "sources": list(exercise.sources),
    }
