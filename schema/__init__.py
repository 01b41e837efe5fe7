"""Field definitions of the data package.

The Table Schemas (``*.schema.json`` beside this file, referenced from
``datapackage.json``) are the single source of truth. ``tableschema`` reads them,
``pandera_schemas`` derives the pandera schemas from them, ``rules`` holds what a
Table Schema cannot say, and ``tables`` holds the SQLModel table definitions that a
test keeps in step with the JSON.
"""
from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parent
