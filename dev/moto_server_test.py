"""Checks fix 1 of dev/moto_server.py: concurrent BatchWriteItem calls through moto's server never
lose an item. `scripts/test` runs it; `--without-fix` runs the same check on moto as released, and
then it fails (which is how the check is known to catch the fault).

In each round, THREADS requests at once put one item each into the same new partition. On its
own, the thread switch that loses an item comes only now and then (once in a full test run on a
loaded machine); here creating a partition (the `defaultdict`'s factory, called between the
lookup that misses and the insertion) takes WINDOW, so that the requests of a round overlap there.

Usage: `.venv/bin/python dev/moto_server_test.py [--without-fix]`
"""

import logging
import socket
import sys
import threading
import time

import boto3
import botocore.config
from moto.dynamodb.models.table import Table
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

import moto_server

THREADS = 8
ROUNDS = 5
WINDOW = 0.05


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _slow_partition():
    time.sleep(WINDOW)
    return {}


def _widen_the_window():
    init = Table.__init__

    def slow_partitions(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.items.default_factory = _slow_partition

    Table.__init__ = slow_partitions


def _create_table(client, table):
    client.create_table(
        TableName=table,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def _write_at_once(client, table, partition):
    start = threading.Barrier(THREADS)
    failures = []

    def write(writer):
        item = {"pk": {"S": partition}, "sk": {"S": str(writer)}}
        start.wait()
        try:
            answer = client.batch_write_item(
                RequestItems={table: [{"PutRequest": {"Item": item}}]}
            )
            if answer.get("UnprocessedItems"):
                failures.append(f"unprocessed: {answer['UnprocessedItems']}")
        except Exception as error:  # noqa: BLE001 reported below
            failures.append(repr(error))

    writers = [threading.Thread(target=write, args=(w,)) for w in range(THREADS)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    if failures:
        sys.exit(f"a BatchWriteItem call failed: {failures[0]}")


def _count(client, table):
    found = 0
    scan = {"TableName": table, "Select": "COUNT"}
    while True:
        page = client.scan(**scan)
        found += page["Count"]
        if "LastEvaluatedKey" not in page:
            return found
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def main():
    if "--without-fix" not in sys.argv:
        moto_server._install()
    _widen_the_window()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        client = boto3.client(
            "dynamodb",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=botocore.config.Config(max_pool_connections=THREADS),
        )
        _create_table(client, "concurrent")
        for partition in range(ROUNDS):
            _write_at_once(client, "concurrent", f"P{partition}")
        found = _count(client, "concurrent")
    finally:
        server.stop()
    written = ROUNDS * THREADS
    if found != written:
        sys.exit(
            f"moto kept {found} of {written} items written by concurrent BatchWriteItem calls "
            "that all succeeded"
        )
    print(f"moto kept all {written} items written by concurrent BatchWriteItem calls")


if __name__ == "__main__":
    main()
