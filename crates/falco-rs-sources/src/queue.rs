//! A bounded, multi-producer queue of event batches, bounded by the number of queued
//! events (not batches), so memory stays bounded whatever the batch sizes.

use falco_rs_k8saudit::AuditEvent;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;

/// The queue is full: the producer must push back (HTTP 503) and retry later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueFull;

/// A batch of events. When the consumer drops it (after processing its events), the
/// producer's acknowledgement, if any, fires.
pub struct Batch {
    /// The events, in order.
    pub events: Vec<AuditEvent>,
    ack: Option<mpsc::Sender<()>>,
}

impl Drop for Batch {
    fn drop(&mut self) {
        if let Some(ack) = self.ack.take() {
            let _ = ack.send(());
        }
    }
}

/// Producer side; cheap to clone.
#[derive(Clone)]
pub struct EventQueue {
    tx: SyncSender<Batch>,
    queued: Arc<AtomicUsize>,
    capacity: usize,
}

/// Consumer side: yields batches until every producer is dropped.
pub struct QueueReceiver {
    rx: Receiver<Batch>,
    queued: Arc<AtomicUsize>,
}

impl EventQueue {
    /// A queue holding at most `capacity` events (at least one batch always fits).
    pub fn bounded(capacity: usize) -> (EventQueue, QueueReceiver) {
        let capacity = capacity.max(1);
        let (tx, rx) = mpsc::sync_channel(capacity);
        let queued = Arc::new(AtomicUsize::new(0));
        (
            EventQueue {
                tx,
                queued: queued.clone(),
                capacity,
            },
            QueueReceiver { rx, queued },
        )
    }

    /// Enqueues a batch without blocking, or reports that the queue is full.
    pub fn try_push(&self, events: Vec<AuditEvent>) -> Result<(), QueueFull> {
        self.try_push_batch(Batch { events, ack: None })
    }

    /// Enqueues a batch, waiting while the queue is full, and returns a receiver that
    /// fires once the consumer has processed (dropped) the batch. `None` when the
    /// consumer is gone.
    pub fn push_and_track(
        &self,
        events: Vec<AuditEvent>,
        stop: &dyn Fn() -> bool,
    ) -> Option<Receiver<()>> {
        let (tx, rx) = mpsc::channel();
        let mut batch = Batch {
            events,
            ack: Some(tx),
        };
        loop {
            match self.try_push_inner(batch) {
                Ok(()) => return Some(rx),
                Err((b, disconnected)) => {
                    if disconnected || stop() {
                        return None;
                    }
                    batch = b;
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
            }
        }
    }

    fn try_push_batch(&self, batch: Batch) -> Result<(), QueueFull> {
        self.try_push_inner(batch).map_err(|_| QueueFull)
    }

    /// Returns the batch back when it could not be queued, with whether the consumer
    /// is gone.
    fn try_push_inner(&self, batch: Batch) -> Result<(), (Batch, bool)> {
        let n = batch.events.len();
        if n == 0 {
            // Nothing to evaluate: dropping the batch acknowledges it at once.
            return Ok(());
        }
        let mut cur = self.queued.load(Ordering::Acquire);
        loop {
            if cur > 0 && cur + n > self.capacity {
                return Err((batch, false));
            }
            match self
                .queued
                .compare_exchange(cur, cur + n, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        match self.tx.try_send(batch) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(b)) => {
                self.queued.fetch_sub(n, Ordering::AcqRel);
                Err((b, false))
            }
            Err(TrySendError::Disconnected(b)) => {
                self.queued.fetch_sub(n, Ordering::AcqRel);
                Err((b, true))
            }
        }
    }

    /// Events currently queued.
    pub fn depth(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }
}

impl QueueReceiver {
    /// Waits up to `timeout` for the next batch.
    pub fn recv_timeout(
        &mut self,
        timeout: std::time::Duration,
    ) -> Result<Batch, mpsc::RecvTimeoutError> {
        let batch = self.rx.recv_timeout(timeout)?;
        self.queued.fetch_sub(batch.events.len(), Ordering::AcqRel);
        Ok(batch)
    }

    /// A probe reporting the number of queued events (for metrics).
    pub fn depth_probe(&self) -> impl Fn() -> usize + Send + 'static {
        let q = self.queued.clone();
        move || q.load(Ordering::Acquire)
    }
}

impl Iterator for QueueReceiver {
    type Item = Batch;

    fn next(&mut self) -> Option<Self::Item> {
        let batch = self.rx.recv().ok()?;
        self.queued.fetch_sub(batch.events.len(), Ordering::AcqRel);
        Some(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use falco_rs_k8saudit::{parse_payload, ParseOptions};

    fn events(n: usize) -> Vec<AuditEvent> {
        (0..n)
            .flat_map(|i| {
                let line = format!(
                    r#"{{"kind":"Event","auditID":"{i}","stage":"ResponseComplete","stageTimestamp":"2024-05-01T10:00:00Z"}}"#
                );
                parse_payload(line.as_bytes(), &ParseOptions::default()).events
            })
            .collect()
    }

    #[test]
    fn bounded_by_events_and_drains() {
        let (q, rx) = EventQueue::bounded(5);
        assert_eq!(q.try_push(events(3)), Ok(()));
        assert_eq!(q.try_push(events(3)), Err(QueueFull));
        assert_eq!(q.try_push(events(2)), Ok(()));
        assert_eq!(q.depth(), 5);
        drop(q);
        let sizes: Vec<usize> = rx.map(|b| b.events.len()).collect();
        assert_eq!(sizes, vec![3, 2]);
    }

    #[test]
    fn an_oversized_batch_fits_an_empty_queue() {
        let (q, mut rx) = EventQueue::bounded(2);
        assert_eq!(q.try_push(events(4)), Ok(()));
        assert_eq!(q.try_push(events(1)), Err(QueueFull));
        assert_eq!(rx.next().map(|b| b.events.len()), Some(4));
        assert_eq!(q.try_push(events(1)), Ok(()));
    }

    #[test]
    fn tracked_batches_acknowledge_after_processing() {
        let (q, mut rx) = EventQueue::bounded(10);
        let ack = q.push_and_track(events(2), &|| false).expect("queued");
        assert!(ack.try_recv().is_err());
        let batch = rx.next().expect("batch");
        assert!(ack.try_recv().is_err(), "not processed yet");
        drop(batch);
        assert_eq!(ack.recv_timeout(std::time::Duration::from_secs(1)), Ok(()));
    }
}
