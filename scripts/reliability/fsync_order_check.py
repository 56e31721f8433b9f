#!/usr/bin/env python3
"""Check the durable-write order of a topicops store in an strace log.

The log must come from `strace -f -tt -y -s 4096 -x -o LOG -e trace=...` (see
fsync_order.sh for the syscall list). `-y` annotates every file descriptor with its path,
so the checker follows files by path rather than by descriptor number. Lines are ordered
as strace wrote them, and a syscall split into `<unfinished ...>` and `<... resumed>`
lines starts at the first line and ends at the second.

For every object renamed into `<store>/artifacts/objects/` the checker requires:

1. an fsync or fdatasync of the temporary file after its last write and before the rename;
2. an fsync of the object's directory after the rename, and, for a directory created in
   the log, an fsync of its parent after the mkdir;
3. both fsyncs (and the parent fsync of 2) to end before the first WAL write of the SQLite
   transaction that records the object. That transaction is the first one whose pages hold
   the object's hash as text. When no page contains it, the next transaction after the rename
   is used, and the report counts it as not tied.

For every transaction committed to `<store>/metadata.db-wal` it requires:

4. an fsync or fdatasync of the WAL after the commit frame and before the next WAL write
   (what `synchronous=FULL` promises).

It also requires:

5. every directory in the path of a checked object that the log creates (the store root,
   `artifacts/`, `artifacts/objects/`) to be made durable by an fsync of its parent before
   the transaction that records the first object below it.

Exit status: 0 when nothing is violated, 1 on any violation, 2 when the log cannot be
read or checks fewer objects or commits than --min-objects or --min-commits.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import sys

LINE_PATTERN = re.compile(r"^(?:\[pid\s+)?(\d+)\]?\s+(\d\d:\d\d:\d\d\.\d+)\s+(.*)$")
RESUMED_PATTERN = re.compile(r"^<\.\.\. (\w+) resumed>(.*)$")
UNFINISHED_SUFFIX = " <unfinished ...>"
FD_PATTERN = re.compile(r"^(-?\d+|AT_FDCWD)<(.*)>$", re.S)
HASH_PATTERN = re.compile(r"^[0-9a-f]{64}$")

WRITE_CALLS = {"write", "pwrite64", "writev", "pwritev", "pwritev2", "ftruncate", "fallocate"}
SYNC_CALLS = {"fsync", "fdatasync"}
# These flush every file system, so they count as an fsync of any file.
GLOBAL_SYNC_CALLS = {"sync", "syncfs"}
RENAME_CALLS = {"rename", "renameat", "renameat2"}
MKDIR_CALLS = {"mkdir", "mkdirat"}
WAL_HEADER_BYTES = 32
FRAME_HEADER_BYTES = 24
SIMPLE_ESCAPES = {
    "n": b"\n", "t": b"\t", "r": b"\r", "v": b"\v", "f": b"\f",
    "a": b"\a", "b": b"\b", '"': b'"', "\\": b"\\", "'": b"'",
}


@dataclasses.dataclass
class Syscall:
    """One completed syscall: `start` and `end` are the log lines where it began and ended."""

    start: int
    end: int
    pid: int
    name: str
    args: list[str]
    result: int | None

    @property
    def succeeded(self) -> bool:
        return self.result is not None and self.result >= 0


@dataclasses.dataclass
class Frame:
    """One WAL frame: the header write, its page bytes and the commit field."""

    start: int
    end: int
    commit_pages: int
    page: bytes


@dataclasses.dataclass
class Transaction:
    """Frames up to and including a commit frame, and the WAL fsync that follows it."""

    number: int
    first_write: int
    commit_line: int
    pages: bytes = b""
    sync_end: int | None = None
    sync_missing: bool = False


def decode_c_string(text: str) -> tuple[bytes, bool]:
    """Decode a quoted strace string argument into its bytes and whether strace cut it short."""
    truncated = text.endswith("...")
    if truncated:
        text = text[:-3]
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError(f"not a quoted string: {text[:40]!r}")
    body = text[1:-1]
    out = bytearray()
    i = 0
    while i < len(body):
        char = body[i]
        if char != "\\":
            out += char.encode("utf-8")
            i += 1
            continue
        marker = body[i + 1]
        if marker == "x":
            out.append(int(body[i + 2:i + 4], 16))
            i += 4
        elif marker in "01234567":
            digits = re.match(r"[0-7]{1,3}", body[i + 1:i + 4]).group(0)
            out.append(int(digits, 8))
            i += 1 + len(digits)
        else:
            out += SIMPLE_ESCAPES.get(marker, marker.encode())
            i += 2
    return bytes(out), truncated


def split_arguments(text: str) -> list[str]:
    """Split a syscall's argument text at the commas outside strings, brackets and paths."""
    args: list[str] = []
    depth = 0
    in_string = False
    current: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        current.append(char)
        if in_string:
            if char == "\\":
                current.append(text[i + 1])
                i += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "<" and i > 0 and (text[i - 1].isdigit() or text[i - 1] == "D"):
            # A path annotation from -y: `3</a/b>` or `AT_FDCWD</a>`. It may contain commas.
            close = text.find(">", i)
            current.append(text[i + 1:close + 1])
            i = close
        elif char == "," and depth == 0:
            current.pop()
            args.append("".join(current).strip())
            current = []
        i += 1
    if current and "".join(current).strip():
        args.append("".join(current).strip())
    return args


