"""Hearing: audio in (WAV files, the microphone), endpointing, recognisers (PocketSphinx, Vosk),
the verifier, echo cancellation and the simulated room."""
