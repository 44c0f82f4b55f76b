"""Frozen entry point of ``emr-export`` (the console launcher for IT contractors).

PyInstaller freezes a script, not a console-script entry point; this is the script. The program name
is fixed so help and errors say ``emr-export`` whatever the executable file is called.
"""

from emr_exporter.cli import main

if __name__ == "__main__":
    main(prog_name="emr-export")
