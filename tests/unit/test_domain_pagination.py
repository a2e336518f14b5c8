"""Laravel pagination arithmetic: pages partition the result and the meta agrees with them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server.domain.errors import RuleViolation
from mock_server.domain.pagination import paginate


def test_empty_result_has_one_empty_page() -> None:
    nothing: list[int] = []
    page = paginate(nothing, 1, 25)
    assert page.meta() == {
        "current_page": 1,
        "from": None,
        "last_page": 1,
        "per_page": 25,
        "to": None,
        "total": 0,
    }
    assert page.items == []


def test_second_page_of_twenty_six() -> None:
    page = paginate(list(range(26)), 2, 25)
    assert page.items == [25]
    assert (page.from_, page.to, page.last_page, page.total) == (26, 26, 2, 26)
    assert page.has_prev and not page.has_next


def test_page_past_the_end_is_empty_not_an_error() -> None:
    page = paginate(list(range(3)), 5, 2)
    assert page.items == []
    assert (page.from_, page.to, page.current_page, page.last_page) == (None, None, 5, 2)


@pytest.mark.parametrize(("page", "per_page"), [(0, 25), (1, 0), (-1, 25), (True, 25)])
def test_invalid_page_or_size_is_a_rule_violation(page: int, per_page: int) -> None:
    with pytest.raises(RuleViolation):
        paginate([1], page, per_page)


@given(total=st.integers(0, 300), per_page=st.integers(1, 100))
def test_pages_partition_the_result_with_consistent_meta(total: int, per_page: int) -> None:
    items = list(range(total))
    first = paginate(items, 1, per_page)
    collected: list[int] = []
    for number in range(1, first.last_page + 1):
        page = paginate(items, number, per_page)
        assert page.total == total and page.per_page == per_page
        assert page.last_page == first.last_page
        assert len(page.items) <= per_page
        if page.items:
            assert page.from_ == len(collected) + 1
            assert page.to == page.from_ + len(page.items) - 1
        else:
            assert page.from_ is None and page.to is None
        assert page.has_next == (number < page.last_page)
        collected.extend(page.items)
    assert collected == items
    beyond = paginate(items, first.last_page + 1, per_page)
    assert beyond.items == [] and beyond.from_ is None
