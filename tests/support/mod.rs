//! Test support: an in-process mock web on 127.0.0.1 serving portals under their
//! real host names, and helpers to run the `nianbao` binary against it.

#![allow(dead_code)] // each test binary uses a different part

pub mod mock_web;
pub mod parquet_read;
pub mod pdf;
pub mod run;
