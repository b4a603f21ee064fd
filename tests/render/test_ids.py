"""Card ids from the pool: the text of version 4 UUIDs, never repeated, never shared by
threads, and never a forked worker's copy of its parent's pool."""

from __future__ import annotations

import os
import threading
import uuid

from cds_b12.render import ids
from cds_b12.render.ids import POOL_SIZE, new_id


def test_an_id_is_a_version_4_uuid_as_uuid4_writes_it():
    for value in [new_id() for _ in range(3 * POOL_SIZE)]:
        parsed = uuid.UUID(value)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == value


def test_no_id_comes_twice_across_refills_and_threads():
    seen: list[str] = []

    def draw() -> None:
        seen.extend(new_id() for _ in range(2 * POOL_SIZE + 1))

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    draw()
    assert len(set(seen)) == len(seen) == 5 * (2 * POOL_SIZE + 1)


def test_a_forked_child_does_not_draw_from_its_parents_pool():
    # the parent's pool holds ids: the child would inherit them without the fork hook (a
    # draw that takes the pool's last id leaves it empty, so draw until one refills it)
    new_id()
    while not ids._pool.ids:
        new_id()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send its next ids, then leave without running pytest's exit
        os.write(write, " ".join(new_id() for _ in range(3)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        child = pipe.read().split()
    parent = [new_id() for _ in range(3)]
    assert len(child) == 3 and not set(child) & set(parent)
