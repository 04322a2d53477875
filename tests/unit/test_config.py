from pathlib import Path

import pytest

from kiosk.config import ConfigError, KioskConfig, dump_config, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "kiosk.example.toml"


def test_the_example_config_loads_and_names_real_device_paths():
    cfg = load_config(EXAMPLE)
    assert cfg.idcard.port == "/dev/kiosk-idcard"
    assert cfg.display.width == 1080 and cfg.display.height == 1920
    assert cfg.timeouts.warning >= 20  # WCAG 2.2.1: at least 20 s to answer "still there?"


def test_a_dumped_config_reads_back_the_same(tmp_path):
    cfg = load_config(EXAMPLE)
    path = tmp_path / "k.toml"
    path.write_text(dump_config(cfg), encoding="utf-8")
    assert load_config(path) == cfg


def test_missing_settings_take_their_defaults(tmp_path):
    path = tmp_path / "k.toml"
    path.write_text('[printer]\npaper_mm = 58\n', encoding="utf-8")
    cfg = load_config(path)
    assert cfg.printer.paper_mm == 58
    assert cfg.idcard == KioskConfig().idcard


@pytest.mark.parametrize(
    "text, words",
    [
        ('[printer]\npaper_mm = "80"\n', "printer.paper_mm: expected int, got str"),
        ("[printer]\ncolour = 1\n", "unknown setting 'colour'"),
        ("printer = 3\n", "printer: expected a table"),
        ("[printer\n", "Expected ']'"),
        # a typo would leave the kiosk without its reader, saying nothing
        ('[idcard]\ndriver = "GA467"\n', "idcard.driver: unknown driver 'GA467' (one of: ga467, none)"),
        ('[scanner]\ndriver = "usb"\n', "scanner.driver: unknown driver 'usb' (one of: serial, wedge, none)"),
    ],
)
def test_a_bad_config_names_the_setting_and_what_is_wrong(tmp_path, text, words):
    path = tmp_path / "k.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert words in str(err.value)
    assert str(path) in str(err.value)


def test_an_unreadable_config_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")


@pytest.mark.parametrize("driver, kind", [("serial", "SerialCodeScanner"),
                                          ("wedge", "KeyboardWedgeScanner"), ("none", None)])
def test_every_scanner_driver_a_config_may_name_gives_that_scanner(tmp_path, driver, kind):
    from kiosk.cli import build_ports

    path = tmp_path / "k.toml"
    path.write_text(f'platform.url = ""\n[scanner]\ndriver = "{driver}"\nport = "{tmp_path}/none"\n',
                    encoding="utf-8")
    ports = build_ports(load_config(path))
    assert (type(ports.scanner).__name__ if ports.scanner else None) == kind
