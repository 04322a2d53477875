"""The public guide page (办事指南): ``GET /guide/{matter_code}``, plain server-rendered HTML.

What the QR code on the kiosk's guide screen opens on a citizen's phone, so it
says what the screen said: the same ``kiosk.guide`` data in the same words.
Public (no signature: a phone has none), read-only, from the served catalog.
``?lang=en`` for English; Chinese otherwise.
"""

from __future__ import annotations

from html import escape

from aiohttp import web

from central.app import CATALOG, PUBLIC, access
from kiosk.errors import ValidationError
from kiosk.guide import build_guide, guide_lines, material_note
from kiosk.i18n import translate

STYLE = """
body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;margin:0;
color:#1a2133;background:#f4f6fa;line-height:1.6}
header{background:#173f85;color:#fff;padding:16px 20px;border-bottom:5px solid #d92929}
header p{margin:0;font-size:14px;opacity:.85}h1{margin:4px 0 0;font-size:22px}
main{max-width:720px;margin:0 auto;padding:12px 16px 32px}
section{background:#fff;border-radius:10px;padding:12px 16px;margin:12px 0}
h2{font-size:17px;color:#173f85;margin:0 0 8px}
dl{margin:0}dt{font-weight:bold;margin-top:8px}dd{margin:0 0 0 0}
ol{margin:0;padding-left:22px}li{margin:4px 0}.note{display:block;color:#1f7a45;font-size:14px}
nav{text-align:right;font-size:14px}nav a{color:#173f85}
"""


def render(guide, county: str, language: str) -> str:
    """The page's HTML (every catalog text escaped)."""
    lang = "en" if language.startswith("en") else "zh"
    other = "zh" if lang == "en" else "en"
    facts = "".join(
        f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>"
        for label, value in guide_lines(guide, lang)
    )
    materials = "".join(
        f"<li>{escape(m.name)}"
        + (
            # a line of its own under the name, not in brackets round its own brackets
            f' <span class="note">{escape(note)}</span>'
            if (note := material_note(m, lang))
            else ""
        )  # fmt: skip
        + "</li>"
        for m in guide.materials
    )
    events = ""
    if guide.life_events:
        items = "".join(f"<li>{escape(title)}</li>" for _code, title in guide.life_events)
        # (the screen's two lines stay two: a newline alone ran them together in HTML)
        heading = escape(translate("guide.apply_in", lang)).replace("\n", "<br>")
        events = (f"<section><h2>{heading}</h2>"
                  f"<ul>{items}</ul></section>")  # fmt: skip
    return (
        f'<!doctype html><html lang="{"en" if lang == "en" else "zh-CN"}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(guide.name)} · {escape(translate('guide.title', lang))}</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<header><p>{escape(county)} · {escape(translate('guide.title', lang))}</p>"
        f"<h1>{escape(guide.name)}</h1></header><main>"
        f'<nav><a href="?lang={other}">{escape(translate("common.language", lang))}</a></nav>'
        f"<section><dl>{facts}</dl></section>"
        f"<section><h2>{escape(translate('guide.materials', lang))}</h2><ol>{materials}</ol></section>"
        f"{events}</main></body></html>"
    )


@access(PUBLIC)
async def guide_page(request: web.Request) -> web.Response:
    catalog = request.app[CATALOG]["catalog"]
    language = request.query.get("lang", "zh")
    language = "en" if language.startswith("en") else "zh"
    try:
        guide = build_guide(catalog, request.match_info["code"], language)
    except ValidationError:
        text = escape(translate("guide.unknown", language))
        return web.Response(
            status=404, content_type="text/html", charset="utf-8",
            text=f'<!doctype html><meta charset="utf-8"><title>{text}</title><p>{text}</p>',
        )  # fmt: skip
    return web.Response(
        text=render(guide, catalog.county.get(language), language),
        content_type="text/html", charset="utf-8",
        headers={"Cache-Control": "public, max-age=300"},
    )  # fmt: skip


def setup(app: web.Application) -> None:
    app.router.add_get("/guide/{code}", guide_page)
