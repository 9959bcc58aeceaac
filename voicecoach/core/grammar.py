"""Command grammar: templates in `grammars/<lang>/*.toml` -> phrases, a Vosk phrase list and JSGF.

One source of truth, so recognition and understanding never disagree about what can be said.

Template syntax (a small subset of hassil's):
    word            a literal word
    [a b]           optional
    (a | b c)       alternatives
    <rule>          a named expansion rule from the file's [rules] table
    {slot}          a slot: its values come from the file (numbers, fixed lists) or the catalog
"""

from __future__ import annotations

import itertools
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, get_args

from voicecoach.core.catalog import Catalog
from voicecoach.core.errors import VoiceCoachError
from voicecoach.core.numbers import digits_to_words, number_to_words

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_GRAMMAR_DIR: Final = Path(__file__).resolve().parents[2] / "grammars" / "en"

# The intents other parts of the program, logs and tests rely on. A grammar must define each.
# The commands of a coaching session:
SessionIntent = Literal[
    "next", "previous", "repeat", "pause", "resume", "stop", "skip", "hold_longer",
    "hold_shorter", "set_hold", "easier", "harder", "whats_next", "time_left", "why", "how_to",
    "help", "pain", "red_flag", "start_exercise", "yes", "no", "rating", "louder", "softer",
    "slower", "faster",
]  # fmt: skip
"""The commands of a session: the grammar's intents, the session's handlers and the logs."""
INTENT_NAMES: Final[tuple[SessionIntent, ...]] = get_args(SessionIntent)


def session_intent(name: str) -> SessionIntent | None:
    """`name` as a session command, or None when it is not one (a question, "start")."""
    return name if name in INTENT_NAMES else None


# The questions `voicecoach ask` answers outside a session:
QUESTION_NAMES: Final = ("whats_next", "last_session", "sessions_this_week")
# What a coach waiting for the person listens for (`run --wait`): "start", the questions, and
# "not_yet" ("stop", "not now": it goes on waiting).
IDLE_NAMES: Final = ("start", "not_yet", *QUESTION_NAMES)
# What the recogniser listens for, by context: a grammar is loaded for one context only, so a
# session never takes a question for a command and `ask` never takes a command for a question.
CONTEXTS: Final = {"session": INTENT_NAMES, "ask": QUESTION_NAMES, "idle": IDLE_NAMES}

# A guard against templates whose optional parts multiply into an unusable phrase list.
MAX_PHRASES_PER_TEMPLATE: Final = 20_000

SlotValue = str | int


class GrammarError(VoiceCoachError):
    """A grammar file that cannot be read or a template that cannot be parsed."""


# --- template syntax tree -------------------------------------------------------------------


@dataclass(frozen=True)
class Word:
    text: str


@dataclass(frozen=True)
class SlotRef:
    name: str


@dataclass(frozen=True)
class RuleRef:
    name: str


