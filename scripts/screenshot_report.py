"""Screenshot the seed's HTML report in headless Chromium for the README.

Usage: python scripts/screenshot_report.py REPORT.html OUT.png   (make screenshot)
"""

from __future__ import annotations

import sys
from pathlib import Path

from incidentkit.browser import open_report

if __name__ == "__main__":
    seen = open_report(Path(sys.argv[1]), Path(sys.argv[2]), width=1000, height=1500)
    print(
        f"{sys.argv[2]}: {len(seen.facts['headings'])} headings, "
        f"{len(seen.facts['images'])} figures, {len(seen.console_errors)} console errors"
    )