def parse_call(start: int, end: int, pid: int, text: str) -> Syscall | None:
    """Parse `name(args) = result ...`, or return None for signals, exits and other lines."""
    match = re.match(r"^(\w+)\((.*)$", text, re.S)
    if not match:
        return None
    name, rest = match.groups()
    cut = rest.rfind(") = ")
    if cut < 0:
        return None
    result_text = rest[cut + 4:].strip()
    number = re.match(r"^(-?\d+)", result_text)
    result = int(number.group(1)) if number else None
    return Syscall(start, end, pid, name, split_arguments(rest[:cut]), result)


def read_trace(path: str) -> list[Syscall]:
    """Read an strace -f log into syscalls, joining unfinished and resumed halves."""
    calls: list[Syscall] = []
    pending: dict[int, tuple[int, str]] = {}
    with open(path, encoding="utf-8", errors="surrogateescape") as log:
        for line_number, line in enumerate(log, start=1):
            line = line.rstrip("\n")
            match = LINE_PATTERN.match(line)
            if not match:
                continue
            pid, text = int(match.group(1)), match.group(3)
            if text.endswith(UNFINISHED_SUFFIX):
                pending[pid] = (line_number, text[: -len(UNFINISHED_SUFFIX)])
                continue
            resumed = RESUMED_PATTERN.match(text)
            if resumed:
                if pid not in pending:
                    continue
                start, head = pending.pop(pid)
                call = parse_call(start, line_number, pid, head + resumed.group(2))
            else:
                call = parse_call(line_number, line_number, pid, text)
            if call is not None:
                calls.append(call)
    calls.sort(key=lambda call: call.start)
    return calls


def fd_path(argument: str) -> str | None:
    """Return the path that -y printed for a descriptor argument, without ` (deleted)`."""
    match = FD_PATTERN.match(argument)
    if not match:
        return None
    path = match.group(2)
    return path[: -len(" (deleted)")] if path.endswith(" (deleted)") else path


def path_argument(call: Syscall, dirfd_index: int | None, path_index: int) -> str:
    """Return a path argument made absolute with its directory descriptor, when it has one."""
    path = decode_c_string(call.args[path_index])[0].decode("utf-8", "surrogateescape")
    if not path.startswith("/") and dirfd_index is not None:
        base = fd_path(call.args[dirfd_index])
        if base:
            path = os.path.join(base, path)
    return os.path.normpath(path)


