"""Starts moto's server (the local AWS of the tests, `a4b-dev emulator` and the benchmark) with
two fixes of its DynamoDB: one for a cost that grows with the table, one for items lost under
concurrent requests. Nothing else of moto is changed.

1. Items lost under concurrent requests. moto's server answers each request in its own thread,
but its DynamoDB model is not thread-safe: a table's partitions are a `defaultdict`, and a put
that creates a partition (`Table.get_item`'s `self.items[hash_key]`) hashes the key again, in
Python (`DynamoType.__hash__`), before inserting the new partition. When two requests create the
same partition at once and the GIL switches threads there, both insert an empty partition, the
second replaces the first, and the item put into the replaced one is gone: BatchWriteItem answered
success, nothing is unprocessed, and the item is not in the table. On a loaded 2-core machine the
real binary (objects written concurrently, several of them touching the same room) lost one such
item (`triggers::s3_event::a_failed_object_fails_the_invocation_naming_only_the_failed_objects`
found 127 items where 128 were written). A `TransactWriteItems` that fails restores a copy of the
table taken when it started, which likewise loses what other requests wrote in between. Real
DynamoDB applies each write atomically; here every DynamoDB request is answered whole, one at a
time (`DynamoHandler.call_action` under one lock). The GIL already ran their Python one at a time,
so this costs no measurable throughput (16,000 items in 80 concurrent BatchWriteItem calls took
3.3-6.7 s before, 3.6-3.9 s after, on the shared 2-core machine). `dev/moto_server_test.py`
checks it: with the window widened, concurrent calls that all succeed keep 5 to 12 of 40 items
without the lock and all 40 with it.

2. A cost that grows with the table.

moto 5.2.5's `TransactWriteItems` snapshots the table for rollback once per *action* of the
transaction rather than once per table: a deep copy of the whole table, up to 100 times per
call. On the benchmark's table (about 16,000 items after the 200 MB file) one call of 100 actions
took moto more than a minute, and the function's summary write timed out. Every snapshot is taken
before any action runs, so they are all equal; here the first is kept and reused within the call,
which is what moto would do with `if table_name not in original_table_state`. The rollback on a
failed condition is unchanged: the integration test
`a_files_summary_updates_are_applied_once_however_often_it_is_recorded` sends a transaction whose
guard fails; moto still runs the other actions, then restores the snapshot, and the test finds
none of them applied.

Usage is moto_server's: `python dev/moto_server.py -H 127.0.0.1 -p PORT`.
"""

import copy
import sys
import threading

import moto
import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.server import main

PATCHED_FOR = "5.2.5"

_deepcopy = copy.deepcopy
_transaction = threading.local()
_one_dynamodb_request_at_a_time = threading.Lock()


class _SnapshotOncePerTable:
    """Stands in for the `copy` module inside moto's DynamoDB backend."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        snapshots = getattr(_transaction, "snapshots", None)
        if snapshots is None or not isinstance(value, Table):
            return _deepcopy(value, memo)
        key = id(value)
        if key not in snapshots:
            snapshots[key] = (value, _deepcopy(value))
        return snapshots[key][1]


def _install():
    if moto.__version__ != PATCHED_FOR:
        sys.exit(
            f"dev/moto_server.py patches moto {PATCHED_FOR}, but moto {moto.__version__} is "
            "installed: check that the fix is still needed and update PATCHED_FOR"
        )
    backend = dynamodb_models.DynamoDBBackend
    original = backend.transact_write_items

    def transact_write_items(self, transact_items):
        _transaction.snapshots = {}
        try:
            return original(self, transact_items)
        finally:
            _transaction.snapshots = None

    backend.transact_write_items = transact_write_items
    dynamodb_models.copy = _SnapshotOncePerTable()

    answer = DynamoHandler.call_action

    def call_action(self):
        with _one_dynamodb_request_at_a_time:
            return answer(self)

    DynamoHandler.call_action = call_action


if __name__ == "__main__":
    _install()
    sys.exit(main())
