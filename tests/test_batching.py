"""hub.engine.batching.chunked: lists of at most `size`, in order, consuming the source lazily."""

import itertools

from hub.engine.batching import chunked


def test_splits_in_order_with_a_short_last_chunk():
    assert list(chunked(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]


def test_exact_multiple_has_no_empty_tail():
    assert list(chunked("abcd", 2)) == [["a", "b"], ["c", "d"]]


def test_empty_input_gives_no_chunk():
    assert list(chunked([], 5)) == []


def test_size_larger_than_input():
    assert list(chunked([1, 2], 200)) == [[1, 2]]


def test_reads_the_source_lazily():
    pulled = []

    def source():
        for n in itertools.count():
            pulled.append(n)
            yield n

    batches = chunked(source(), 2)
    assert next(batches) == [0, 1]
    assert pulled == [0, 1]  # an endless (paged) source is read one chunk at a time
