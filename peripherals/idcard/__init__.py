"""The resident ID card reader: GA 467 SAM frames over serial, and its emulator.

protocol (frames, status codes) and text (the card's text block) are pure;
driver is the pyserial adapter; emulator answers the same bytes on a pty.
"""
