"""Rasa's own checks: the training data is consistent and the test conversations pass."""

from tests.rasa_env import NLU_GENERATED, latest_model, rasa


def test_rasa_data_validate():
    result = rasa("data", "validate", "--data", "data", str(NLU_GENERATED), timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_conversations_have_no_wrong_prediction(tmp_path):
    result = rasa(
        "test", "core", "--model", str(latest_model()), "--stories", "tests/test_stories.yml",
        "--fail-on-prediction-errors", "--out", str(tmp_path), timeout=600,
    )
    failed = (tmp_path / "failed_test_stories.yml")
    detail = failed.read_text(encoding="utf-8") if failed.exists() else ""
    assert result.returncode == 0, detail + result.stdout[-2000:] + result.stderr[-2000:]
