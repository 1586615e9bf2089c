from members.cards import card_no_is_issued_form, card_no_random, luhn_check_digit


def test_luhn_check_digit_matches_the_reference_example():
    assert luhn_check_digit("7992739871") == "3"


def test_random_card_numbers_are_valid_and_twelve_digits():
    numbers = {card_no_random() for _ in range(200)}
    assert len(numbers) == 200
    assert all(card_no_is_issued_form(n) and len(n) == 12 and n.startswith("88") for n in numbers)


def test_every_single_digit_typo_and_neighbour_swap_is_caught():
    for _ in range(50):
        card = card_no_random()
        for i in range(2, 12):
            for digit in "0123456789":
                if digit != card[i]:
                    assert not card_no_is_issued_form(card[:i] + digit + card[i + 1 :])
            # Luhn catches every swap of neighbours except 0 and 9.
            if i < 11 and card[i] != card[i + 1] and {card[i], card[i + 1]} != {"0", "9"}:
                swapped = card[:i] + card[i + 1] + card[i] + card[i + 2 :]
                assert not card_no_is_issued_form(swapped)


def test_malformed_numbers_are_rejected():
    for value in [
        "",
        "88",
        "8812345678901",
        "abcdefghijkl",
        "１２３４５６７８９０１２",
        "123456789012",
    ]:
        assert not card_no_is_issued_form(value)
