"""Frozen entry point of ``emr-export`` (the console launcher for IT contractors).

PyInstaller freezes a script, not a console-script entry point; this is the script. The program name
is fixed so help and errors say ``emr-export`` whatever the executable file is called.
"""

import multiprocessing

from emr_exporter.cli import main

if __name__ == "__main__":
    # The export's mapping workers are spawned (pipeline/parallel.py): in a frozen executable a spawned
    # child is this same program, which must become the worker here instead of starting the CLI again.
    multiprocessing.freeze_support()
    main(prog_name="emr-export")
