"""Guided questions: one question a screen, large answers, back always possible."""

from __future__ import annotations

import asyncio

from kivy.properties import StringProperty

from kiosk.errors import KioskError
from screens.base import KioskScreen
from screens.widgets import BigButton


class QuestionScreen(KioskScreen):
    event_title = StringProperty("")
    progress_text = StringProperty("")
    question_text = StringProperty("")

    def on_pre_enter(self, *_):
        self.show(self.journey.current_question())

    def show(self, question):
        lang = self.terminal.language
        j = self.journey
        self.event_title = j.event.title.get(lang)
        box = self.ids.options
        box.clear_widgets()
        if question is None:
            stop = j.plan().stop
            if stop is not None:  # the citizen cannot apply this way: say why, offer back
                self.question_text = stop.get(lang)
                self.progress_text = ""
                return
            self.nav("form")
            return
        self._question = question
        p = j.progress()
        self.progress_text = self.t("question.progress", number=p.number, total=p.total)
        self.question_text = question.text.get(lang)
        for option in question.options:
            box.add_widget(BigButton(
                action=f"answer:{option.value}",
                text=option.label.get(lang),
                on_release=lambda _w, v=option.value: self.answer(v),
            ))

    def relanguage(self) -> None:
        self.show(self.journey.current_question())

    def next_spoken(self):
        if self.terminal.elderly:  # each following question is read aloud too
            asyncio.get_event_loop().create_task(self.terminal.say(self.question_text))

    def answer(self, value: str):
        try:
            following = self.journey.answer(self._question.id, value, self.terminal.now())
        except KioskError as err:
            self.error = self.t(err.message_key)
            return
        self.show(following)
        if following is not None:
            self.next_spoken()

    def back(self):
        question = self.journey.back(self.terminal.now())
        if question is None:
            self.nav("home")
        else:
            self.show(question)

    def spoken(self) -> str:
        return self.question_text
