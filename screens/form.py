"""One form: the merged fields of every matter, pre-filled from the card.

Pre-filled fields are shown as done; the citizen types only the rest, with
the on-screen keyboard; problems are shown in plain words under each field.
In large type the form is shown a page at a time, as the other lists are (a group's
heading goes with its first field); the form turns to the page of each field it brings
to the citizen.
"""

from __future__ import annotations

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.factory import Factory
from kivy.metrics import dp
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.textinput import TextInput

from kiosk.catalog.model import FieldDef, FieldType
from kiosk.form import card_values
from kiosk.identity import ElectronicId
from kiosk.records import masked_id
from kiosk.validation import normalize_date
from screens.base import KioskScreen
from screens.keyboard import KioskKeyboard
from screens.widgets import BigButton, PagedRows, choice_look, even_rows

KEYBOARD_MODE = {
    FieldType.ID_NUMBER: "digits",
    FieldType.PHONE: "digits",
    FieldType.DATE: "digits",
    FieldType.AMOUNT: "digits",
    FieldType.TEXT: "pinyin",
    FieldType.ADDRESS: "pinyin",
}


class FieldRow(BoxLayout):
    field_id = StringProperty("")


class FieldInput(TextInput):
    field_id = StringProperty("")
    problem = StringProperty("")


def shown_value(f: FieldDef, value: str, language: str, from_card: bool = False) -> str:
    """``value`` as the screen shows it: a choice by its label; an ID number read from the
    card masked as the receipts mask it (the region and the last four: whoever stands
    behind the citizen does not read it, and the card is right by construction). What the
    citizen typed is shown whole, for them to check."""
    for c in f.choices:
        if c.value == value:
            return c.label.get(language)
    if from_card and f.type is FieldType.ID_NUMBER and value:
        return masked_id(value)
    return value


LONG_CHOICES = 12  # a choice list longer than this shows its likely few, then "more…"


