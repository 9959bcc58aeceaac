"""The pure core: catalog, grammar, intents, the session state machine, progression, answers,
speech timing, the gate and history summaries. Plain data in, actions out, time passed in: no
audio, threads, databases or clocks here (import-linter checks it, see pyproject.toml)."""
