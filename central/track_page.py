"""The public tracking page: ``GET /track/{number}``, what a receipt's QR opens on a phone.

It says what the kiosk's progress screen says (``kiosk.query.progress_view``, the
same words from the same .po files): status, matters, promised date, missing
materials or the refusal's reason, and the stages with their dates. The number
on a receipt is all it takes, so it shows nothing personal (an outcome holds no
name or ID number). ``?lang=en`` for English; Chinese otherwise.
"""

from __future__ import annotations

import asyncio
from html import escape

from aiohttp import web

from central.app import CATALOG, PUBLIC, STORE, access
from central.errors import ApiError
from central.guide_page import STYLE
from kiosk.config import china_time
from kiosk.i18n import translate
from kiosk.query import NotANumber, clean_number, progress_view

TRACK_STYLE = (
    STYLE
    + """
.status{font-size:24px;font-weight:bold;margin:0 0 4px}.accepted,.pending{color:#173f85}
.done{color:#1f7a45}.needs_more{color:#c26a05}.refused{color:#b81a1a}
ol.stages{list-style:none;padding:0}ol.stages li{display:flex;justify-content:space-between;
border-left:4px solid #c9d2e3;padding:4px 10px;margin:0}
ol.stages li.reached{border-color:#1f7a45}ol.stages li.current{border-color:#173f85;font-weight:bold}
ol.stages li.future{color:#8a93a6}
"""
)


def _page(title: str, body: str, lang: str) -> str:
    other = "zh" if lang == "en" else "en"
    return (
        f'<!doctype html><html lang="{"en" if lang == "en" else "zh-CN"}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{TRACK_STYLE}</style></head><body>"
        f"<header><p>{escape(translate('progress.title', lang))}</p><h1>{escape(title)}</h1></header>"
        f'<main><nav><a href="?lang={other}">{escape(translate("common.language", lang))}</a></nav>'
        f"{body}</main></body></html>"
    )


def render(view, lang: str) -> str:
    """The page for one application (every text escaped)."""
    matters = "".join(f"<li>{escape(line.lstrip('·').strip())}</li>"
                      for line in view.lines if line.startswith("·"))  # fmt: skip
    notes = "".join(f"<p>{escape(line)}</p>" for line in view.lines if not line.startswith("·"))
    stages = "".join(
        f'<li class="{"current" if s.current else "reached" if s.reached else "future"}">'
        f"<span>{escape(translate(f'stage.{s.stage.value}', lang))}</span>"
        f"<span>{escape(china_time(s.at).strftime('%Y-%m-%d %H:%M') if s.at else '' if s.reached else translate('progress.not_yet', lang))}</span></li>"
        for s in view.stages
    )  # fmt: skip
    body = (
        f'<section><p class="status {view.status}">{escape(translate(f"progress.status.{view.status}", lang))}</p>'
        f"<p>{escape(translate('progress.number', lang, number=view.number))}</p>"
        f"<ul>{matters}</ul>{notes}</section>"
        f'<section><ol class="stages">{stages}</ol></section>'
    )
    return _page(view.number, body, lang)


@access(PUBLIC)
async def track_page(request: web.Request) -> web.Response:
    lang = "en" if request.query.get("lang", "zh").startswith("en") else "zh"
    try:
        number = clean_number(request.match_info["number"])
        progress = await asyncio.to_thread(request.app[STORE].progress, number)
    except (NotANumber, ApiError) as err:
        if isinstance(err, ApiError) and err.status != 404:
            raise
        text = translate("progress.not_found", lang, number=request.match_info["number"][:40])
        return web.Response(status=404, text=_page(text, f"<section><p>{escape(text)}</p></section>", lang),
                            content_type="text/html", charset="utf-8")  # fmt: skip
    view = progress_view(progress, request.app[CATALOG]["catalog"], lang)
    return web.Response(text=render(view, lang), content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-store"})  # fmt: skip


def setup(app: web.Application) -> None:
    app.router.add_get("/track/{number}", track_page)
