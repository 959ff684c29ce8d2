//! The writer against an in-memory sink with a scripted fault schedule, in paused time.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use super::*;
use crate::item::{AttrValue, ItemKey};
use crate::retry::Backoff;
use crate::sink::SinkError;

/// What the fake store does on a call.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// Stores all but the last `n` items of the batch and returns those as unprocessed.
    Unprocessed(usize),
    Transient,
    Permanent,
}

/// One BatchWriteItem-sized call the fake received.
#[derive(Debug, Clone)]
struct Call {
    at: Instant,
    keys: Vec<ItemKey>,
}

#[derive(Default)]
struct FakeSink {
    stored: Mutex<BTreeMap<ItemKey, Item>>,
    /// Faults by call number (1 for the first call).
    faults_by_call: HashMap<usize, Fault>,
    /// A fault for every call not in `faults_by_call`.
    every_call: Option<Fault>,
    /// Throttles the first this many calls of each batch (told apart by its first key).
    transient_calls_per_batch: usize,
    /// Refuses every request holding one of these keys for what it holds, as DynamoDB refuses an
    /// item too large (`ValidationException`).
    refused_keys: HashSet<ItemKey>,
    /// How long each call takes (in paused time), so that calls overlap.
    call_duration: Duration,
    calls: Mutex<Vec<Call>>,
    concurrent_calls: AtomicUsize,
    max_concurrent_calls: AtomicUsize,
}

impl FakeSink {
    fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    fn stored(&self) -> BTreeMap<ItemKey, Item> {
        self.stored.lock().unwrap().clone()
    }
}

impl ItemSink for FakeSink {
    async fn put_batch(&self, items: &[Item]) -> Result<Vec<Item>, SinkError> {
        let (call_number, call_of_batch) = {
            let mut calls = self.calls.lock().unwrap();
            let keys: Vec<ItemKey> = items.iter().map(|item| item.key.clone()).collect();
            let call_of_batch = 1 + calls
                .iter()
                .filter(|call| call.keys.first() == keys.first())
                .count();
            calls.push(Call {
                at: Instant::now(),
                keys,
            });
            (calls.len(), call_of_batch)
        };
        let concurrent = self.concurrent_calls.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_concurrent_calls
            .fetch_max(concurrent, Ordering::SeqCst);
        if !self.call_duration.is_zero() {
            tokio::time::sleep(self.call_duration).await;
        }
        self.concurrent_calls.fetch_sub(1, Ordering::SeqCst);

        if let Some(refused) = items
            .iter()
            .find(|item| self.refused_keys.contains(&item.key))
        {
            return Err(SinkError {
                content_refused: true,
                ..SinkError::permanent(format!(
                    "Item size has exceeded the maximum allowed size ({})",
                    refused.key.pk
                ))
            });
        }
        let fault = self
            .faults_by_call
            .get(&call_number)
            .copied()
            .or(self.every_call)
            .or((call_of_batch <= self.transient_calls_per_batch).then_some(Fault::Transient));
        let (to_store, unprocessed) = match fault {
            None => (items, Vec::new()),
            Some(Fault::Unprocessed(n)) => {
                let (to_store, unprocessed) = items.split_at(items.len().saturating_sub(n));
                (to_store, unprocessed.to_vec())
            }
            Some(Fault::Transient) => {
                return Err(SinkError::transient("throttled".into()));
            }
            Some(Fault::Permanent) => {
                return Err(SinkError::permanent(
                    "table audit not found: check TABLE_NAME and the region".into(),
                ));
            }
        };
        let mut stored = self.stored.lock().unwrap();
        for item in to_store {
            stored.insert(item.key.clone(), item.clone());
        }
        Ok(unprocessed)
    }
}

fn item(user: usize, event: &str) -> Item {
    let mut item = Item::new(
        format!("USER#u{user}"),
        format!("2024-01-01T00:00:00Z#{user}"),
    );
    item.attributes
        .insert("event_name", AttrValue::S(event.into()));
    item
}

