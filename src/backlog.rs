//! The backlog: pages fetched and waiting for a CPU slot to be handled (decoded,
//! discovered, extracted, recorded).
//!
//! A host's requests must go out when it is due even while the CPU is busy. When a
//! thousand hosts start together, their report pages arrive in waves that take the
//! CPU longer than a host's interval to handle; if handling came before fetching,
//! every host would be late by the wave. So a host's worker fetches ahead of its
//! handling, and the pages it fetched wait here, in one of two places:
//!
//! - in memory, for a bounded number of pages;
//! - past that, in the raw archive they were stored in: the body is dropped and read
//!   back when the page's turn comes. That costs a read and a decompression, so it is
//!   done only in a burst, while the CPU was free within the last `BURST`. Under a
//!   sustained load (a crawl of tens of thousands of hosts) reading back would only
//!   add work: fetching then waits for room in memory instead, which bounds memory.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Pages kept in memory while they wait for a CPU slot, besides those being fetched
/// (report pages are 20-60 kB).
const IN_MEMORY: usize = 128;

/// Pages left in the raw archive while they wait, at most.
const IN_ARCHIVE: usize = 2048;

/// How recently the CPU must have been free for a wait to count as a burst.
const BURST: Duration = Duration::from_secs(2);

type Work = Box<dyn FnOnce() + Send>;

/// The pages' work queue and the handler threads that take from it. The threads
/// take the next page themselves, with no async task between one page and the next.
struct Queue {
    work: Mutex<Waiting>,
    ready: Condvar,
}

struct Waiting {
    work: VecDeque<Work>,
    idle_threads: usize,
    /// When a handler thread last found nothing to do.
    cpu_free_at: Instant,
    closed: bool,
}

pub struct Backlog {
    queue: Arc<Queue>,
    in_memory: Arc<Semaphore>,
    in_archive: Arc<Semaphore>,
}

/// Where a page about to be fetched will wait for its CPU slot; held until it has one.
pub enum Place {
    Memory(OwnedSemaphorePermit),
    Archive(OwnedSemaphorePermit),
}

impl Backlog {
    /// A backlog with `threads` handler threads, for up to `fetching` pages fetched
    /// at a time. A page takes its place before it is fetched, so that a page in hand
    /// always has one; the places in memory are for the pages being fetched, and
    /// `IN_MEMORY` more.
    pub fn start(threads: usize, fetching: usize) -> std::io::Result<Backlog> {
        let queue = Arc::new(Queue {
            work: Mutex::new(Waiting { work: VecDeque::new(), idle_threads: 0, cpu_free_at: Instant::now(), closed: false }),
            ready: Condvar::new(),
        });
        for i in 0..threads {
            let queue = queue.clone();
            // 8 MiB, as a main thread has: html5gum reads a tag's attributes by recursion
            // (html/build.rs bounds them to what this stack holds).
            std::thread::Builder::new().name(format!("nianbao-handler-{i}")).stack_size(8 << 20).spawn(move || queue.serve())?;
        }
        let in_memory = Arc::new(Semaphore::new(fetching + IN_MEMORY));
        Ok(Backlog { queue, in_memory, in_archive: Arc::new(Semaphore::new(IN_ARCHIVE)) })
    }

    /// A place for the page a worker is about to fetch: in memory if there is room,
    /// in the archive during a burst, and otherwise the first room in memory.
    pub async fn place(&self) -> Place {
        if let Ok(permit) = self.in_memory.clone().try_acquire_owned() {
            return Place::Memory(permit);
        }
        if self.queue.work.lock().unwrap().cpu_free_at.elapsed() < BURST
            && let Ok(permit) = self.in_archive.clone().try_acquire_owned()
        {
            return Place::Archive(permit);
        }
        Place::Memory(self.in_memory.clone().acquire_owned().await.expect("semaphore never closed"))
    }

    /// Whether a handler thread is waiting for work: what is handed over now is
    /// handled at once.
    pub fn has_idle_thread(&self) -> bool {
        let waiting = self.queue.work.lock().unwrap();
        waiting.idle_threads > waiting.work.len()
    }

    /// Queues `work` for the next free handler thread, in the order handed over.
    pub fn hand_over(&self, work: impl FnOnce() + Send + 'static) {
        self.queue.work.lock().unwrap().work.push_back(Box::new(work));
        self.queue.ready.notify_one();
    }
}

impl Drop for Backlog {
    fn drop(&mut self) {
        self.queue.work.lock().unwrap().closed = true;
        self.queue.ready.notify_all();
    }
}