def rename_paths(call: Syscall) -> tuple[str, str]:
    if call.name == "rename":
        return path_argument(call, None, 0), path_argument(call, None, 1)
    return path_argument(call, 0, 1), path_argument(call, 2, 3)


def mkdir_path(call: Syscall) -> str:
    return path_argument(call, None, 0) if call.name == "mkdir" else path_argument(call, 0, 1)


class Trace:
    """The syscalls of one log, indexed by the paths they act on."""

    def __init__(self, calls: list[Syscall]):
        self.calls = calls
        self.writes: dict[str, list[Syscall]] = {}
        self.syncs: dict[str, list[Syscall]] = {}
        self.global_syncs: list[Syscall] = []
        self.renames: list[tuple[Syscall, str, str]] = []
        self.mkdirs: dict[str, Syscall] = {}
        self.last_line = max((call.end for call in calls), default=0)
        for call in calls:
            if not call.succeeded:
                continue
            if call.name in GLOBAL_SYNC_CALLS:
                self.global_syncs.append(call)
            elif call.name in WRITE_CALLS or call.name in SYNC_CALLS:
                path = fd_path(call.args[0]) if call.args else None
                if path is not None:
                    index = self.writes if call.name in WRITE_CALLS else self.syncs
                    index.setdefault(path, []).append(call)
            elif call.name in RENAME_CALLS:
                self.renames.append((call, *rename_paths(call)))
            elif call.name in MKDIR_CALLS:
                self.mkdirs.setdefault(mkdir_path(call), call)

    def first_sync(self, path: str, after: int, before: int | None = None) -> Syscall | None:
        """Return the first fsync of `path` that starts after line `after` and ends before
        line `before` (or anywhere later when `before` is None)."""
        candidates = self.syncs.get(path, []) + self.global_syncs
        fitting = [
            call for call in candidates
            if call.start > after and (before is None or call.end < before)
        ]
        return min(fitting, key=lambda call: call.start, default=None)


def wal_transactions(trace: Trace, wal_path: str) -> tuple[list[Transaction], list[str]]:
    """Group the WAL's frame writes into transactions and find each commit's fsync."""
    writes = trace.writes.get(wal_path, [])
    problems: list[str] = []
    frames: list[Frame] = []
    pending_header: tuple[Syscall, int, int] | None = None
    for call in writes:
        if call.name != "pwrite64":
            continue
        data, truncated = decode_c_string(call.args[1])
        offset = int(call.args[3])
        if pending_header is not None and offset == pending_header[1] + FRAME_HEADER_BYTES:
            header_call, _, commit_pages = pending_header
            if truncated:
                problems.append(f"line {call.start}: WAL page cut short by strace; rerun strace with a larger -s")
            frames.append(Frame(header_call.start, call.end, commit_pages, data))
            pending_header = None
        elif len(data) == FRAME_HEADER_BYTES and offset >= WAL_HEADER_BYTES:
            pending_header = (call, offset, int.from_bytes(data[4:8], "big"))

    transactions: list[Transaction] = []
    current: Transaction | None = None
    for frame in frames:
        if current is None:
            current = Transaction(len(transactions) + 1, frame.start, frame.end)
        current.pages += frame.page
        if frame.commit_pages:
            current.commit_line = frame.end
            transactions.append(current)
            current = None

    wal_write_starts = sorted(call.start for call in writes)
    for transaction in transactions:
        later_writes = [line for line in wal_write_starts if line > transaction.commit_line]
        next_write = later_writes[0] if later_writes else None
        sync = trace.first_sync(wal_path, transaction.commit_line, next_write)
        if sync is None:
            transaction.sync_missing = True
        else:
            transaction.sync_end = sync.end
    return transactions, problems


@dataclasses.dataclass
class Report:
    objects: int = 0
    tied: int = 0
    untied: int = 0
    unrecorded: int = 0
    directories: int = 0
    violations: list[str] = dataclasses.field(default_factory=list)


