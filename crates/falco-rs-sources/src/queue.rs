//! A bounded, multi-producer queue of event batches, bounded by the number of queued
//! events (not batches), so memory stays bounded whatever the batch sizes.

use falco_rs_k8saudit::AuditEvent;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;

/// The queue is full: the producer must push back (HTTP 503) and retry later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueFull;

/// Producer side; cheap to clone.
#[derive(Clone)]
pub struct EventQueue {
    tx: SyncSender<Vec<AuditEvent>>,
    queued: Arc<AtomicUsize>,
    capacity: usize,
}

/// Consumer side: yields batches until every producer is dropped.
pub struct QueueReceiver {
    rx: Receiver<Vec<AuditEvent>>,
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
        let n = events.len();
        if n == 0 {
            return Ok(());
        }
        let mut cur = self.queued.load(Ordering::Acquire);
        loop {
            if cur > 0 && cur + n > self.capacity {
                return Err(QueueFull);
            }
            match self
                .queued
                .compare_exchange(cur, cur + n, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        match self.tx.try_send(events) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.queued.fetch_sub(n, Ordering::AcqRel);
                Err(QueueFull)
            }
        }
    }

    /// Events currently queued.
    pub fn depth(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }
}

impl Iterator for QueueReceiver {
    type Item = Vec<AuditEvent>;

    fn next(&mut self) -> Option<Self::Item> {
        let batch = self.rx.recv().ok()?;
        self.queued.fetch_sub(batch.len(), Ordering::AcqRel);
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
        let sizes: Vec<usize> = rx.map(|b| b.len()).collect();
        assert_eq!(sizes, vec![3, 2]);
    }

    #[test]
    fn an_oversized_batch_fits_an_empty_queue() {
        let (q, mut rx) = EventQueue::bounded(2);
        assert_eq!(q.try_push(events(4)), Ok(()));
        assert_eq!(q.try_push(events(1)), Err(QueueFull));
        assert_eq!(rx.next().map(|b| b.len()), Some(4));
        assert_eq!(q.try_push(events(1)), Ok(()));
    }
}
