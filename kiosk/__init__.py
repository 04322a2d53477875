"""The terminal's core: sessions, catalog, one-thing engine, receipts as data, ports.

Pure Python: no Kivy, aiohttp, serial, pyscard, escpos or cv2 imports here
(the composition root, ``kiosk.cli``, is the one exception).
"""

__version__ = "0.1.0"
