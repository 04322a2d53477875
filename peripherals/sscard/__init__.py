"""Social-security card (社会保障卡) over PC/SC: APDUs, driver, private pcscd, card emulator.

Import the submodules you need; importing this package starts nothing.
"""