def recording_transaction(
    transactions: list[Transaction], object_hash: str, renamed_at: int
) -> tuple[Transaction | None, bool]:
    """Return the transaction that records `object_hash` and whether its pages contain it."""
    needle = object_hash.encode()
    for transaction in transactions:
        if needle in transaction.pages:
            return transaction, True
    for transaction in transactions:
        if transaction.first_write > renamed_at:
            return transaction, False
    return None, False


def check_objects(trace: Trace, store: str, transactions: list[Transaction], report: Report,
                  known_objects: set[str]) -> None:
    """Check steps 1 to 3 for each object renamed into the store, and step 5."""
    objects_dir = os.path.join(store, "artifacts", "objects")
    first_record_below: dict[str, int] = {}

    for rename, source, destination in trace.renames:
        if os.path.dirname(os.path.dirname(destination)) != objects_dir:
            continue
        object_hash = os.path.basename(os.path.dirname(destination)) + os.path.basename(destination)
        if not HASH_PATTERN.match(object_hash):
            report.violations.append(f"line {rename.start}: {destination} is not named by a hash")
            continue
        report.objects += 1
        known_objects.add(object_hash)
        name = f"object {object_hash[:12]} (rename at line {rename.start})"

        writes = [call for call in trace.writes.get(source, []) if call.start < rename.start]
        last_write = max((call.end for call in writes), default=0)
        file_sync = trace.first_sync(source, last_write, rename.start)
        if file_sync is None:
            report.violations.append(
                f"{name}: step 1: temporary file {source} not fsynced between its last write "
                f"(line {last_write}) and the rename"
            )

        directory = os.path.dirname(destination)
        directory_sync = trace.first_sync(directory, rename.end)
        if directory_sync is None:
            report.violations.append(f"{name}: step 2: directory {directory} not fsynced after the rename")
        parent_sync = None
        if directory in trace.mkdirs:
            mkdir = trace.mkdirs[directory]
            parent_sync = trace.first_sync(objects_dir, mkdir.end)
            if parent_sync is None:
                report.violations.append(
                    f"{name}: step 2: {objects_dir} not fsynced after the mkdir of {directory} "
                    f"(line {mkdir.start})"
                )

        transaction, tied = recording_transaction(transactions, object_hash, rename.end)
        if transaction is None:
            report.unrecorded += 1
            continue
        if tied:
            report.tied += 1
        else:
            report.untied += 1
        for ancestor in ancestors_below(store, directory):
            first_record_below[ancestor] = min(
                first_record_below.get(ancestor, transaction.first_write), transaction.first_write
            )
        commit = f"transaction {transaction.number} (first WAL write at line {transaction.first_write})"
        if transaction.first_write < rename.start:
            report.violations.append(f"{name}: step 3: recorded by {commit} before the rename")
            continue
        for step, sync, description in [
            (1, file_sync, "fsync of the temporary file"),
            (2, directory_sync, f"fsync of {directory}"),
            (2, parent_sync, f"fsync of {objects_dir} after the mkdir"),
        ]:
            if sync is not None and sync.end > transaction.first_write:
                report.violations.append(
                    f"{name}: step 3: {description} (line {sync.start}) ends after {commit} begins"
                )

    check_created_directories(trace, store, first_record_below, report)


def ancestors_below(store: str, directory: str) -> list[str]:
    """Return `directory` and its parents up to and including the store root."""
    found = []
    current = directory
    while current.startswith(store):
        found.append(current)
        if current == store:
            break
        current = os.path.dirname(current)
    return found


