from members.cards import card_no_is_valid, card_no_random, luhn_check_digit


def test_luhn_check_digit_matches_the_reference_example():
    assert luhn_check_digit("7992739871") == "3"


def test_random_card_numbers_are_valid_and_twelve_digits():
    numbers = {card_no_random() for _ in range(200)}
    assert len(numbers) == 200
    assert all(card_no_is_valid(n) and len(n) == 12 and n.startswith("88") for n in numbers)


def test_a_mistyped_digit_or_swapped_neighbours_are_caught():
    card = card_no_random()
    wrong_digit = card[:5] + str((int(card[5]) + 1) % 10) + card[6:]
    assert not card_no_is_valid(wrong_digit)
    if card[3] != card[4]:
        swapped = card[:3] + card[4] + card[3] + card[5:]
        assert not card_no_is_valid(swapped)


def test_malformed_numbers_are_rejected():
    for value in [
        "",
        "88",
        "8812345678901",
        "abcdefghijkl",
        "１２３４５６７８９０１２",
        "123456789012",
    ]:
        assert not card_no_is_valid(value)
