"""A device error's cause in a few words, for the technician reading a device's state."""

from __future__ import annotations

import os
import termios

import serial


def cause(err: BaseException) -> str:
    """"No such file or directory", "Permission denied", …: the operating system's words
    for an errno (pyserial's own sentence names the port again, with the errno in brackets);
    termios errors carry (errno, text) args; anything else as it says itself."""
    if isinstance(err, termios.error) and len(err.args) == 2:
        return str(err.args[1])
    if isinstance(err, serial.SerialException | OSError) and isinstance(err.errno, int):
        return os.strerror(err.errno)
    return str(getattr(err, "strerror", None) or err) or type(err).__name__
