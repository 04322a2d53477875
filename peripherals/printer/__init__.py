"""Receipt printer: ESC/POS driver (python-escpos), emulator and renderer."""