impl Queue {
    /// A handler thread: takes work until the backlog is dropped and its queue empty.
    fn serve(&self) {
        let mut waiting = self.work.lock().unwrap();
        loop {
            if let Some(work) = waiting.work.pop_front() {
                drop(waiting);
                // A panic is reported by the page's worker (its reply is dropped
                // unsent); the thread carries on with the next page.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
                waiting = self.work.lock().unwrap();
                continue;
            }
            if waiting.closed {
                return;
            }
            waiting.cpu_free_at = Instant::now();
            waiting.idle_threads += 1;
            waiting = self.ready.wait(waiting).unwrap();
            waiting.idle_threads -= 1;
        }
    }
}

/// Runs one page's handling so that a panic in it (a reader's bug on a hostile page)
/// comes back as that page's error, with the panic's message, instead of taking the
/// handler thread and the run down with it. Allocation failures and stack overflows
/// abort whatever is done here: the readers bound those themselves.
pub fn isolated<T>(handle: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(handle)).map_err(|panic| {
        let message = panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned());
        format!("a reader failed on this page: {}", message.as_deref().unwrap_or("(no message)"))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_panic_in_a_pages_handling_is_that_pages_error() {
        assert_eq!(isolated(|| 7), Ok(7));
        let why = isolated(|| -> u32 { panic!("index out of bounds: the len is 3 but the index is 9") }).unwrap_err();
        assert_eq!(why, "a reader failed on this page: index out of bounds: the len is 3 but the index is 9");
        let why = isolated(|| -> u32 { panic!("{} cells", 12) }).unwrap_err();
        assert!(why.ends_with("12 cells"), "{why}");
    }

    use super::*;

    /// Makes the backlog's CPU look busy for longer than a burst.
    fn busy_for_a_while(backlog: &Backlog) {
        backlog.queue.work.lock().unwrap().cpu_free_at -= BURST;
    }

    #[tokio::test]
    async fn past_memory_pages_wait_in_the_archive_in_a_burst_and_for_memory_otherwise() {
        // No handler thread: one starting late would mark the CPU free again while
        // the test has it busy.
        let backlog = Backlog::start(0, 2).unwrap();
        let mut held = Vec::new();
        for _ in 0..2 + IN_MEMORY {
            held.push(backlog.place().await);
        }
        assert!(held.iter().all(|p| matches!(p, Place::Memory(_))));
        // The CPU was free a moment ago (the backlog just started): a burst.
        assert!(matches!(backlog.place().await, Place::Archive(_)));

        busy_for_a_while(&backlog);
        let waiting = backlog.place();
        tokio::pin!(waiting);
        assert!(tokio::time::timeout(Duration::from_millis(50), &mut waiting).await.is_err(), "no room, no burst: it waits");
        held.pop();
        let place = tokio::time::timeout(Duration::from_secs(5), waiting).await.expect("room in memory ends the wait");
        assert!(matches!(place, Place::Memory(_)));
    }

    #[test]
    fn work_is_handled_in_order_and_a_thread_without_work_marks_the_cpu_free() {
        let backlog = Backlog::start(1, 0).unwrap();
        let (gate_tx, gate_rx) = std::sync::mpsc::channel::<()>();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        backlog.hand_over(move || gate_rx.recv().unwrap()); // holds the only thread
        for i in 0..3 {
            let done = done_tx.clone();
            backlog.hand_over(move || done.send(i).unwrap());
        }
        assert!(!backlog.has_idle_thread(), "the thread is busy and work is queued");
        busy_for_a_while(&backlog);
        gate_tx.send(()).unwrap();
        let order: Vec<i32> = (0..3).map(|_| done_rx.recv_timeout(Duration::from_secs(5)).unwrap()).collect();
        assert_eq!(order, vec![0, 1, 2]);
        let deadline = Instant::now() + Duration::from_secs(5);
        while !backlog.has_idle_thread() {
            assert!(Instant::now() < deadline, "the thread never went idle");
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(backlog.queue.work.lock().unwrap().cpu_free_at.elapsed() < BURST, "an idle thread is a free CPU");
    }

    #[test]
    fn a_panicking_page_does_not_take_its_thread_down() {
        let backlog = Backlog::start(1, 0).unwrap();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        backlog.hand_over(|| panic!("a bug in one page's handling"));
        backlog.hand_over(move || done_tx.send(()).unwrap());
        assert!(done_rx.recv_timeout(Duration::from_secs(5)).is_ok());
    }
}