fn items(count: usize) -> Vec<Item> {
    (0..count).map(|n| item(n, "UpdateRoom")).collect()
}

fn options(max_in_flight: usize, max_attempts: u32) -> WriterOptions {
    WriterOptions {
        max_in_flight,
        retry: RetryPolicy {
            max_attempts,
            backoff: Backoff {
                base_delay: Duration::from_millis(100),
                max_delay: Duration::from_millis(400),
            },
        },
        latest_retry: None,
        write_in_place: false,
    }
}

/// Pushes `items` until a push fails: how many were pushed (the failing one included), and the
/// error.
async fn push_until_an_error(
    writer: &mut ItemWriter<FakeSink>,
    items: Vec<Item>,
) -> (usize, Option<WriteError>) {
    let mut pushed = 0;
    for item in items {
        pushed += 1;
        if let Err(error) = writer.push(item).await {
            return (pushed, Some(error));
        }
    }
    (pushed, None)
}

async fn write_all(
    sink: &Arc<FakeSink>,
    options: WriterOptions,
    items: Vec<Item>,
) -> Result<WriteReport, WriteError> {
    let mut writer = ItemWriter::new(Arc::clone(sink), options);
    for item in items {
        writer.push(item).await?;
    }
    writer.finish().await
}

#[tokio::test(start_paused = true)]
async fn n_distinct_items_cost_ceil_n_over_25_calls() {
    for count in [1, 24, 25, 26, 50, 51, 1000] {
        let sink = Arc::new(FakeSink::default());
        let report = write_all(&sink, options(4, 5), items(count)).await.unwrap();
        let expected_calls = count.div_ceil(BATCH_SIZE) as u64;
        assert_eq!(report.batch_calls, expected_calls, "{count} items");
        assert_eq!(sink.calls().len() as u64, expected_calls, "{count} items");
        assert_eq!(report.items_written, count as u64);
        assert_eq!(report.retried_items, 0);
        assert_eq!(sink.stored().len(), count);
    }
}

#[tokio::test(start_paused = true)]
async fn no_batch_holds_more_than_25_items() {
    let sink = Arc::new(FakeSink::default());
    write_all(&sink, options(4, 5), items(1013)).await.unwrap();
    let calls = sink.calls();
    assert!(calls.iter().all(|call| call.keys.len() <= BATCH_SIZE));
    assert_eq!(
        calls.iter().map(|call| call.keys.len()).sum::<usize>(),
        1013
    );
}

#[tokio::test(start_paused = true)]
async fn no_batch_holds_a_key_twice() {
    let sink = Arc::new(FakeSink::default());
    // Keys repeat every 7 items, so most batches would hold duplicates if the writer allowed it.
    let repeating: Vec<Item> = (0..200).map(|n| item(n % 7, "UpdateRoom")).collect();
    let report = write_all(&sink, options(4, 5), repeating).await.unwrap();
    for call in sink.calls() {
        let distinct: HashSet<&ItemKey> = call.keys.iter().collect();
        assert_eq!(distinct.len(), call.keys.len(), "batch {:?}", call.keys);
    }
    assert_eq!(report.items_written + report.duplicates_replaced, 200);
    assert_eq!(sink.stored().len(), 7);
}

