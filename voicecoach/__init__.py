"""voicecoach: an offline, hands-free voice coach for lower back exercises."""

__version__ = "0.1.0"
