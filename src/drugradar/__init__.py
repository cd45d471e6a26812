"""drugradar: an open drug R&D intelligence database with alerts.

The core library lives in the sub-packages; ``cli`` (and later the API, web and worker) only wrap it.
"""

__version__ = "0.1.0"
