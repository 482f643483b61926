//! The state's one owner during a crawl: a thread that holds the SQLite connection
//! and runs the commands sent to it, one after another.
//!
//! SQLite calls block (a COMMIT waits for the disk), so they must not run on the
//! async workers, where they would stall every host's requests behind one write
//! (mini-redis keeps its store off them for the same reason). Handler threads and
//! async workers alike send closures over one channel; the thread runs each, commits
//! the batch once it is `BATCH_AGE` old, and commits an old batch on its own when the
//! crawl is quiet, so a crawl waiting on slow hosts does not hold its last pages
//! uncommitted. Commands run in the order they were sent.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;

use anyhow::{Context, Result, anyhow};
use tokio::sync::oneshot;

use super::{BATCH_AGE, State};

type Command = Box<dyn FnOnce(&State) + Send>;

enum Message {
    Run(Command),
    /// Hand the state back: the crawl is over.
    Stop,
}

/// The sending side of the state's thread; cloned by whoever records.
#[derive(Clone)]
pub struct StateWriter {
    commands: mpsc::Sender<Message>,
}

/// The state's thread, to be joined for the state back when the crawl is over.
pub struct StateThread {
    thread: JoinHandle<State>,
}

/// A commit the thread made on its own that failed: nothing more can be kept.
pub type CommitFailure = oneshot::Receiver<anyhow::Error>;

impl StateWriter {
    /// Moves `state` to its own thread. Returns the writer, the thread, and what
    /// tells of a commit the thread made on its own failing.
    pub fn start(state: State) -> Result<(StateWriter, StateThread, CommitFailure)> {
        let (commands, received) = mpsc::channel();
        let (failed, failure) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("nianbao-state".into())
            .spawn(move || serve(state, received, failed))
            .context("cannot start the crawl state's thread")?;
        Ok((StateWriter { commands }, StateThread { thread }, failure))
    }

    /// Runs `command` on the state's thread and waits for its answer, from async code.
    pub async fn ask<T: Send + 'static>(&self, command: impl FnOnce(&State) -> Result<T> + Send + 'static) -> Result<T> {
        self.send(command)?.await.map_err(|_| gone())?
    }

    /// Runs `command` on the state's thread and waits for its answer, from a thread
    /// that may block (a page handler's).
    pub fn ask_blocking<T: Send + 'static>(&self, command: impl FnOnce(&State) -> Result<T> + Send + 'static) -> Result<T> {
        self.send(command)?.blocking_recv().map_err(|_| gone())?
    }

    fn send<T: Send + 'static>(&self, command: impl FnOnce(&State) -> Result<T> + Send + 'static) -> Result<oneshot::Receiver<Result<T>>> {
        let (reply, answer) = oneshot::channel();
        let command: Command = Box::new(move |state| {
            let _ = reply.send(command(state));
        });
        self.commands.send(Message::Run(command)).map_err(|_| gone())?;
        Ok(answer)
    }

    /// Stops the thread once the commands sent before have run; later ones fail.
    pub fn stop(&self) {
        let _ = self.commands.send(Message::Stop);
    }
}

impl StateThread {
    /// Waits for the thread to stop (see [`StateWriter::stop`]) and gives the state
    /// back, its batch committed.
    pub fn join(self) -> Result<State> {
        let state = self.thread.join().map_err(|_| anyhow!("the crawl state's thread panicked"))?;
        state.commit_if_older_than(std::time::Duration::ZERO)?;
        Ok(state)
    }
}

fn gone() -> anyhow::Error {
    anyhow!("the crawl state's thread has stopped")
}

/// The thread: runs commands until it is stopped or every writer is gone,
/// committing batches as they come of age. A commit of its own that fails is told
/// once, and the batches after it are tried again.
fn serve(state: State, commands: mpsc::Receiver<Message>, failed: oneshot::Sender<anyhow::Error>) -> State {
    let mut failed = Some(failed);
    loop {
        match commands.recv_timeout(BATCH_AGE) {
            Ok(Message::Run(command)) => command(&state),
            Ok(Message::Stop) | Err(RecvTimeoutError::Disconnected) => return state,
            Err(RecvTimeoutError::Timeout) => {}
        }
        if let Err(e) = state.commit_if_older_than(BATCH_AGE)
            && let Some(tell) = failed.take()
        {
            let _ = tell.send(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::{PageKind, Target};
    use crate::state::Job;

    fn job(url: &str) -> Job {
        Job {
            canonical: url.into(),
            host: "www.zt.gov.cn".into(),
            seed: "http://www.zt.gov.cn/".into(),
            target: Target { url: url.into(), kind: PageKind::List, ..Target::default() },
        }
    }

    #[test]
    fn commands_from_threads_and_tasks_run_in_order_and_the_state_comes_back_committed() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, thread, _failure) = StateWriter::start(State::open(dir.path()).unwrap()).unwrap();
        let from_thread = writer.clone();
        std::thread::spawn(move || from_thread.ask_blocking(|s| s.add_job(&job("a"))).unwrap()).join().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let added = runtime.block_on(writer.ask(|s| s.add_job(&job("b")))).unwrap();
        assert!(added);
        let pending = runtime.block_on(writer.ask(|s| s.pending_jobs())).unwrap();
        assert_eq!(pending.iter().map(|j| j.canonical.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        writer.stop();
        let state = thread.join().unwrap();
        assert!(state.db.is_autocommit(), "the last batch is committed when the state comes back");
        assert!(writer.ask_blocking(|s| s.add_job(&job("c"))).is_err(), "a stopped thread takes no more commands");
    }

    #[test]
    fn a_quiet_crawls_batch_is_committed_by_the_thread() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, thread, _failure) = StateWriter::start(State::open(dir.path()).unwrap()).unwrap();
        writer.ask_blocking(|s| s.add_job(&job("a"))).unwrap();
        std::thread::sleep(BATCH_AGE * 3);
        let open = writer.ask_blocking(|s| Ok(!s.db.is_autocommit())).unwrap();
        assert!(!open, "no command came for a while, yet the batch was committed");
        writer.stop();
        thread.join().unwrap();
    }

    #[test]
    fn a_failing_command_answers_its_error_and_the_thread_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, thread, _failure) = StateWriter::start(State::open(dir.path()).unwrap()).unwrap();
        let failed = writer.ask_blocking(|s| -> Result<()> {
            s.add_job(&job("a"))?;
            anyhow::bail!("refused")
        });
        assert_eq!(format!("{:#}", failed.unwrap_err()), "refused");
        assert!(writer.ask_blocking(|s| s.add_job(&job("b"))).unwrap());
        let pending = writer.ask_blocking(|s| s.pending_jobs()).unwrap();
        assert_eq!(pending.iter().map(|j| j.canonical.as_str()).collect::<Vec<_>>(), ["a", "b"], "a command's writes are units of their own");
        writer.stop();
        thread.join().unwrap();
    }
}
