"""The shard-slice merge behind every history page, against in-memory partitions (no Cassandra)."""

import random
import uuid
from dataclasses import dataclass

import pytest
from cassandra.util import uuid_from_time

from recognizer.storage import ids
from recognizer.storage.paging import merge_slices

START = 1_780_000_000.0


@dataclass(frozen=True)
class Item:
    id: uuid.UUID


class Partitions:
    """Partitions as Cassandra serves them: sorted by timeuuid, sliced past a bound, LIMIT n."""

    def __init__(self, contents: dict[tuple, list[uuid.UUID]]) -> None:
        self.contents = {p: sorted(members, key=ids.order_key) for p, members in contents.items()}
        self.rows_read = 0
        self.rounds = 0

    def fetch_for(self, newer: bool):
        def fetch(requests):
            self.rounds += 1
            answers = []
            for partition, bound, size in requests:
                members = self.contents[partition] if newer else self.contents[partition][::-1]
                if bound is not None:
                    members = [m for m in members if (ids.order_key(m) > ids.order_key(bound)) == newer
                               and m != bound]
                answers.append([Item(m) for m in members[:size]])
                self.rows_read += len(answers[-1])
            return answers
        return fetch


def spread(count: int, shards: int, seconds: float = 600, seed: int = 1) -> tuple[Partitions, list[uuid.UUID]]:
    rng = random.Random(seed)  # the same ids every run (ids.new_prediction_id draws from secrets)
    made = [uuid_from_time(START + rng.random() * seconds, node=rng.randrange(shards) << 40 | rng.getrandbits(40),
                           clock_seq=rng.getrandbits(14)) for _ in range(count)]
    contents: dict[tuple, list] = {}
    for made_id in made:
        contents.setdefault(ids.partition_of(made_id), []).append(made_id)
    return Partitions(contents), sorted(made, key=ids.order_key, reverse=True)


@pytest.mark.parametrize("newer", [False, True])
def test_pages_follow_the_global_id_order_across_shards(newer):
    partitions, newest_first = spread(500, shards=16)
    expected = newest_first[::-1] if newer else newest_first
    seen, bound = [], None
    while page := merge_slices(list(partitions.contents), partitions.fetch_for(newer), bound=bound, limit=37,
                               newer=newer):
        seen += [item.id for item in page]
        bound = page[-1].id
    assert seen == expected


def test_one_page_reads_little_more_than_the_page():
    partitions, newest_first = spread(5000, shards=16)
    page = merge_slices(list(partitions.contents), partitions.fetch_for(False), bound=None, limit=50, newer=False)
    assert [item.id for item in page] == newest_first[:50]
    assert partitions.rows_read <= 4 * 50  # not 16 × 50
    assert partitions.rounds <= 3


def test_a_page_from_one_crowded_shard_reads_it_further():
    crowded = [uuid_from_time(START + n, node=3 << 40, clock_seq=n) for n in range(100)]
    sparse = {(ids.bucket_of(crowded[0]), shard): [uuid_from_time(START - 1000 - shard, node=shard << 40)]
              for shard in range(4, 12)}
    partitions = Partitions({ids.partition_of(crowded[0]): crowded, **sparse})
    page = merge_slices(list(partitions.contents), partitions.fetch_for(False), bound=None, limit=60, newer=False)
    assert [item.id for item in page] == crowded[::-1][:60]


def test_ties_in_time_keep_cassandras_byte_order():
    """Ids of the same 100 ns tick, one per shard, merge in ``order_key`` order (which
    tests/storage/test_layout.py checks against Cassandra's own)."""
    same_time = [uuid_from_time(START, node=node, clock_seq=seq)
                 for node, seq in [(0, 0), (1 << 47, 0), (0x7F << 40, 0x3FFF), (5, 0x2000), (5, 0x1FFF)]]
    ordered = sorted(same_time, key=ids.order_key)
    partitions = Partitions({(0, shard): [made] for shard, made in enumerate(same_time)})
    page = merge_slices(list(partitions.contents), partitions.fetch_for(True), bound=None, limit=5, newer=True)
    assert [item.id for item in page] == ordered


def test_nothing_to_merge():
    assert merge_slices([], Partitions({}).fetch_for(False), bound=None, limit=10, newer=False) == []