@dataclass(frozen=True)
class Chain:
    """Items one after another."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class Choice:
    """One of the options (an optional part is a choice with an empty option)."""

    options: tuple[Chain, ...]


Node = Word | SlotRef | RuleRef | Chain | Choice

_TOKEN: Final = re.compile(r"\s*(\[|\]|\(|\)|\||<[a-z_]+>|\{[a-z_]+\}|[^\s\[\]()|<>{}]+)")


def parse_template(template: str) -> Chain:
    """Parses one template into a syntax tree. Raises GrammarError with the template on error."""
    tokens: list[str] = []
    position = 0
    stripped = template.rstrip()
    while position < len(stripped):
        found = _TOKEN.match(stripped, position)
        if found is None:
            raise GrammarError(f"cannot read template {template!r} at character {position + 1}")
        tokens.append(found.group(1))
        position = found.end()

    def sequence(index: int, closers: str) -> tuple[Chain, int, str]:
        """Reads alternatives up to a closer; returns (node, next index, closer met)."""
        options: list[Chain] = []
        items: list[Node] = []
        while index < len(tokens):
            token = tokens[index]
            if token in closers:
                break
            index += 1
            if token == "|":
                options.append(Chain(tuple(items)))
                items = []
            elif token in "[(":
                inner, index, closer = sequence(index, "]" if token == "[" else ")")
                if closer != ("]" if token == "[" else ")"):
                    raise GrammarError(f"unclosed {token!r} in template {template!r}")
                index += 1
                if token == "[":
                    items.append(Choice((inner, Chain(()))))
                else:
                    items.append(inner)
            elif token in "])":
                raise GrammarError(f"unexpected {token!r} in template {template!r}")
            elif token.startswith("<"):
                items.append(RuleRef(token[1:-1]))
            elif token.startswith("{"):
                items.append(SlotRef(token[1:-1]))
            else:
                items.append(Word(token.lower()))
        closer = tokens[index] if index < len(tokens) else ""
        if options:
            options.append(Chain(tuple(items)))
            return Chain((Choice(tuple(options)),)), index, closer
        return Chain(tuple(items)), index, closer

    tree, index, closer = sequence(0, "])")
    if index < len(tokens):
        raise GrammarError(f"unexpected {closer!r} in template {template!r}")
    if not tree.items:
        raise GrammarError(f"empty template {template!r}")
    return tree


# --- the grammar ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotList:
    """What a slot can be: spoken text -> value (a catalog id, an integer of seconds)."""

    name: str
    values: tuple[tuple[str, SlotValue], ...]


@dataclass(frozen=True)
class Template:
    intent: str
    text: str
    tree: Chain


@dataclass(frozen=True)
class Phrase:
    """One sentence the grammar accepts, with the intent and slot values it means."""

    text: str
    intent: str
    slots: Mapping[str, SlotValue]
    template: str


@dataclass(frozen=True)
class Grammar:
    language: str
    templates: tuple[Template, ...]
    rules: Mapping[str, Chain]
    slots: Mapping[str, SlotList]
    fillers: frozenset[str]
    """Words that carry no command ("um", "please", "okay"): dropped before matching."""
    contractions: Mapping[str, str]
    """Spoken contractions and their long forms ("what's" -> "what is"), for normalising."""
    path: Path
    _phrases: list[Phrase] = field(default_factory=list, repr=False, compare=False)

    def phrases(self) -> list[Phrase]:
        """Every sentence the templates accept (computed once)."""
        if not self._phrases:
            for template in self.templates:
                self._phrases.extend(expand_template(self, template))
        return self._phrases

    def words(self) -> set[str]:
        """Every word a recogniser must know to hear this grammar."""
        return {word for phrase in self.phrases() for word in phrase.text.split()}


def spoken_form(text: str) -> str:
    """How a recogniser writes `text`: lower case, digits spelled out, hyphens as spaces,
    no punctuation but apostrophes inside words ("Cat-Cow" -> "cat cow", "4" -> "four")."""
    text = text.lower().replace("\u2019", "'").replace("-", " ")
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    text = re.sub(r"(?<![a-z])'|'(?![a-z])", " ", text)
    return digits_to_words(" ".join(text.split()))


def _number_values(spec: Mapping[str, Any], where: str) -> list[tuple[str, SlotValue]]:
    low, high = spec.get("min"), spec.get("max")
    if not isinstance(low, int) or not isinstance(high, int) or not 0 <= low <= high <= 999:
        raise GrammarError(f"{where}: a number slot needs whole numbers 0 <= min <= max <= 999")
    unit = spec.get("unit")
    values: list[tuple[str, SlotValue]] = []
    for number in range(low, high + 1):
        words = number_to_words(number)
        values.append((words, number))
        if isinstance(unit, str):
            values.append((f"{words} {unit}", number))
    return values


def load_grammar(
    catalog: Catalog, directory: Path | str = DEFAULT_GRAMMAR_DIR, *, context: str = "session"
) -> Grammar:
    """Reads every `*.toml` in `directory` and keeps the templates of `context`'s intents (see
    CONTEXTS); exercise slot values come from `catalog`."""
    if context not in CONTEXTS:
        raise GrammarError(f"unknown context {context!r} (contexts: {', '.join(CONTEXTS)})")
    wanted = CONTEXTS[context]
    known = {name for names in CONTEXTS.values() for name in names}
    directory = Path(directory)
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise GrammarError("no grammar files (*.toml) here", path=directory)
    templates: list[Template] = []
    rules: dict[str, Chain] = {}
    slots: dict[str, SlotList] = {}
    fillers: set[str] = set()
    contractions: dict[str, str] = {}
    language = ""
    for file in files:
        try:
            document = tomllib.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise GrammarError(f"cannot read grammar: {error}", path=file) from None
        except RecursionError:
            raise GrammarError("cannot read grammar: nested too deeply", path=file) from None
        try:
            language = document.get("language", language)
            fillers.update(spoken_form(w) for w in document.get("fillers", []))
            contractions.update(document.get("contractions", {}))
            for name, template in document.get("rules", {}).items():
                rules[name] = parse_template(template)
            for name, spec in document.get("slots", {}).items():
                slots[name] = _slot_list(name, spec, catalog, f"slot '{name}'")
            for intent, spec in document.get("intents", {}).items():
                if intent not in known:
                    raise GrammarError(f"unknown intent '{intent}'")
                if intent not in wanted:
                    continue
                for text in spec.get("templates", []):
                    templates.append(Template(intent, text, parse_template(text)))
        except GrammarError as error:
            raise GrammarError(error.message, path=file) from None
        except (AttributeError, TypeError) as error:
            raise GrammarError(f"unexpected structure: {error}", path=file) from None
    grammar = Grammar(
        language=language,
        templates=tuple(templates),
        rules=rules,
        slots=slots,
        fillers=frozenset(fillers),
        contractions=contractions,
        path=directory,
    )
    _check_references(grammar, wanted)
    return grammar


def _slot_list(name: str, spec: Mapping[str, Any], catalog: Catalog, where: str) -> SlotList:
    kind = spec.get("kind")
    values: list[tuple[str, SlotValue]] = []
    if kind == "number":
        values = _number_values(spec, where)
    elif kind == "exercise":
        for exercise in catalog.exercises:
            for spoken in dict.fromkeys(spoken_form(n) for n in exercise.names):
                values.append((spoken, exercise.id))
    elif kind != "list":
        raise GrammarError(f"{where}: kind must be number, exercise or list, not {kind!r}")
    for text, value in spec.get("values", {}).items():
        values.append((spoken_form(text), value))
    if not values:
        raise GrammarError(f"{where}: no values")
    return SlotList(name, tuple(values))


def _check_references(grammar: Grammar, intents: Sequence[str]) -> None:
    def walk(node: Node, where: str) -> None:
        if isinstance(node, SlotRef) and node.name not in grammar.slots:
            raise GrammarError(f"{where}: unknown slot {{{node.name}}}", path=grammar.path)
        if isinstance(node, RuleRef) and node.name not in grammar.rules:
            raise GrammarError(f"{where}: unknown rule <{node.name}>", path=grammar.path)
        if isinstance(node, Chain):
            for item in node.items:
                walk(item, where)
        if isinstance(node, Choice):
            for option in node.options:
                walk(option, where)

    for name, rule in grammar.rules.items():
        walk(rule, f"rule <{name}>")
    for template in grammar.templates:
        walk(template.tree, f"template {template.text!r}")
    missing = [name for name in intents if not any(t.intent == name for t in grammar.templates)]
    if missing:
        raise GrammarError(f"no templates for intents: {', '.join(missing)}", path=grammar.path)


# --- expansion ------------------------------------------------------------------------------

_Partial = tuple[tuple[str, ...], tuple[tuple[str, SlotValue], ...]]


def _expand(node: Node, grammar: Grammar) -> Iterator[_Partial]:
    """Yields (words, slot assignments) for every way through `node`."""
    if isinstance(node, Word):
        yield (node.text,), ()
    elif isinstance(node, SlotRef):
        for text, value in grammar.slots[node.name].values:
            yield tuple(text.split()), ((node.name, value),)
    elif isinstance(node, RuleRef):
        yield from _expand(grammar.rules[node.name], grammar)
    elif isinstance(node, Choice):
        for option in node.options:
            yield from _expand(option, grammar)
    else:
        parts = [list(_expand(item, grammar)) for item in node.items]
        for combination in itertools.product(*parts):
            words = tuple(w for part_words, _ in combination for w in part_words)
            slots = tuple(s for _, part_slots in combination for s in part_slots)
            yield words, slots


def expand_template(grammar: Grammar, template: Template) -> list[Phrase]:
    phrases: dict[str, Phrase] = {}
    for words, slots in _expand(template.tree, grammar):
        if not words:
            continue
        text = " ".join(words)
        phrases.setdefault(text, Phrase(text, template.intent, dict(slots), template.text))
        if len(phrases) > MAX_PHRASES_PER_TEMPLATE:
            raise GrammarError(
                f"template {template.text!r} expands to over {MAX_PHRASES_PER_TEMPLATE} phrases",
                path=grammar.path,
            )
    return list(phrases.values())


# --- recogniser grammars --------------------------------------------------------------------


def vosk_phrases(grammar: Grammar) -> list[str]:
    """The phrase list for Vosk's grammar mode: every accepted sentence, plus "[unk]"."""
    return [*sorted({phrase.text for phrase in grammar.phrases()}), "[unk]"]


