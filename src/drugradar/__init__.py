"""drugradar: an open drug R&D intelligence database with alerts.

The core library lives in the sub-packages; ``cli`` (later the API, web and worker) wraps it.
"""

__version__ = "0.1.0"
