import datetime as dt
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Fixtures' expected findings are written for this day, so that "not in the future"
# checks do not change with the calendar.
FIXED_TODAY = dt.date(2026, 1, 1)


@pytest.fixture
def fixed_today():
    return FIXED_TODAY
