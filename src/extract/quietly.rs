//! Third-party file readers (the PDF reader, calamine) unwrap and index on damaged
//! files, and an unoptimised build's overflow checks panic where a release build
//! wraps. Such a panic is the file's fault, not nianbao's: it becomes the report's
//! warning, and is logged at debug level instead of printing a backtrace on stderr.

use std::panic::{AssertUnwindSafe, catch_unwind};

thread_local! {
    /// Set while a third-party reader runs on this thread: its panics are expected.
    static READING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `read`, catching its panics quietly.
pub(super) fn quietly<T>(read: impl FnOnce() -> T) -> std::thread::Result<T> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if READING.with(std::cell::Cell::get) {
                tracing::debug!("a file reader failed: {info}");
            } else {
                previous(info);
            }
        }));
    });
    READING.with(|r| r.set(true));
    let result = catch_unwind(AssertUnwindSafe(read));
    READING.with(|r| r.set(false));
    result
}