def check_created_directories(trace: Trace, store: str, first_record_below: dict[str, int],
                              report: Report) -> None:
    """Check step 5 for the store root, `artifacts/` and `artifacts/objects/`. Fan-out
    directories are checked with their objects in step 2."""
    objects_dir = os.path.join(store, "artifacts", "objects")
    for directory in [store, os.path.dirname(objects_dir), objects_dir]:
        mkdir = trace.mkdirs.get(directory)
        if mkdir is None or directory not in first_record_below:
            continue
        report.directories += 1
        parent = os.path.dirname(directory)
        deadline = first_record_below[directory]
        if trace.first_sync(parent, mkdir.end, deadline) is None:
            report.violations.append(
                f"directory {directory}: step 5: created at line {mkdir.start}, but {parent} is "
                f"not fsynced before the first transaction recording an object below it "
                f"(line {deadline})"
            )


def check_objects_on_disk(before: set[str], after: set[str], renamed: set[str],
                          report: Report) -> None:
    """Fail for objects that appeared during the traced command without a traced rename."""
    for object_hash in sorted(after - before - renamed):
        report.violations.append(f"object {object_hash[:12]}: appeared in the store without a traced rename")


def read_object_list(path: str | None) -> set[str] | None:
    """Read a list of object paths (`.../objects/ab/cdef...`) and return their hashes."""
    if path is None:
        return None
    hashes = set()
    with open(path, encoding="utf-8") as listing:
        for line in listing:
            line = line.strip()
            if line:
                hashes.add(os.path.basename(os.path.dirname(line)) + os.path.basename(line))
    return hashes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trace", help="strace -f -tt -y -x log")
    parser.add_argument("--store", required=True, help="absolute store directory of the traced command")
    parser.add_argument("--objects-before", help="file listing the object paths before the command")
    parser.add_argument("--objects-after", help="file listing the object paths after the command")
    parser.add_argument("--min-objects", type=int, default=0, help="fail unless this many objects were checked")
    parser.add_argument("--min-commits", type=int, default=0, help="fail unless this many commits were checked")
    options = parser.parse_args()

    store = os.path.normpath(options.store)
    wal_path = os.path.join(store, "metadata.db-wal")
    try:
        trace = Trace(read_trace(options.trace))
        transactions, problems = wal_transactions(trace, wal_path)
    except (OSError, ValueError, IndexError) as error:
        print(f"error: failed to read the trace {options.trace}: {error}", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return 2

    report = Report()
    renamed: set[str] = set()
    check_objects(trace, store, transactions, report, renamed)
    for transaction in transactions:
        if transaction.sync_missing:
            report.violations.append(
                f"transaction {transaction.number}: step 4: commit frame at line "
                f"{transaction.commit_line} not followed by an fsync of {wal_path} before the "
                f"next WAL write"
            )
    before = read_object_list(options.objects_before)
    after = read_object_list(options.objects_after)
    if after is not None:
        check_objects_on_disk(before or set(), after, renamed, report)

    synced = sum(1 for transaction in transactions if not transaction.sync_missing)
    print(f"trace: {options.trace} ({len(trace.calls)} syscalls, {trace.last_line} lines)")
    print(f"objects renamed into the store and checked: {report.objects}")
    print(f"  recording transaction found by hash: {report.tied}; next transaction used: "
          f"{report.untied}; no later transaction: {report.unrecorded}")
    if after is not None:
        print(f"objects in the store after the command: {len(after)} "
              f"({len(after & (before or set()))} there before)")
    print(f"store directories created and checked: {report.directories}")
    print(f"WAL commits checked: {len(transactions)} ({synced} fsynced before the next WAL write)")
    print(f"violations: {len(report.violations)}")
    for violation in report.violations:
        print(f"  VIOLATION {violation}")

    if report.objects < options.min_objects or len(transactions) < options.min_commits:
        print(
            f"error: checked {report.objects} objects and {len(transactions)} commits, expected "
            f"at least {options.min_objects} and {options.min_commits}; was the trace complete?",
            file=sys.stderr,
        )
        return 2
    return 1 if report.violations else 0


if __name__ == "__main__":
    sys.exit(main())
