"""Starts moto's server (the local AWS of the tests, `a4b-dev emulator` and the benchmark) with
one fix for a cost that grows with the table: nothing else of moto is changed.

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
from moto.server import main

PATCHED_FOR = "5.2.5"

_deepcopy = copy.deepcopy
_transaction = threading.local()


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


if __name__ == "__main__":
    _install()
    sys.exit(main())
