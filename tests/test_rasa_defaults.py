"""`rasa test` and `rasa data validate` with no arguments, from the repo root, as a Rasa user runs them: Rasa looks
for test stories under "." (its default), which holds .venv-rasa; only our tests/test_stories.yml may be found."""

from __future__ import annotations

import subprocess

import pytest

from bot.core.settings import ROOT
from tools.launch import RASA

FIND_TEST_STORIES = """
import rasa.shared.data as data
from rasa.shared.constants import DEFAULT_E2E_TESTS_PATH
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
print("\\n".join(data.get_data_files([DEFAULT_E2E_TESTS_PATH], YAMLStoryReader.is_test_stories_file)))
"""


@pytest.mark.skipif(not RASA.exists(), reason="Rasa's environment is not set up")
def test_rasa_test_without_arguments_finds_only_our_stories():
    """Before: rasa's starter-project stories inside .venv-rasa were found too (twice, through lib64)."""
    result = subprocess.run([str(RASA.parent / "python"), "-c", FIND_TEST_STORIES], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["./tests/test_stories.yml"]
