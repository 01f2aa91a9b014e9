import pytest

from bot.channels.validation import MAX_MESSAGE_CHARS, rest_body_problem


@pytest.mark.parametrize(
    "raw, fragment",
    [
        (b"{not json", "must be JSON"),
        (b"\xff\xfe", "UTF-8"),
        (b"[]", "JSON object"),
        (b'"text"', "JSON object"),
        (b'{"sender": "x"}', "'message'"),
        (b'{"sender": "x", "message": 5}', "'message'"),
        (b'{"sender": ["x"], "message": "hi"}', "'sender'"),
        (b'{"sender": "x", "message": "hi", "metadata": 3}', "'metadata'"),
        (('{"sender": "x", "message": "' + "a" * (MAX_MESSAGE_CHARS + 1) + '"}').encode(), "longer"),
    ],
)
def test_bad_bodies_are_explained(raw, fragment):
    assert fragment in rest_body_problem(raw)


@pytest.mark.parametrize(
    "raw",
    [b'{"sender": "x", "message": "xin chao"}', b'{"message": ""}', '{"sender": 1, "message": "😀 chào"}'.encode()],
)
def test_good_bodies_pass(raw):
    assert rest_body_problem(raw) is None