def _jsgf_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def _jsgf(node: Node) -> str:
    if isinstance(node, Word):
        return node.text
    if isinstance(node, SlotRef):
        return f"<slot_{_jsgf_name(node.name)}>"
    if isinstance(node, RuleRef):
        return f"<rule_{_jsgf_name(node.name)}>"
    if isinstance(node, Choice):
        present = [option for option in node.options if option.items]
        body = " | ".join(_jsgf(option) for option in present)
        return f"[{body}]" if len(present) < len(node.options) else f"({body})"
    return " ".join(_jsgf(item) for item in node.items)


def to_jsgf(grammar: Grammar, *, name: str = "voicecoach", extra_public: Sequence[str] = ()) -> str:
    """A JSGF grammar accepting exactly the template sentences (one rule per intent).

    `extra_public` adds alternatives to the top rule (e.g. a garbage branch for rejection)."""
    lines = ["#JSGF V1.0;", f"grammar {name};"]
    intents = list(dict.fromkeys(t.intent for t in grammar.templates))
    top = [f"<intent_{i}>" for i in intents] + list(extra_public)
    lines.append(f"public <command> = {' | '.join(top)};")
    for intent in intents:
        body = " | ".join(f"({_jsgf(t.tree)})" for t in grammar.templates if t.intent == intent)
        lines.append(f"<intent_{intent}> = {body};")
    for rule_name, rule in grammar.rules.items():
        lines.append(f"<rule_{_jsgf_name(rule_name)}> = {_jsgf(rule)};")
    for slot in grammar.slots.values():
        texts = " | ".join(dict.fromkeys(text for text, _ in slot.values))
        lines.append(f"<slot_{_jsgf_name(slot.name)}> = ({texts});")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Automaton:
    """The smallest word graph that accepts exactly the grammar's sentences.

    States are numbered from `start`; every sentence is a path from `start` to `final`.
    A transition is (from, to, word); a word of None is an empty (epsilon) transition, used
    where a sentence ends at a state that longer sentences pass through."""

    start: int
    final: int
    states: int
    transitions: tuple[tuple[int, int, str | None], ...]


