"""The public tracking page: ``GET /track/{number}``, what a receipt's QR opens on a phone.

It says what the kiosk's progress screen says (``kiosk.query.progress_view``, the
same words from the same .po files): status, matters, promised date, missing
materials or the refusal's reason, and the stages with their dates. The number
on a receipt and the code beside it in the QR (``?c=``, kiosk.query.track_code: a keyed
hash under the printing terminal's secret) are all it takes; numbers run in sequence, so
without the code the page is a 404 like a number that does not exist. It shows nothing
personal either way (an outcome holds no name or ID number). ``?lang=en`` for English;
Chinese otherwise.
"""

from __future__ import annotations

import asyncio
import hmac
import re
from html import escape
from urllib.parse import quote

from aiohttp import web

from central.app import CATALOG, CONFIG, PUBLIC, STORE, access
from central.auth import SECRETS
from central.errors import ApiError
from central.guide_page import STYLE
from kiosk.i18n import translate
from kiosk.query import (
    TRACK_CODE,
    NotANumber,
    clean_number,
    progress_view,
    slip_printer,
    stage_when,
    track_code,
)

TRACK_STYLE = (
    STYLE
    + """
.status{font-size:24px;font-weight:bold;margin:0 0 4px}.accepted,.pending{color:#173f85}
.done{color:#1f7a45}.needs_more{color:#c26a05}.refused{color:#b81a1a}
ol.stages{list-style:none;padding:0}ol.stages li{display:flex;flex-wrap:wrap;gap:0 12px;
justify-content:space-between;border-left:4px solid #c9d2e3;padding:4px 10px;margin:0}
ol.stages li span+span{margin-left:auto;text-align:right}.when{white-space:nowrap}
ol.stages li.reached{border-color:#1f7a45}ol.stages li.current{border-color:#173f85;font-weight:bold}
ol.stages li.future{color:#8a93a6}
"""
)


def _page(title: str, body: str, lang: str, code: str = "") -> str:
    other = "zh" if lang == "en" else "en"
    # the other language keeps the QR's code (the page does not open without it)
    switch = f"?lang={other}" + (f"&{TRACK_CODE}={quote(code)}" if code else "")
    return (
        f'<!doctype html><html lang="{"en" if lang == "en" else "zh-CN"}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{TRACK_STYLE}</style></head><body>"
        f"<header><p>{escape(translate('progress.title', lang))}</p><h1>{escape(title)}</h1></header>"
        f'<main><nav><a href="{escape(switch)}">{escape(translate("common.language", lang))}</a></nav>'
        f"{body}</main></body></html>"
    )


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?")


def _dated(text: str) -> str:
    """``text`` escaped, a date and time in it kept on one line (a phone broke one at its
    hyphen: "2026-" / "12-08 05:56")."""
    return _DATE.sub(lambda m: f'<span class="when">{m.group(0)}</span>', escape(text))


def render(view, lang: str, code: str = "") -> str:
    """The page for one application (every text escaped)."""
    matters = "".join(f"<li>{escape(line.lstrip('·').strip())}</li>"
                      for line in view.lines if line.startswith("·"))  # fmt: skip
    notes = "".join(f"<p>{escape(line)}</p>" for line in view.lines if not line.startswith("·"))
    stages = "".join(
        f'<li class="{"current" if s.current else "reached" if s.reached else "future"}">'
        f"<span>{escape(translate(f'stage.{s.stage.value}', lang))}</span>"
        f"<span>{_dated(stage_when(s, view.status, lang))}</span></li>"
        for s in view.stages
    )  # fmt: skip
    body = (
        f'<section><p class="status {view.status}">{escape(translate(f"progress.status.{view.status}", lang))}</p>'
        f"<p>{escape(translate('progress.number', lang, number=view.number))}</p>"
        f"<ul>{matters}</ul>{notes}</section>"
        f'<section><ol class="stages">{stages}</ol></section>'
    )
    return _page(view.number, body, lang, code)


@access(PUBLIC)
async def track_page(request: web.Request) -> web.Response:
    lang = "en" if request.query.get("lang", "zh").startswith("en") else "zh"
    try:
        number = clean_number(request.match_info["number"])
        progress, terminal = await asyncio.to_thread(request.app[STORE].tracked, number)
        if request.app[CONFIG].require_signatures:  # (a desk demo signs nothing)
            await _check_code(request, number, terminal)
    except (NotANumber, ApiError) as err:
        if isinstance(err, ApiError) and err.status != 404:
            raise
        # one answer for a number that does not exist and for one without its receipt's code;
        # a pending slip's own number (收件编号) before its kiosk has delivered it: that it is
        # on its way (a made-up one learns nothing from it: no slip number is ever known here
        # before it is delivered)
        shown = request.match_info["number"][:40]
        slip = slip_printer(shown) is not None
        text = translate("progress.slip_not_yet_link" if slip else "progress.not_found_link", lang, number=shown)
        return web.Response(status=404, text=_page(text, f"<section><p>{escape(text)}</p></section>", lang),
                            content_type="text/html", charset="utf-8")  # fmt: skip
    view = progress_view(progress, request.app[CATALOG]["catalog"], lang)
    return web.Response(text=render(view, lang, request.query.get(TRACK_CODE, "")), content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-store"})  # fmt: skip


async def _check_code(request: web.Request, number: str, terminal: str) -> None:
    """The code in the QR must be the one the printing terminal made for this number
    (kiosk.query.track_code): numbers run in sequence, and this page is public.

    :raises ApiError: 404, as for a number that does not exist (nothing to tell a guesser).
    """
    given = request.query.get(TRACK_CODE, "").encode()
    # a slip's number names the terminal that printed it (client.outbox): the code is made
    # with its secret, the submission's own terminal's unless the terminal was enrolled
    # anew since and its waiting slips went as the new one
    printers = [terminal]
    if (named := slip_printer(number)) is not None and named != terminal:
        printers.append(named)
    for printer in printers:
        secret = await request.app[SECRETS].secret(printer) if printer else None
        if secret is not None and hmac.compare_digest(track_code(secret, number).encode(), given):
            return
    raise ApiError(404, "application.not_found")


def setup(app: web.Application) -> None:
    app.router.add_get("/track/{number}", track_page)
