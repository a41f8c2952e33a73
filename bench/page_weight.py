"""Weight and speed of the public form on a cheap phone: bytes transferred (page, CSS, script)
and paint/load times in Chromium with the CPU slowed 4x and a slow 3G-like network.

    python -m bench.page_weight [--url http://127.0.0.1:8000/u/demo]

Without --url it serves a fresh SQLite demo database. tests/a11y/test_weight.py holds the
bytes to the 50 KB budget; times are only printed here.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.load import prepare, serving

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = "/usr/bin/chromium"
# Slow 3G as Chrome DevTools defines it: 400 ms round trip, about 50 KB/s each way.
SLOW_3G = {
    "offline": False,
    "latency": 400,
    "downloadThroughput": 51_200,
    "uploadThroughput": 51_200,
}
ENTRIES = """
() => [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
  .map(e => ({name: e.name, type: e.initiatorType || 'navigation', transfer: e.transferSize,
              encoded: e.encodedBodySize, decoded: e.decodedBodySize}))
"""
TIMES = """
() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  return {fcp: paint ? paint.startTime : null, dom_ready: nav.domContentLoadedEventEnd,
          load: nav.loadEventEnd};
}
"""


@dataclass(frozen=True)
class Weight:
    """What one load of a page cost: each resource's bytes, and the page's times (ms)."""

    resources: list[dict[str, Any]]
    times: dict[str, float | None]

    @property
    def transferred(self) -> int:
        """Bytes over the wire, headers included, for the page and all it loaded."""
        return sum(int(r["transfer"]) for r in self.resources)

    @property
    def encoded(self) -> int:
        """Response bodies as sent (compressed if they were)."""
        return sum(int(r["encoded"]) for r in self.resources)


def measure(browser: Browser, url: str, *, throttled: bool) -> Weight:
    """Load `url` once with an empty cache in a phone-sized page; throttled: slow CPU and net."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    if throttled:
        cdp.send("Network.emulateNetworkConditions", SLOW_3G)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
    page.goto(url, wait_until="load")
    weight = Weight(resources=page.evaluate(ENTRIES), times=page.evaluate(TIMES))
    context.close()
    return weight


def _report(url: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        for throttled in (False, True):
            w = measure(browser, url, throttled=throttled)
            label = "CPU 4x slower, slow 3G" if throttled else "unthrottled"
            print(f"{url} ({label})")
            for r in w.resources:
                print(
                    f"  {r['type']:<10} {r['transfer']:>7} B transferred, {r['encoded']:>7} B "
                    f"body, {r['decoded']:>7} B decoded  {r['name']}"
                )
            print(f"  total {w.transferred} B transferred ({w.encoded} B of bodies)")
            print("  " + ", ".join(f"{k} {v:.0f} ms" for k, v in w.times.items() if v is not None))
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server's form page (default: serve the demo)")
    args = parser.parse_args()
    if args.url:
        _report(args.url)
        return
    with tempfile.TemporaryDirectory() as tmp:
        env = prepare(f"sqlite:///{Path(tmp) / 'weight.db'}")
        with serving(env, 1, Path(tmp) / "server.log") as (base, _):
            _report(base + "/u/demo")


if __name__ == "__main__":
    main()