def phrase_automaton(sentences: Sequence[str]) -> Automaton:
    """Builds the word trie of `sentences` and merges states with equal futures (a minimal
    acyclic automaton), so shared endings such as "... for twenty seconds" are built once."""
    trie: list[dict[str, int]] = [{}]
    ends: list[bool] = [False]
    for sentence in sentences:
        state = 0
        for word in sentence.split():
            following = trie[state].get(word)
            if following is None:
                following = len(trie)
                trie[state][word] = following
                trie.append({})
                ends.append(False)
            state = following
        ends[state] = True

    canonical: dict[tuple[bool, tuple[tuple[str, int], ...]], int] = {}
    merged = [0] * len(trie)
    # Children always have higher numbers than their parents: visit in reverse order.
    for state in range(len(trie) - 1, -1, -1):
        signature = (ends[state], tuple(sorted((w, merged[c]) for w, c in trie[state].items())))
        merged[state] = canonical.setdefault(signature, len(canonical))

    final_signature = (True, ())
    final = canonical.get(final_signature, len(canonical))
    transitions: list[tuple[int, int, str | None]] = []
    for (is_end, edges), state in canonical.items():
        transitions.extend((state, child, word) for word, child in edges)
        if is_end and edges:
            transitions.append((state, final, None))
    return Automaton(merged[0], final, max(len(canonical), final + 1), tuple(transitions))
