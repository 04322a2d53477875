"""QR / barcode scanner: serial (CR/LF framed) and keyboard-wedge modes, plus a pty emulator."""
