"""The commands that read the catalog and the grammar, without audio: `list`, `show` and
`parse`."""

from __future__ import annotations

import json
import sys

from voicecoach.cli.common import EXIT_OK, catalog_of, command_index, print_json
from voicecoach.cli.options import Options
from voicecoach.core.catalog import Catalog, Exercise, describe_dose, exercise_to_dict
from voicecoach.core.intents import match


def cmd_list(options: Options) -> int:
    catalog = catalog_of(options)
    if options.json:
        print_json([exercise_to_dict(e) for e in catalog.exercises])
        return EXIT_OK
    width = max(len(e.id) for e in catalog.exercises)
    for exercise in catalog.exercises:
        print(
            f"{exercise.id:<{width}}  {exercise.name} ({exercise.category}, {exercise.position}) "
            f"- {describe_dose(exercise.dose)}"
        )
    routines = ", ".join(r.id for r in catalog.routines)
    print(f"\n{len(catalog.exercises)} exercises; routines: {routines}")
    return EXIT_OK


def cmd_routines(options: Options) -> int:
    """The routines, their exercises in order, and how long each takes when nobody talks."""
    from voicecoach.core.session import session_length_s

    catalog = catalog_of(options)
    routines = [
        {
            "id": routine.id,
            "name": routine.name,
            "description": routine.description,
            "minutes": round(session_length_s(catalog, list(routine.items)) / 60, 1),
            "exercises": [
                {"exercise": item.exercise_id, "variation": item.variation_id}
                for item in routine.items
            ],
        }
        for routine in catalog.routines
    ]
    if options.json:
        print_json(routines)
        return EXIT_OK
    for routine, data in zip(catalog.routines, routines, strict=True):
        print(f"{routine.id}: {routine.name}, about {data['minutes']:.0f} minutes")
        print(f"  {routine.description}")
        for number, item in enumerate(routine.items, 1):
            exercise = catalog.exercise(item.exercise_id)
            form = exercise.variation(item.variation_id) if item.variation_id else None
            name = form.name if form is not None else exercise.name
            dose = form.dose if form is not None else exercise.dose
            print(f"  {number}. {name} - {describe_dose(dose)}")
        print()
    print(
        "voicecoach run --routine ID starts one; voicecoach run --exercise NAME... picks your own."
    )
    return EXIT_OK


def _show_text(exercise: Exercise, catalog: Catalog) -> str:
    lines = [exercise.name]
    if exercise.aliases:
        lines.append(f"  also called: {', '.join(exercise.aliases)}")
    lines.append(
        f"  {exercise.category}, {exercise.position}; targets {', '.join(exercise.targets)}"
    )
    lines.append(f"  why: {exercise.benefit}")
    lines.append("  steps:")
    lines += [f"    {n}. {step}" for n, step in enumerate(exercise.steps, 1)]
    lines.append(f"  dose: {describe_dose(exercise.dose)}")
    if exercise.dose.note:
        lines.append(f"        ({exercise.dose.note})")
    for variation in exercise.variations:
        lines.append(f"  {variation.direction} version: {variation.name} [{variation.id}]")
        lines += [f"    - {step}" for step in variation.steps]
    for caution in exercise.cautions:
        lines.append(f"  caution: {caution.text}")
    lines.append("  sources:")
    lines += [f"    {key}: {catalog.sources[key]}" for key in exercise.sources]
    return "\n".join(lines)


def cmd_show(options: Options) -> int:
    catalog = catalog_of(options)
    exercise = catalog.find(" ".join(options.exercise))
    if options.json:
        print_json(exercise_to_dict(exercise))
    else:
        print(_show_text(exercise, catalog))
    return EXIT_OK


def cmd_parse(options: Options) -> int:
    index = command_index(options)
    lines = [" ".join(options.text)] if options.text else (line.rstrip("\n") for line in sys.stdin)
    for text in lines:
        if not text.strip():
            continue
        intent = match(text, index)
        if options.json:
            record = {
                "text": text,
                "intent": intent.name if intent else None,
                "slots": dict(intent.slots) if intent else {},
                "score": intent.score if intent else 0.0,
            }
            print(json.dumps(record, ensure_ascii=False), flush=True)
        elif intent is None:
            print(f"{text}\t-> (not a command)", flush=True)
        else:
            slots = " ".join(f"{k}={v}" for k, v in intent.slots.items())
            print(f"{text}\t-> {intent.name} {slots} ({intent.score:.0f})".rstrip(), flush=True)
    return EXIT_OK
