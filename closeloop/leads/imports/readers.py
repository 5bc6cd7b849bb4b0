"""Reading a file's rows ahead of the writing: on a thread, or in a second process.

Parsing and checking rows is Python work; writing them is database work. On a thread the two
share Python's lock (the GIL), so a big import runs about as fast as one core. A large CSV file
is therefore read in a forked child process instead: it parses the file, builds each row's
values and runs the checks that need no database (`Handler.prepare`), and hands the rows over
in chunks through a pipe, while this process writes the chunks before them. The child never
touches the database. The pipe holds at most a chunk or two, so memory stays bounded however
big the file is.
"""

from __future__ import annotations

import multiprocessing
import pickle
import queue
import threading
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from typing import IO, Any

from .reading import open_table
from .values import cell_text

CHUNK = 20_000
# Below this size a file is read on a thread: starting a process costs more than it saves.
PROCESS_MIN_BYTES = 4 * 1024 * 1024
Prepare = Callable[["RowIn"], None]


@dataclass(slots=True)
class RowIn:
    """A data row of the file: its number, its cells, and the mapped fields' non-empty values."""

    number: int
    cells: list[Any]
    values: dict[str, Any]
    problem: str = ""
    prepared: dict[str, Any] | None = None


def rows_in(
    mapping: dict[str, str], headers: list[str], rows: Iterator[tuple[int, list[Any]]]
) -> Iterator[RowIn]:
    """The file's rows with the values of the mapped columns (stripped, empty ones left out)."""
    columns = [(i, mapping.get(h) or "") for i, h in enumerate(headers)]
    mapped = [(i, f) for i, f in columns if f]
    width = len(headers)
    for number, cells in rows:
        values = {}
        count = len(cells)
        for i, name in mapped:
            if i < count:
                value = cells[i]
                if value.__class__ is str:
                    value = value.strip()
                    if value:
                        values[name] = value
                elif value is not None:
                    values[name] = value
        problem = ""
        if count > width and any(cell_text(c) for c in cells[width:]):
            extra = len(cells) - width
            problem = (
                f"Row: has {len(cells)} values but the header has {width} columns "
                f"({extra} too many — check for an unquoted delimiter)"
            )
        yield RowIn(number, cells, values, problem)


def _prepared_chunks(rows: Iterator[RowIn], prepare: Prepare) -> Iterator[list[RowIn]]:
    while chunk := list(islice(rows, CHUNK)):
        for row in chunk:
            if not row.problem:
                prepare(row)
        yield chunk


def read_ahead(rows: Iterator[RowIn], prepare: Prepare) -> Generator[list[RowIn], None, None]:
    """Chunks of rows, read and prepared on a second thread while this one writes.

    Writing is mostly database work that releases the GIL (SQLite's B-tree inserts,
    PostgreSQL's own process), so the two overlap somewhat. The thread never touches the
    database. At most two chunks wait, which bounds the memory used.
    """
    chunks: queue.Queue[Any] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def produce() -> None:
        try:
            for chunk in _prepared_chunks(rows, prepare):
                if stop.is_set():
                    break
                chunks.put(chunk)
        except BaseException as exc:  # handed to the consumer, which raises it
            chunks.put(exc)
        finally:
            chunks.put(None)

    thread = threading.Thread(target=produce, name="import-reader", daemon=True)
    thread.start()
    try:
        while (item := chunks.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                chunks.get_nowait()
            except queue.Empty:
                thread.join(0.05)


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _child(
    send: Any,
    open_file: Callable[[], IO[bytes]],
    name: str,
    mapping: dict[str, str],
    prepare: Prepare,
) -> None:
    """The child process: parse and prepare every row, send them a chunk at a time."""
    try:
        with open_file() as stream, open_table(stream, name=name) as table:
            source = rows_in(mapping, table.headers, table.rows())
            for chunk in _prepared_chunks(source, prepare):
                plain = [(r.number, r.cells, r.values, r.problem, r.prepared) for r in chunk]
                send.send_bytes(pickle.dumps(("rows", plain), pickle.HIGHEST_PROTOCOL))
        send.send_bytes(pickle.dumps(("end", None)))
    except BrokenPipeError:
        return  # the parent stopped reading: nothing left to do
    except BaseException as exc:  # handed to the parent, which raises it
        try:
            message = pickle.dumps(("error", exc))
        except Exception:
            message = pickle.dumps(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
        send.send_bytes(message)
    finally:
        send.close()


@contextmanager
def read_in_process(
    open_file: Callable[[], IO[bytes]], name: str, mapping: dict[str, str], prepare: Prepare
) -> Iterator[Iterator[list[RowIn]]]:
    """Chunks of prepared rows, read from the file by a child process forked right away.

    `open_file` opens the file again in the child (an open file is not shared safely across a
    fork); `prepare` must need no database. Whatever the child raises is raised here. On
    leaving, the pipe is closed (a child still sending ends) and the child is waited for.
    """
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(
        target=_child, args=(send, open_file, name, mapping, prepare), name="import-reader"
    )
    process.start()
    send.close()  # the child's end: the pipe reports the end of data once the child is gone

    def chunks() -> Iterator[list[RowIn]]:
        while True:
            try:
                # our own forked child, through a pipe only the two hold
                kind, payload = pickle.loads(receive.recv_bytes())  # noqa: S301
            except EOFError:
                raise RuntimeError("the file's reading process stopped unexpectedly") from None
            if kind == "end":
                return
            if kind == "error":
                raise payload
            yield [RowIn(*fields) for fields in payload]

    try:
        yield chunks()
    finally:
        receive.close()
        process.join(5)
        if process.is_alive():
            process.terminate()
            process.join()
