"""Contract §9: secrets never appear where a person sees values; masking is the one place that decides."""

from d1pg.console import MASK, mask_value


def test_secret_columns_are_masked():
    for column in ("access_token", "refresh_token", "id_token", "session_state", "sessionToken", "client_secret"):
        assert mask_value(column, "tok-0123456789") == MASK


def test_secret_keys_inside_json_text_are_masked_at_any_depth():
    raw = '{"id": "a1", "access_token": "tok-AAA", "nested": [{"refresh_token": "tok-BBB"}], "name": "Ann"}'
    masked = mask_value(None, raw)
    assert "tok-AAA" not in masked and "tok-BBB" not in masked
    assert '"name": "Ann"' in masked and '"id": "a1"' in masked


def test_json_text_held_in_a_string_of_a_row_is_masked_inside():
    row = '{"id": "e1", "metadata_json": "{\\"session_state\\": \\"tok-DDD\\", \\"broken", "n": "{\\"a\\": 1}"}'
    masked = mask_value(None, row)
    assert "tok-DDD" not in masked and '"id": "e1"' in masked and '"n": "{\\"a\\": 1}"' in masked


def test_unparsable_json_text_is_still_masked():
    masked = mask_value("raw_row", '{"id_token": "tok-CCC", "x": "\\ud800')
    assert "tok-CCC" not in masked


def test_ordinary_values_pass_unchanged():
    assert mask_value("email", "a@example.com") == "a@example.com"
    assert mask_value("title", "{not json with token}") == "{not json with token}"
    assert mask_value("email", None) is None
