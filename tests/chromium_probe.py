"""Headless Chromium for the report tests: a screenshot, and what the page saw after loading.

Debian's ``chromium`` package (``make system-deps`` installs it as root). Each call starts a
fresh browser with a fresh profile, no network services and no sandbox (tests run as root in CI).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars",
)
# Runs after the load event (every image decoded or failed); writes what the page saw into the
# DOM, which --dump-dom prints. Resource Timing lists every fetch the page made; data: URIs are
# not fetches, so a self-contained page lists none.
PROBE = """<script>
window.addEventListener('load', () => {
  const seen = {
    images: Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete,
      width: i.naturalWidth, height: i.naturalHeight, scheme: i.currentSrc.split(':')[0]})),
    sections: Array.from(document.querySelectorAll('section[id]')).map(s => s.id),
    requests: performance.getEntriesByType('resource').map(r => r.name),
    title: document.title,
  };
  const out = document.createElement('pre');
  out.id = 'probe-result';
  out.textContent = JSON.stringify(seen);
  document.body.appendChild(out);
});
</script>"""


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(binary: str, profile: Path, args: list[str], timeout: float = 120) -> str:
    command = [binary, *FLAGS, f"--user-data-dir={profile}", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def screenshot(binary: str, page: Path, out: Path, tmp: Path, *, width: int = 1280,
               height: int = 4000) -> Path:
    _run(binary, tmp / "profile-shot", [f"--screenshot={out}", f"--window-size={width},{height}",
                                        page.resolve().as_uri()])
    return out


def probe(binary: str, page: Path, tmp: Path) -> dict[str, Any]:
    """Open a copy of ``page`` with :data:`PROBE` added and return what it recorded."""
    copy = tmp / f"probe-{page.name}"
    text = page.read_text(encoding="utf-8")
    copy.write_text(text.replace("</body>", PROBE + "\n</body>"), encoding="utf-8")
    dom = _run(binary, tmp / "profile-probe",
               ["--virtual-time-budget=10000", "--dump-dom", copy.resolve().as_uri()])
    found = re.search(r'<pre id="probe-result">(.*?)</pre>', dom, re.S)
    if not found:
        raise AssertionError(f"the probe wrote nothing; the page did not finish loading:\n"
                             f"{dom[-1500:]}")
    return json.loads(html.unescape(found.group(1)))