class FormScreen(PagedRows, KioskScreen):
    elderly_rows = (4, 2)  # rows a page in large type before the form is measured
    # opened from the review to change a section: done goes back to the review (by the
    # materials only where one is still missing), and says so
    changing = BooleanProperty(False)

    def __init__(self, terminal, nav, **kw):
        super().__init__(terminal, nav, **kw)
        self.inputs: dict[str, FieldInput] = {}
        self.rows: dict[str, FieldRow] = {}
        self.to_fill: list[str] = []  # fields the citizen fills, in form order
        self.problem_labels: dict[str, object] = {}
        self.headings: dict[str, object] = {}  # each group's heading, by group
        self.keyboard = None
        self._open_group: str | None = None  # the section the review's "change" asked for
        self.expanded: set[str] = set()  # long choice lists opened in full ("more…")
        self._problems: dict[str, str] = {}  # what the rows say is wrong (message keys)
        terminal.subscribe(self._on_terminal)

    def on_kv_post(self, *_):
        self.watch_list()
        self._back_button = self.ids.back_button.__self__  # (ids are weak: kept while out)

    def on_changing(self, *_):
        """Changing a section from the review, the form's one way is back to it: its
        "返回" (to the questions) is taken out of the row meanwhile, not left beside
        "改好了，返回核对"."""
        row, back = self.ids.form_buttons.__self__, getattr(self, "_back_button", None)
        if back is None:
            return
        if self.changing and back.parent is row:
            row.remove_widget(back)
        elif not self.changing and back.parent is None:
            row.add_widget(back, index=len(row.children))  # first, at the left

    def _on_terminal(self, what: str) -> None:
        if what == "elderly" and self.manager is not None and self.manager.current == self.name:
            self._rebuild()  # pages in large type, or the whole form again

    def heads(self, row) -> bool:
        return any(row is h for h in self.headings.values())  # a heading goes with its field

    def room_taken(self) -> tuple[float, float]:
        side = self.ids.side_keyboard_area  # the keyboard beside the form (landscape)
        return (side.width + dp(24) if side.children else 0.0), self.ids.keyboard_area.height

    def on_pre_enter(self, *_):
        self.journey.start_form()
        values = self.terminal.session.values
        if self._open_group is not None:
            self.build_rows(keep=f"group:{self._open_group}")
        else:  # on the page of the field the cursor will wait in (on_enter)
            self.build_rows(keep=next((f for f in self.to_fill_now() if not values.get(f)), None))

    def open_at(self, group: str) -> None:
        """The form opens next at ``group``'s section (the review's "change" beside it)."""
        self._open_group = group
        self.changing = True

    def on_enter(self, *_):
        group, self._open_group = self._open_group, None
        self.changing = group is not None
        if group in self.headings:  # back from the review to change one section: that one
            Clock.schedule_once(lambda _dt: self.show_group(group), 0.1)  # once laid out
            return
        # The cursor waits in the first field to fill, keyboard up: no hunting for it.
        values = self.terminal.session.values
        first = next((f for f in self.to_fill if not values.get(f)), None)
        if first in self.inputs:
            Clock.schedule_once(lambda _dt: setattr(self.inputs[first], "focus", True), 0.1)

    def wipe(self) -> None:
        super().wipe()
        self.close_keyboard()
        self.forget_rows()
        self.inputs.clear()
        self.rows.clear()
        self.problem_labels.clear()
        self.headings.clear()
        self._open_group = None
        self.changing = False
        self.expanded.clear()
        self.to_fill = []

    def relanguage(self) -> None:
        self._rebuild()  # labels, choices and problems; what was typed stays

    def _rebuild(self, keep: str | None = None) -> None:
        """The rows made again where they were (on the same page, or on ``keep``'s); the
        field being typed in keeps the focus (the keyboard goes to its new input: left on
        the old one, keys went nowhere)."""
        focused = self._focused()
        keep = keep or self._anchor()
        scroll_y = self.ids.scroll.scroll_y
        self.close_keyboard()
        self.build_rows(self._problems, keep=keep)
        self.ids.scroll.scroll_y = scroll_y
        if focused in self.inputs:
            Clock.schedule_once(lambda _dt: setattr(self.inputs[focused], "focus", True), 0)

    def _focused(self) -> str | None:
        return next((fid for fid, i in self.inputs.items() if i.focus), None)

    def kept_row(self):
        """The field being typed in stays on the page shown when the form's room changes
        (the keyboard beside it in landscape narrows the form); else the page's first row."""
        focused = self._focused()
        return self.rows[focused] if focused in self.rows else super().kept_row()

    def _anchor(self) -> str | None:
        """What keeps the citizen's place when the rows are made again (``kept_row``), by
        key: a field's id, or "group:<id>" for a heading."""
        row = self.kept_row()
        if isinstance(row, FieldRow):
            return row.field_id
        return next((f"group:{g}" for g, h in self.headings.items() if h is row), None)

    def _row(self, key: str | None):
        """The row a key (a field's id, or "group:<id>" for a heading) names, if shown."""
        if key is None:
            return None
        if key.startswith("group:"):
            return self.headings.get(key.removeprefix("group:"))
        return self.rows.get(key)

    def to_fill_now(self, prefilled=None) -> list[str]:
        """The fields the citizen fills, in form order (those the card does not fill:
        ``prefilled``, when the caller has it already)."""
        form = self.journey.form()
        if prefilled is None:
            prefilled = form.prefill(self.terminal.session.card)
        return [f.id for f in form.fields if f.id not in prefilled]

    def build_rows(self, problems: dict[str, str] | None = None, keep: str | None = None):
        """The form's rows made afresh, shown on the page of ``keep`` (a field's id, or
        "group:<id>"; by default the first row of the page shown)."""
        keep = keep if keep is not None else self._anchor()
        problems = self._problems = problems or {}
        lang = self.terminal.language
        form = self.journey.form()
        prefilled = form.prefill(self.terminal.session.card)
        values = self.terminal.session.values
        rows: list = []  # every row, headings too: shown a page at a time (PagedRows)
        self.inputs.clear()
        self.rows.clear()
        self.problem_labels.clear()
        self.headings.clear()
        self.to_fill = self.to_fill_now(prefilled)
        group = None
        # where the filled-in values came from: a card read, or a code shown on a phone
        eid = isinstance(self.terminal.session.card, ElectronicId)
        source = "form.prefilled_eid" if eid else "form.prefilled"
        for f in form.fields:
            if f.group != group:
                group = f.group
                self.headings[group] = Factory.GroupHeading(text=self.t(f"group.{group}"))
                rows.append(self.headings[group])
            row = FieldRow(field_id=f.id)
            row.add_widget(Factory.FieldLabel(
                text=f.label.get(lang) + ("" if f.required else self.t("form.optional"))))
            value = values.get(f.id, "")
            if f.id in prefilled:
                row.add_widget(Factory.PrefilledValue(
                    text=f"{shown_value(f, value, lang, from_card=True)}    [color=1f8a4c]✓ {self.t(source)}[/color]",
                    markup=True))
            elif f.type is FieldType.CHOICE:
                offered = self.offered(f, values)
                # two or three a row (many banks would squeeze into thin, ragged buttons)
                n = len(offered) + (len(offered) < len(f.choices))
                choices = GridLayout(cols=n if n <= 3 else (2 if Window.height >= Window.width else 3),
                                     size_hint_y=None, spacing=12, row_force_default=True)
                choices.bind(minimum_height=choices.setter("height"))
                buttons = [BigButton(action=f"choice:{f.id}:{c.value}",
                                     text=("✓ " if value == c.value else "") + c.label.get(lang),
                                     **choice_look(value == c.value),
                                     size_hint_y=1,  # the grid's one row height, below
                                     on_release=lambda _w, fid=f.id, v=c.value: self.pick(fid, v))
                           for c in offered]  # fmt: skip
                if len(offered) < len(f.choices):  # the rest of a long list, on a touch
                    buttons.append(BigButton(action=f"more:{f.id}", text=self.t("form.more_choices"),
                                             **choice_look(False), size_hint_y=1,
                                             on_release=lambda _w, fid=f.id: self.expand(fid)))  # fmt: skip
                for b in buttons:
                    choices.add_widget(b)
                even_rows(choices, buttons)
                row.add_widget(choices)
            else:
                field_input = FieldInput(field_id=f.id, text=value, problem=problems.get(f.id, ""))
                field_input.bind(focus=self.on_focus, text=self.on_text)
                self.inputs[f.id] = field_input
                row.add_widget(field_input)
            label = Factory.Problem(text=self.t(problems[f.id]) if f.id in problems else "")
            self.problem_labels[f.id] = label
            row.add_widget(label)
            rows.append(row)
            self.rows[f.id] = row
        self._rows = rows
        self.paginate(keep=self._row(keep))

    def show_group(self, group: str) -> None:
        """Turn to ``group``'s page and scroll so that its heading is at the top of the
        view (or as near as the end of the form allows)."""
        self.turn_to(self.headings.get(group))
        heading, view, rows = self.headings.get(group), self.ids.scroll, self.ids.rows
        if heading is None or heading.parent is not rows.__self__:  # (ids are weak proxies)
            return
        scrollable = rows.height - view.height
        if scrollable <= 0:
            return  # the whole form is in view
        below = heading.top - rows.y  # from the foot of the form to the heading's top
        view.scroll_y = min(1.0, max(0.0, (below - view.height) / scrollable))

    # -- editing -------------------------------------------------------------
    def field(self, field_id: str) -> FieldDef:
        return self.terminal.catalog.fields[field_id]

    def offered(self, f: FieldDef, values: dict[str, str]) -> list:
        """The choices a field shows: all of them, or of a long list (the 56 ethnic groups)
        the likely few: the first (the most common), the one chosen, and those chosen for
        other fields of the same list in this visit (a newborn's parents' groups, the card's
        own); the rest come with "more…"."""
        if len(f.choices) <= LONG_CHOICES or f.id in self.expanded:
            return list(f.choices)
        fields, card = self.terminal.catalog.fields, card_values(self.terminal.session.card)
        same = [g for g in fields.values() if g.choices == f.choices]
        likely = {values.get(g.id) for g in same} | {card.get(g.prefill) for g in same if g.prefill}
        return [c for i, c in enumerate(f.choices) if i == 0 or c.value in likely]

    def expand(self, field_id: str) -> None:
        self.terminal.touch()
        self.expanded.add(field_id)
        self._rebuild(keep=field_id)  # its page, though the longer list moves it on

    def turn_to(self, row) -> None:
        """Show the page that holds ``row``; a field typed in on the page left loses focus."""
        page = next((i for i, p in enumerate(self._pages) if any(r is row for r in p)), None)
        if page is None or page == self.page:
            return
        for field_input in self.inputs.values():
            if field_input.focus and not any(self.rows[field_input.field_id] is r for r in self._pages[page]):
                field_input.focus = False
        self.page = page
        self.show_page()

    def show_page(self):
        super().show_page()  # (at its top)
        self.ids.rows.do_layout()  # now: the form scrolls to a field of the page at once
        focused = self._focused()
        if focused in self.inputs:  # the field being typed in, in view again
            Clock.schedule_once(lambda _dt: self._scroll_to_focused(self.inputs[focused]), 0)

    def turn(self, step: int):
        """The citizen turns the page: the keyboard goes with the field typed in."""
        self.close_keyboard()
        super().turn(step)

    def pick(self, field_id: str, value: str):
        self.expanded.discard(field_id)  # chosen: the long list folds away again
        self.journey.set_value(field_id, value, self.terminal.now())
        self._problems.pop(field_id, None)  # (the others' are still to put right)
        scroll_y = self.ids.scroll.scroll_y
        self.build_rows(self._problems)
        self.ids.scroll.scroll_y = scroll_y
        self.go_next(field_id)

    def go_next(self, field_id: str):
        """After a field is done, bring the next one to the citizen (no hunting by scrolling)."""
        order = self.to_fill
        following = order[order.index(field_id) + 1 :] if field_id in order else []
        if not following:
            self.close_keyboard()
            return
        nxt = following[0]
        self.turn_to(self.rows[nxt])
        if nxt in self.inputs:
            self.inputs[nxt].focus = True
        else:
            self.close_keyboard()
            self.ids.scroll.scroll_to(self.rows[nxt], padding=40, animate=False)

    def keyboard_done(self):
        current = next((i for i in self.inputs.values() if i.focus), None)
        if current is None:
            self.close_keyboard()
        else:
            self.go_next(current.field_id)

    def on_text(self, field_input: FieldInput, text: str):
        if self.field(field_input.field_id).type is FieldType.DATE and normalize_date(text) != text:
            field_input.text = normalize_date(text)
            return
        self.journey.set_value(field_input.field_id, text, self.terminal.now())
        self._problems.pop(field_input.field_id, None)  # put right: not said again on a rebuild
        if field_input.problem:
            field_input.problem = ""
            self.problem_labels[field_input.field_id].text = ""

    def on_focus(self, field_input: FieldInput, focused: bool):
        if not focused:
            return
        for other in self.inputs.values():
            if other is not field_input:
                other.focus = False
        # on its page (the form opens on the first field to fill: its page was cut before the
        # form was measured, and the measured pages can put it on another)
        if field_input.field_id in self.rows:
            self.turn_to(self.rows[field_input.field_id])
        # Show the keyboard on the next frame, not inside the touch that focused the
        # field: a layout change mid-touch could hand the finger's release to
        # whatever the keyboard pushed under it.
        Clock.schedule_once(lambda _dt: self.show_keyboard(field_input), 0)

    def show_keyboard(self, field_input: FieldInput):
        if not field_input.focus or field_input.field_id not in self.inputs:
            return
        keyboard = self.ensure_keyboard()
        mode = KEYBOARD_MODE.get(self.field(field_input.field_id).type, "pinyin")
        keyboard.modes = ["digits"] if mode == "digits" else ["pinyin", "letters", "digits"]
        keyboard.mode = mode
        keyboard.check_digit = self.field(field_input.field_id).type is FieldType.ID_NUMBER
        keyboard.attach(field_input)
        # once the keyboard (new, or a pad of another height) is laid out: scrolled before
        # that, the field can end up under it, and a citizen types without seeing it
        Clock.schedule_once(lambda _dt: self._scroll_to_focused(field_input), 0)

    def _scroll_to_focused(self, field_input: FieldInput) -> None:
        if field_input.focus and field_input.get_parent_window() is not None:
            self.ids.scroll.scroll_to(field_input, padding=40, animate=False)

    def ensure_keyboard(self) -> KioskKeyboard:
        if self.keyboard is None:
            self.keyboard = KioskKeyboard(on_activity=lambda *_: self.terminal.touch(),
                                          on_done=lambda *_: self.keyboard_done())
            self._keyboard_area().add_widget(self.keyboard)
        return self.keyboard

    def _keyboard_area(self):
        """Under the fields in portrait; beside the whole form in landscape (form.kv)."""
        return self.ids.keyboard_area if Window.height >= Window.width else self.ids.side_keyboard_area

    def close_keyboard(self):
        for field_input in self.inputs.values():
            field_input.focus = False
        if self.keyboard is not None:
            self._keyboard_area().remove_widget(self.keyboard)
            self.keyboard = None

    # -- leaving -------------------------------------------------------------
    def done(self):
        problems = self.journey.form_done(self.terminal.now())
        if problems:
            read = self.journey.form().prefill(self.terminal.session.card)
            # a value the card gave (shown, not editable) that this form does not take: no
            # "fix what is in red" the citizen could follow, but where to go (the 2017
            # foreigner's card: its number is no GB 11643 one)
            self.error = (self.t("form.card_value_refused") if set(problems) & set(read)
                          else self.t("form.fix_problems", count=len(problems)))  # fmt: skip
            first = next(iter(problems))
            # the keyboard goes with the field typed in: left up, it typed into that field's
            # old input, off the page and out of sight, while another page was shown
            self.close_keyboard()
            self.build_rows(problems, keep=first)
            target = self.inputs.get(first)
            if target is not None:
                self.ids.scroll.scroll_to(target, padding=40, animate=False)
            return
        j = self.journey
        # back from a change to the review, as the button said: the materials were done
        # there (a deferred one's signature with them), and a field changes none of them
        if self.changing and not (j.deferred_codes and not j.signature) \
                and not j.materials_done(self.terminal.now()):  # fmt: skip
            self.nav("review")
            return
        self.nav("materials")

    def back(self):
        question = self.journey.back(self.terminal.now())
        self.nav("question" if question else "home")

    def on_leave(self, *_):
        super().on_leave()
        self.close_keyboard()

    def spoken(self) -> str:
        return self.t("form.title")