#[tokio::test(start_paused = true)]
async fn a_later_item_with_the_same_key_replaces_the_pending_one() {
    let sink = Arc::new(FakeSink::default());
    let batch = vec![item(1, "first"), item(2, "other"), item(1, "second")];
    let report = write_all(&sink, options(4, 5), batch).await.unwrap();
    assert_eq!(report.batch_calls, 1);
    assert_eq!(report.items_written, 2);
    assert_eq!(report.duplicates_replaced, 1);
    let stored = sink.stored();
    assert_eq!(
        stored[&item(1, "").key].string("event_name"),
        Some("second")
    );
    assert_eq!(sink.calls()[0].keys.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn unprocessed_items_are_retried_until_written() {
    let sink = Arc::new(FakeSink {
        faults_by_call: HashMap::from([(1, Fault::Unprocessed(5)), (2, Fault::Unprocessed(2))]),
        ..FakeSink::default()
    });
    let report = write_all(&sink, options(1, 5), items(25)).await.unwrap();
    assert_eq!(report.batch_calls, 3);
    assert_eq!(report.items_written, 25);
    assert_eq!(report.retried_items, 5 + 2);
    let calls = sink.calls();
    assert_eq!(calls[1].keys, calls[0].keys[20..]);
    assert_eq!(calls[2].keys, calls[1].keys[3..]);
    assert_eq!(sink.stored().len(), 25);
}

#[tokio::test(start_paused = true)]
async fn a_transient_failure_is_retried() {
    let sink = Arc::new(FakeSink {
        faults_by_call: HashMap::from([(1, Fault::Transient)]),
        ..FakeSink::default()
    });
    let report = write_all(&sink, options(1, 5), items(30)).await.unwrap();
    assert_eq!(report.batch_calls, 3);
    assert_eq!(report.items_written, 30);
    assert_eq!(report.retried_items, 25);
    let calls = sink.calls();
    assert_eq!(calls[0].keys, calls[1].keys);
    assert_eq!(sink.stored().len(), 30);
}

#[tokio::test(start_paused = true)]
async fn a_permanent_failure_fails_fast_with_the_sink_error() {
    let sink = Arc::new(FakeSink {
        every_call: Some(Fault::Permanent),
        ..FakeSink::default()
    });
    let mut writer = ItemWriter::new(Arc::clone(&sink), options(2, 10));
    let (pushed, first_error) = push_until_an_error(&mut writer, items(1000)).await;
    let pushed = pushed as u64;
    assert!(first_error.is_some(), "push reports the failure");
    // Only the batches already in flight were sent, each once: no retry, no new batch.
    assert!(pushed <= 3 * BATCH_SIZE as u64, "pushed {pushed}");
    let error = writer.finish().await.unwrap_err();
    assert!(sink.calls().len() <= 2, "{} calls", sink.calls().len());
    assert_eq!(error.items_not_written, pushed);
    assert!(
        error.cause.contains("table audit not found"),
        "{}",
        error.cause
    );
    assert!(
        error.cause.contains("first key not written: pk=USER#u"),
        "{}",
        error.cause
    );
    assert_eq!(
        error.kind,
        FailureKind::Permanent,
        "writing again cannot help"
    );
}

#[tokio::test(start_paused = true)]
async fn once_a_batch_has_failed_for_good_the_next_push_reports_it_and_no_batch_starts() {
    let sink = Arc::new(FakeSink {
        faults_by_call: HashMap::from([(1, Fault::Permanent)]),
        call_duration: Duration::from_millis(10),
        ..FakeSink::default()
    });
    let mut writer = ItemWriter::new(Arc::clone(&sink), options(8, 10));
    let mut all = items(3 * BATCH_SIZE).into_iter();
    for item in all.by_ref().take(BATCH_SIZE + 1) {
        writer.push(item).await.unwrap();
    }
    // The first call has failed by now, though nothing waited for it: slots were free.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(sink.calls().len(), 1);
    let error = writer.push(all.next().unwrap()).await.unwrap_err();
    assert_eq!(error.kind, FailureKind::Permanent);
    for item in all {
        assert!(writer.push(item).await.is_err());
    }
    let error = writer.finish().await.unwrap_err();
    assert_eq!(sink.calls().len(), 1, "no batch started after the failure");
    assert_eq!(error.items_not_written, 3 * BATCH_SIZE as u64);
}

#[tokio::test(start_paused = true)]
async fn a_batch_still_failing_after_max_attempts_fails_the_writer_with_the_count() {
    let sink = Arc::new(FakeSink {
        every_call: Some(Fault::Transient),
        ..FakeSink::default()
    });
    let error = write_all(&sink, options(1, 4), items(30))
        .await
        .unwrap_err();
    // The first batch used its four attempts; the second was never sent.
    assert_eq!(sink.calls().len(), 4);
    assert_eq!(error.items_not_written, 30);
    assert!(
        error.cause.contains("after 4 attempt(s)"),
        "{}",
        error.cause
    );
    assert!(error.cause.contains("throttled"), "{}", error.cause);
    assert_eq!(
        error.kind,
        FailureKind::Transient,
        "writing later may succeed"
    );
}

#[tokio::test(start_paused = true)]
async fn items_still_unprocessed_after_max_attempts_are_counted_not_written() {
    let sink = Arc::new(FakeSink {
        every_call: Some(Fault::Unprocessed(1)),
        ..FakeSink::default()
    });
    let error = write_all(&sink, options(1, 3), items(25))
        .await
        .unwrap_err();
    assert_eq!(sink.calls().len(), 3);
    assert_eq!(error.items_not_written, 1);
    assert_eq!(sink.stored().len(), 24);
    let last_key = &items(25)[24].key;
    assert!(
        error
            .cause
            .contains(&format!("pk={} sk={}", last_key.pk, last_key.sk)),
        "{}",
        error.cause
    );
}

#[tokio::test(start_paused = true)]
async fn a_failure_stops_the_other_batches_before_their_next_attempt() {
    // Call 1 fails for good; every other call is throttled, so without the stop the other batches
    // would each retry until their own budget ran out.
    let sink = Arc::new(FakeSink {
        faults_by_call: HashMap::from([(1, Fault::Permanent)]),
        every_call: Some(Fault::Transient),
        call_duration: Duration::from_millis(10),
        ..FakeSink::default()
    });
    let error = write_all(&sink, options(3, 10), items(75))
        .await
        .unwrap_err();
    assert_eq!(sink.calls().len(), 3, "each batch was sent once");
    assert_eq!(error.items_not_written, 75);
    assert!(
        error.cause.contains("table audit not found"),
        "{}",
        error.cause
    );
}

#[tokio::test(start_paused = true)]
async fn no_more_than_max_in_flight_batches_are_written_at_once() {
    let sink = Arc::new(FakeSink {
        call_duration: Duration::from_millis(20),
        ..FakeSink::default()
    });
    write_all(&sink, options(3, 5), items(500)).await.unwrap();
    assert_eq!(sink.max_concurrent_calls.load(Ordering::SeqCst), 3);
}

#[tokio::test(start_paused = true)]
async fn observed_backoff_delays_grow_and_stay_capped() {
    let sink = Arc::new(FakeSink {
        transient_calls_per_batch: 5,
        ..FakeSink::default()
    });
    // 100 batches at once, each retried 5 times: caps 100, 200, 400, 400, 400 ms.
    let options = options(100, 6);
    let caps: Vec<Duration> = (0..5)
        .map(|retry| options.retry.backoff.cap(retry))
        .collect();
    let report = write_all(&sink, options, items(2500)).await.unwrap();
    assert_eq!(report.batch_calls, 600);

    let mut calls_by_batch: HashMap<ItemKey, Vec<Instant>> = HashMap::new();
    for call in sink.calls() {
        calls_by_batch
            .entry(call.keys[0].clone())
            .or_default()
            .push(call.at);
    }
    assert_eq!(calls_by_batch.len(), 100);
    let mut longest_by_retry = vec![Duration::ZERO; caps.len()];
    for instants in calls_by_batch.values() {
        assert_eq!(instants.len(), 6);
        for (retry, pair) in instants.windows(2).enumerate() {
            let delay = pair[1] - pair[0];
            // Paused time still rounds timers up to the millisecond.
            assert!(delay <= caps[retry] + Duration::from_millis(1), "{delay:?}");
            longest_by_retry[retry] = longest_by_retry[retry].max(delay);
        }
    }
    // Out of 100 uniform draws, the longest exceeds half the cap unless the cap did not grow
    // (chance 2^-100).
    assert!(longest_by_retry[1] > caps[0], "{longest_by_retry:?}");
    assert!(longest_by_retry[2] > caps[1], "{longest_by_retry:?}");
}

#[tokio::test(start_paused = true)]
async fn an_empty_writer_makes_no_call() {
    let sink = Arc::new(FakeSink::default());
    let report = write_all(&sink, options(4, 5), Vec::new()).await.unwrap();
    assert_eq!(report, WriteReport::default());
    assert!(sink.calls().is_empty());
}

/// `count` items, each with the `event_id` its record would give it.
fn event_items(count: usize) -> Vec<Item> {
    (0..count)
        .map(|n| {
            let mut item = item(n, "UpdateRoom");
            item.attributes
                .insert("event_id", AttrValue::S(format!("event-{n}").into()));
            item
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn one_item_the_store_refuses_never_costs_its_neighbours() {
    let all = event_items(30);
    let sink = Arc::new(FakeSink {
        refused_keys: HashSet::from([all[7].key.clone()]),
        ..FakeSink::default()
    });
    let error = write_all(&sink, options(1, 5), all.clone())
        .await
        .unwrap_err();

    assert_eq!(error.items_not_written, 1);
    assert_eq!(error.refused_records, ["event-7"]);
    assert!(error.cause.contains("eventID event-7"), "{}", error.cause);
    assert!(
        error.cause.contains("Item size has exceeded"),
        "{}",
        error.cause
    );
    assert_eq!(error.report.items_written, 29);
    let stored = sink.stored();
    assert_eq!(stored.len(), 29);
    assert!(!stored.contains_key(&all[7].key));
    // The refused batch once, its 25 items alone, then the last batch of 5.
    let sizes: Vec<usize> = sink.calls().iter().map(|call| call.keys.len()).collect();
    assert_eq!(sizes, [[25].as_slice(), &[1; 25], &[5]].concat());
    assert_eq!(error.report.batch_calls, 27);
}

#[tokio::test(start_paused = true)]
async fn a_refused_item_does_not_stop_the_other_batches() {
    let all = event_items(200);
    let refused: HashSet<ItemKey> = [3, 60, 61, 199].map(|n| all[n].key.clone()).into();
    let sink = Arc::new(FakeSink {
        refused_keys: refused.clone(),
        call_duration: Duration::from_millis(10),
        ..FakeSink::default()
    });
    let error = write_all(&sink, options(3, 5), all.clone())
        .await
        .unwrap_err();

    assert_eq!(error.items_not_written, 4);
    assert_eq!(
        error.refused_records,
        ["event-3", "event-60", "event-61", "event-199"]
    );
    let stored = sink.stored();
    assert_eq!(stored.len(), 196);
    for item in &all {
        assert_eq!(stored.contains_key(&item.key), !refused.contains(&item.key));
    }
}

#[tokio::test(start_paused = true)]
async fn the_failure_names_the_first_ten_refused_records_and_counts_the_others() {
    let message_of = |refused: usize| async move {
        let all = event_items(refused);
        let sink = Arc::new(FakeSink {
            refused_keys: all.iter().map(|item| item.key.clone()).collect(),
            ..FakeSink::default()
        });
        write_all(&sink, options(1, 5), all)
            .await
            .unwrap_err()
            .cause
    };
    let ten = message_of(10).await;
    assert!(ten.contains("eventID event-0, event-1,"), "{ten}");
    assert!(ten.contains("event-8, event-9 (first key:"), "{ten}");
    assert!(!ten.contains("more"), "{ten}");

    let twelve = message_of(12).await;
    assert!(
        twelve.contains("event-9 and 2 more (first key:"),
        "{twelve}"
    );
    assert!(!twelve.contains("event-10"), "{twelve}");
}

#[tokio::test(start_paused = true)]
async fn the_failure_gives_the_reason_of_the_first_refusal() {
    let all = event_items(100);
    let sink = Arc::new(FakeSink {
        refused_keys: HashSet::from([all[3].key.clone(), all[60].key.clone()]),
        ..FakeSink::default()
    });
    let error = write_all(&sink, options(1, 5), all).await.unwrap_err();
    assert!(
        error.cause.contains("maximum allowed size (USER#u3)"),
        "{}",
        error.cause
    );
    assert!(!error.cause.contains("(USER#u60)"), "{}", error.cause);
}

#[tokio::test(start_paused = true)]
async fn items_refused_and_items_a_failure_left_unwritten_are_both_counted_not_written() {
    let all = event_items(60);
    let sink = Arc::new(FakeSink {
        refused_keys: HashSet::from([all[3].key.clone()]),
        // Call 1: the first batch, refused; calls 2 to 26 its items alone; call 27, the second
        // batch, fails for good.
        faults_by_call: HashMap::from([(27, Fault::Permanent)]),
        ..FakeSink::default()
    });
    let error = write_all(&sink, options(1, 5), all).await.unwrap_err();
    assert_eq!(error.report.items_written, 24);
    assert_eq!(error.items_not_written, 60 - 24);
    assert!(
        error.cause.contains("table audit not found"),
        "{}",
        error.cause
    );
    assert!(
        error.cause.contains("besides, DynamoDB refused 1 item(s)"),
        "{}",
        error.cause
    );
}

#[tokio::test(start_paused = true)]
async fn the_failure_a_push_returns_counts_every_item_including_the_batches_still_in_flight() {
    let sink = Arc::new(FakeSink {
        faults_by_call: HashMap::from([(2, Fault::Permanent)]),
        call_duration: Duration::from_millis(10),
        ..FakeSink::default()
    });
    let mut writer = ItemWriter::new(Arc::clone(&sink), options(4, 10));
    let mut pushed = 0u64;
    let error = loop {
        pushed += 1;
        if let Err(error) = writer.push(item(pushed as usize, "UpdateRoom")).await {
            break error;
        }
    };
    // The handler reports this error as it is, without finishing the writer.
    drop(writer);
    assert!(
        sink.calls().len() >= 3,
        "batches overlapped: {}",
        sink.calls().len()
    );
    assert_eq!(
        error.report.items_written + error.items_not_written,
        pushed,
        "{error:?}"
    );
    assert_eq!(error.report.items_written, sink.stored().len() as u64);
}

#[tokio::test(start_paused = true)]
async fn a_refused_item_alone_in_its_batch_is_sent_once() {
    let all = event_items(1);
    let sink = Arc::new(FakeSink {
        refused_keys: HashSet::from([all[0].key.clone()]),
        ..FakeSink::default()
    });
    let error = write_all(&sink, options(1, 5), all).await.unwrap_err();
    assert_eq!(error.items_not_written, 1);
    assert_eq!(sink.calls().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn no_batch_holds_more_than_max_batch_bytes() {
    let large: Vec<Item> = (0..40)
        .map(|n| {
            let mut item = item(n, "UpdateRoom");
            // 150, 250 or 350 KB, as records near DynamoDB's item limit.
            let bytes = 150_000 + (n % 3) * 100_000;
            item.attributes
                .insert("record", AttrValue::S("x".repeat(bytes).into()));
            item
        })
        .collect();
    let sink = Arc::new(FakeSink::default());
    let report = write_all(&sink, options(4, 5), large.clone())
        .await
        .unwrap();
    assert_eq!(report.items_written, 40);
    let size_of: HashMap<ItemKey, usize> = large
        .iter()
        .map(|item| (item.key.clone(), item.size_bytes()))
        .collect();
    for call in sink.calls() {
        let bytes: usize = call.keys.iter().map(|key| size_of[key]).sum();
        assert!(
            bytes <= MAX_BATCH_BYTES,
            "{bytes} bytes in {} items",
            call.keys.len()
        );
    }
    // Two items of 150 and 250 KB fit together; each batch is as full as the byte cap lets it be.
    assert!(sink.calls().len() < 40, "{}", sink.calls().len());
}

// ---- DynamoDB's BatchWriteItem limits, as its documentation states them (not this crate's
// constants). moto does not enforce the 25 requests (it takes any number), so these unit tests are
// what holds the writer to them. ----

/// BatchWriteItem: "The individual PutItem and DeleteItem operations specified in BatchWriteItem
/// [...] as many as 25 put or delete requests".
#[tokio::test(start_paused = true)]
async fn a_batch_write_item_request_holds_at_most_25_put_requests() {
    let sink = Arc::new(FakeSink::default());
    write_all(&sink, options(1, 5), items(26)).await.unwrap();
    let sizes: Vec<usize> = sink.calls().iter().map(|call| call.keys.len()).collect();
    assert_eq!(sizes, [25, 1]);
}

/// BatchWriteItem: "a total request size limit of 16 MB"; items of DynamoDB's largest size
/// (409,600 bytes) never make a request larger.
#[tokio::test(start_paused = true)]
async fn a_batch_write_item_request_holds_at_most_16_mb_of_items() {
    let largest: Vec<Item> = (0..60)
        .map(|n| {
            let mut item = item(n, "UpdateRoom");
            let room = 409_600 - item.size_bytes() - "record".len();
            item.attributes
                .insert("record", AttrValue::S("x".repeat(room).into()));
            assert_eq!(item.size_bytes(), 409_600);
            item
        })
        .collect();
    let sink = Arc::new(FakeSink::default());
    write_all(&sink, options(4, 5), largest).await.unwrap();
    let calls = sink.calls();
    assert_eq!(calls.iter().map(|call| call.keys.len()).sum::<usize>(), 60);
    for call in calls {
        assert!(
            call.keys.len() * 409_600 <= 16 * 1024 * 1024,
            "{} items",
            call.keys.len()
        );
    }
}

/// An item of user `user` with a record of `bytes` bytes.
fn sized(user: usize, bytes: usize) -> Item {
    let mut item = item(user, "UpdateRoom");
    item.attributes
        .insert("record", AttrValue::S("x".repeat(bytes).into()));
    item
}

/// The users of the items of each call, in order.
fn users_by_call(sink: &FakeSink) -> Vec<Vec<String>> {
    sink.calls()
        .iter()
        .map(|call| call.keys.iter().map(|key| key.pk.clone()).collect())
        .collect()
}

#[tokio::test(start_paused = true)]
async fn an_item_replaced_in_its_batch_no_longer_counts_towards_the_batchs_bytes() {
    // 300 KB replaced by 300 KB, then 100 KB: 400 KB in all, one batch (were the replaced item
    // still counted, 700 KB would have sent the first item alone).
    let sink = Arc::new(FakeSink::default());
    let pushed = vec![sized(0, 300_000), sized(0, 300_000), sized(1, 100_000)];
    write_all(&sink, options(1, 5), pushed).await.unwrap();
    assert_eq!(users_by_call(&sink), [["USER#u0", "USER#u1"]]);

    // 200 KB and 100 KB, the 100 KB replaced by 100 KB, then 250 KB: 550 KB, past the batch's
    // 512 KiB, so the last item starts the next batch (were the batch counted short after the
    // replacement, all three would have gone in one request).
    let sink = Arc::new(FakeSink::default());
    let pushed = vec![
        sized(1, 200_000),
        sized(0, 100_000),
        sized(0, 100_000),
        sized(2, 250_000),
    ];
    write_all(&sink, options(1, 5), pushed).await.unwrap();
    assert_eq!(
        users_by_call(&sink),
        [vec!["USER#u1", "USER#u0"], vec!["USER#u2"]]
    );
}

#[tokio::test(start_paused = true)]
async fn items_that_fill_a_batch_to_exactly_max_batch_bytes_go_in_one_request() {
    let first = sized(0, 300_000);
    let rest = MAX_BATCH_BYTES - first.size_bytes() - sized(1, 0).size_bytes();
    let second = sized(1, rest);
    assert_eq!(first.size_bytes() + second.size_bytes(), MAX_BATCH_BYTES);
    let sink = Arc::new(FakeSink::default());
    write_all(&sink, options(1, 5), vec![first, second, sized(2, 10)])
        .await
        .unwrap();
    assert_eq!(
        users_by_call(&sink),
        [vec!["USER#u0", "USER#u1"], vec!["USER#u2"]]
    );
}

fn in_place(max_attempts: u32) -> WriterOptions {
    WriterOptions {
        write_in_place: true,
        ..options(1, max_attempts)
    }
}

#[tokio::test(start_paused = true)]
async fn in_place_a_full_batch_is_written_before_push_returns() {
    let sink = Arc::new(FakeSink::default());
    let mut writer = ItemWriter::new(Arc::clone(&sink), in_place(5));
    for (n, item) in items(BATCH_SIZE * 2).into_iter().enumerate() {
        writer.push(item).await.unwrap();
        // No task of its own: each batch is in the sink once the push that filled it returns.
        assert_eq!(sink.calls().len(), (n + 1) / BATCH_SIZE, "after item {n}");
    }
    let report = writer.finish().await.unwrap();
    assert_eq!(report.batch_calls, 2);
    assert_eq!(report.items_written, 2 * BATCH_SIZE as u64);
    assert_eq!(sink.stored().len(), 2 * BATCH_SIZE);
}

#[tokio::test(start_paused = true)]
async fn in_place_batches_are_retried_and_written_in_order() {
    let sink = Arc::new(FakeSink {
        faults_by_call: HashMap::from([(1, Fault::Unprocessed(5)), (3, Fault::Transient)]),
        ..FakeSink::default()
    });
    let report = write_all(&sink, in_place(5), items(60)).await.unwrap();
    assert_eq!(report.items_written, 60);
    assert_eq!(report.retried_items, 30);
    let written: Vec<ItemKey> = sink
        .calls()
        .into_iter()
        .flat_map(|call| call.keys)
        .collect();
    let mut first_seen: Vec<ItemKey> = Vec::new();
    for key in written {
        if !first_seen.contains(&key) {
            first_seen.push(key);
        }
    }
    let expected: Vec<ItemKey> = items(60).into_iter().map(|item| item.key).collect();
    assert_eq!(first_seen, expected);
}

#[tokio::test(start_paused = true)]
async fn in_place_a_failed_batch_fails_the_push_and_counts_every_item_not_written() {
    let sink = Arc::new(FakeSink {
        faults_by_call: HashMap::from([(2, Fault::Permanent)]),
        ..FakeSink::default()
    });
    let mut writer = ItemWriter::new(Arc::clone(&sink), in_place(5));
    let (pushed, failure) = push_until_an_error(&mut writer, items(100)).await;
    let failure = failure.expect("the second batch fails");
    // The push that filled the second batch wrote it, in place, and failed with it.
    assert_eq!(pushed, 2 * BATCH_SIZE);
    assert_eq!(failure.items_not_written, BATCH_SIZE as u64);
    assert_eq!(failure.report.items_written, BATCH_SIZE as u64);
    assert!(
        failure.cause.contains("table audit not found"),
        "{}",
        failure.cause
    );
    assert_eq!(sink.calls().len(), 2);
}
