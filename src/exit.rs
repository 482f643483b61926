//! Exit statuses: what a run's end tells cron, a systemd timer or an alerting rule.
//!
//! The codes follow BSD's `sysexits.h`, which monitoring tools already know, plus the
//! shell's 128+signal for a run stopped by SIGINT or SIGTERM. An error is tagged with
//! its status where it arises (`.context(Exit::Config)`); the command line reads the
//! tag back from the error chain, and an untagged error is an internal one.

use std::fmt;

/// How a command ended, as its exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The run finished and collected what it could.
    Ok,
    /// The run finished, but some reports could not be assembled because the raw
    /// archive lost their pages; the next crawl fetches them whole.
    Partial,
    /// A command line that does not parse (EX_USAGE).
    Usage,
    /// A seed list with no usable seed, or a crawl state of a newer nianbao
    /// (EX_DATAERR).
    DataErr,
    /// A file or directory named on the command line is missing or holds no crawl
    /// (EX_NOINPUT).
    NoInput,
    /// The run collected nothing, or more hosts failed than `crawl.max_failed_hosts`
    /// allows (EX_UNAVAILABLE): a dead proxy or a lost network.
    Unavailable,
    /// The Delta Lake could not be read or committed to (EX_UNAVAILABLE); the local
    /// dataset is written, and the next run commits it.
    Lake,
    /// A bug of nianbao's (EX_SOFTWARE).
    Software,
    /// The output directory cannot be created (EX_CANTCREAT).
    CantCreate,
    /// Reading or writing the output failed: a full disk, a corrupt state (EX_IOERR).
    Io,
    /// Another run holds the output directory's lock (EX_TEMPFAIL): try later.
    Locked,
    /// A bad settings file or setting (EX_CONFIG).
    Config,
    /// Stopped by SIGINT (130) or SIGTERM (143) after committing what was collected.
    Interrupted(Signal),
}

/// The signals a run stops cleanly on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Interrupt,
    Terminate,
}

impl Signal {
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Partial => 1,
            Exit::Usage => 64,
            Exit::DataErr => 65,
            Exit::NoInput => 66,
            Exit::Unavailable | Exit::Lake => 69,
            Exit::Software => 70,
            Exit::CantCreate => 73,
            Exit::Io => 74,
            Exit::Locked => 75,
            Exit::Config => 78,
            Exit::Interrupted(Signal::Interrupt) => 130,
            Exit::Interrupted(Signal::Terminate) => 143,
        }
    }

    /// The status an error was tagged with; an I/O or SQLite error underneath an
    /// untagged one is the output's (a full disk), anything else is a bug.
    pub fn of(error: &anyhow::Error) -> Exit {
        if let Some(exit) = error.downcast_ref::<Exit>() {
            return *exit;
        }
        let io = error.chain().any(|c| c.is::<std::io::Error>() || c.is::<rusqlite::Error>());
        if io { Exit::Io } else { Exit::Software }
    }
}

/// An error's tag reads as the kind of trouble, before the error's own words.
impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Exit::Ok => "finished",
            Exit::Partial => "finished with reports not assembled",
            Exit::Usage => "usage",
            Exit::DataErr => "unusable seed list",
            Exit::NoInput => "missing input",
            Exit::Unavailable => "nothing collected",
            Exit::Lake => "lake not updated",
            Exit::Software => "internal error",
            Exit::CantCreate => "cannot create the output",
            Exit::Io => "output I/O error",
            Exit::Locked => "output in use",
            Exit::Config => "bad configuration",
            Exit::Interrupted(Signal::Interrupt) => "interrupted (SIGINT)",
            Exit::Interrupted(Signal::Terminate) => "terminated (SIGTERM)",
        })
    }
}

impl std::error::Error for Exit {}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn a_tag_deep_in_the_context_chain_decides_the_status() {
        let e = Err::<(), _>(anyhow::anyhow!("unknown key `per_host_rsp`"))
            .context("bad config file config.toml")
            .context(Exit::Config)
            .context("cannot start the crawl")
            .unwrap_err();
        assert_eq!(Exit::of(&e), Exit::Config);
        assert_eq!(Exit::of(&e).code(), 78);
        assert_eq!(format!("{e:#}"), "cannot start the crawl: bad configuration: bad config file config.toml: unknown key `per_host_rsp`");
    }

    #[test]
    fn an_untagged_io_error_is_the_outputs_and_anything_else_a_bug() {
        let full = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::StorageFull)).context("cannot write the raw archive");
        assert_eq!(Exit::of(&full), Exit::Io);
        assert_eq!(Exit::of(&anyhow::anyhow!("index out of range")), Exit::Software);
    }
}
