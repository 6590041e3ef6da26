"""The exported HTML report in a real headless Chromium: nothing fetched, and printed to PDF
(DevTools ``Page.printToPDF``) every page carries the installation and the change number, each
part starts on a new page, table rows are never cut and table headers repeat."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tasks.report.export import read_input, render
from tests.support.finished import CHANGE, INSTALLATION, finished_session

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
PDFTOTEXT = shutil.which("pdftotext")
PDFINFO = shutil.which("pdfinfo")
ROWS = 80

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM and CHROMEDRIVER and PDFTOTEXT and PDFINFO),
        reason="needs chromium, chromium-driver and poppler-utils (./dev.sh test installs them)",
    ),
]


def _pages(pdf: Path) -> list[str]:
    info = subprocess.run([PDFINFO, str(pdf)], capture_output=True, text=True, check=True)
    count = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))  # type: ignore[union-attr]
    pages = []
    for n in range(1, count + 1):
        done = subprocess.run(
            [PDFTOTEXT, "-layout", "-f", str(n), "-l", str(n), str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        )
        pages.append(done.stdout)
    return pages


async def test_report_prints_with_headers_whole_rows_and_a_page_per_part(tmp_path: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    f = await finished_session(tmp_path)
    # Enough commands for the journal's table to span pages; each row's command wraps over
    # several lines in its cell, between two markers that must land on the same page.
    for n in range(ROWS):
        words = [
            f"BEGIN{n:03d}",
            *(f"--option-{k}=value-{n}-{k}" for k in range(12)),
            f"END{n:03d}",
        ]
        f.workspace.journal.command(
            ["yarn", *words], tmp_path, "2024-05-02T10:00:00+00:00", "2024-05-02T10:00:05+00:00",
            0, duration_s=5.0, phase="merge_config", step="yarn_install",
        )  # fmt: skip
    page = tmp_path / "report.html"
    page.write_text(
        render(read_input(f.session, f.workspace.journal, f.workspace.state_path), "html")
    )

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # type: ignore[assignment]
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ):  # fmt: skip
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(dir=tmp_path)}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.get(page.as_uri())
        assert driver.title.startswith("Change record: OpenCRVS upgrade 1.3.0 to 1.3.5")
        # Self-contained: the page loaded nothing besides itself.
        fetched = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
        )
        assert fetched == []
        pdf = driver.execute_cdp_cmd(
            "Page.printToPDF", {"printBackground": True, "preferCSSPageSize": True}
        )
    finally:
        driver.quit()
    out = tmp_path / "report.pdf"
    out.write_bytes(base64.b64decode(pdf["data"]))
    if keep := os.environ.get("CRVS_KEEP_REPORT_PDF"):
        shutil.copy(out, keep)
    pages = _pages(out)
    total = len(pages)
    assert total >= 5, total

    header = re.compile(rf"{re.escape(INSTALLATION)}\s*·\s*Change {re.escape(CHANGE)}")
    for n, text in enumerate(pages, 1):
        assert header.search(text), f"page {n} has no header:\n{text[:400]}"
        assert f"Page {n} of {total}" in text, f"page {n} has no page number:\n{text[-400:]}"

    # Each part begins a page: its title is the first thing under the page header (the first
    # part's under the document's title, on page 1).
    titles = ["Part 1. The change", "Part 2. How the upgrade went", "Part 3. Evidence",
              "Part 4. Journal"]  # fmt: skip
    starts = []
    for title in titles:
        found = [n for n, text in enumerate(pages) if title in text]
        assert len(found) == 1, (title, found)
        body = [ln.strip() for ln in pages[found[0]].splitlines() if ln.strip()]
        if title == titles[0]:
            assert found[0] == 0 and title in "\n".join(body[:6]), body[:6]
        else:
            assert header.search(body[0]) and title in body[1], (title, body[:3])
        starts.append(found[0])
    assert starts == sorted(starts) and len(set(starts)) == 4

    # No row cut across pages: both markers of each command on one page; and every page the
    # commands table continues onto repeats its header row.
    for n in range(ROWS):
        begin = [p for p, text in enumerate(pages) if f"BEGIN{n:03d}" in text]
        end = [p for p, text in enumerate(pages) if f"END{n:03d}" in text]
        assert begin == end and len(begin) == 1, (n, begin, end)
    spanned = sorted({p for p, text in enumerate(pages) if "BEGIN0" in text})
    assert len(spanned) >= 2, spanned
    for p in spanned:
        assert re.search(r"#\s+Started\s+Phase and step\s+Where\s+Command", pages[p]), pages[p][
            :600
        ]
