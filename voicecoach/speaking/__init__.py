"""Speaking: the speakers that say the coach's sentences (pyttsx3, an output device, silent, a
WAV timeline) and the full-duplex stream of --barge-in."""
