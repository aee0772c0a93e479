"""Settings are data: every one is documented in the README and read from WEBAPP_* variables."""

from __future__ import annotations

import pytest
from conftest import ROOT

from webapp import config


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = [s.name for s in config.SETTINGS if f"`WEBAPP_{s.name}`" not in readme]
    assert not missing, f"settings missing from README.md: {missing}"


def test_defaults_then_environment_then_overrides():
    values = config.load({"WEBAPP_MAX_STAGES": "7", "WEBAPP_DOT_TIMEOUT": "2.5"}, MAX_RENDERS=1)
    assert values["MAX_STAGES"] == 7
    assert values["DOT_TIMEOUT"] == 2.5
    assert values["MAX_RENDERS"] == 1
    assert values["MAX_INPUT_BYTES"] == 1024 * 1024


def test_bad_number_names_the_variable():
    with pytest.raises(ValueError, match="WEBAPP_MAX_STAGES must be a number"):
        config.load({"WEBAPP_MAX_STAGES": "lots"})


def test_unknown_override_is_refused():
    with pytest.raises(KeyError):
        config.load({}, NOT_A_SETTING=1)
