"""emr-exporter: hand a closing Korean clinic's medical records to the national store.

The core library (this package, minus ``gui``) never imports Qt.
"""

__version__ = "0.1.0"  # the one place: pyproject reads it (dynamic version), so do the installer scripts
