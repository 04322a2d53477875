"""The search screen in a real window while the platform publishes a new catalog: a matter
added there is found once the kiosk has taken it. Run by tests/ui/test_search_catalog.py in
its own process (Kivy makes one window per process):
``python tests/ui/search_catalog_app.py OUT_DIR WIDTH HEIGHT``.

The platform is a real ``central serve`` whose catalog has one matter more than the kiosk's;
the kiosk fetches it over HTTP as its heartbeat does (``Terminal.refresh_catalog``). Prints
one JSON line: what the search found before and after, and the screenshot after.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NEW = {"code": "farm_machinery_subsidy", "zh": "农机购置补贴申请",
       "en": "Farm machinery purchase subsidy"}  # fmt: skip
QUERY = "农机购置"


async def script(app, out: Path) -> dict:
    from screens.walkthrough import Walkthrough, until

    w = Walkthrough(app, out)
    await until(lambda: app.root is not None and app.screens.current == "attract", 30, "attract")
    app.show("search")
    search = app.screens.get_screen("search")
    await until(lambda: search.index is not None, 20, "the search index")
    search.keyboard.text = QUERY
    before = list(search.codes)
    taken = await app.terminal.refresh_catalog()  # what the heartbeat does every tenth beat
    await until(lambda: NEW["code"] in search.codes, 20, "the new matter found")
    shot = await w.screenshot("search-new-catalog")
    return {"taken": taken, "before": before, "after": list(search.codes), "screenshot": str(shot)}


def main() -> None:
    out = Path(sys.argv[1])
    sys.path.insert(0, str(ROOT))
    from kiosk.config import DisplayConfig, KioskConfig
    from screens.window import configure

    configure(DisplayConfig(width=int(sys.argv[2]), height=int(sys.argv[3])), out / "kivy")
    from client.platform import PlatformClient
    from kiosk.catalog import default_catalog_dir, load_catalog
    from kiosk.catalog.sync import CatalogCache
    from kiosk.terminal import Ports, Terminal
    from screens.app import KioskApp
    from tests.support.central import CentralProcess
    from tests.support.window_child import drive

    catalog = load_catalog(default_catalog_dir())
    published = catalog.to_dict()
    published["matter"].append({**published["matter"][0], **NEW})
    folder = out / "published"
    folder.mkdir(parents=True)
    (folder / "catalog.json").write_text(json.dumps(published, ensure_ascii=False), "utf-8")
    server = CentralProcess(out / "central", folder)
    url = server.start()
    try:
        terminal = Terminal(Ports(platform=PlatformClient(url, timeout=10)), KioskConfig(), catalog)
        terminal.catalog_cache = CatalogCache(out / "kiosk")
        app = KioskApp(terminal, ["通知"], "洲湖镇便民服务中心")
        print(json.dumps(drive(app, lambda: script(app, out))))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
