//! The lake in a nianbao built without the `lake` feature: asking for one is a
//! usage error that says how to build it.

use std::path::Path;

use anyhow::Result;

use super::handoff::{HandedOver, Handoff};
use super::target::{Pushed, Target};
use crate::exit::Exit;

/// No session can begin without the feature.
pub enum Session {}

impl Session {
    pub async fn begin(_: &Target, _: &str) -> Result<Session> {
        Err(anyhow::anyhow!(super::NOT_BUILT).context(Exit::Usage))
    }

    pub async fn pull_home(&self, _: &Path) -> Result<()> {
        match *self {}
    }

    pub async fn take_inbox(&mut self) -> Result<Vec<Handoff>> {
        match *self {}
    }

    pub async fn finish(self, _: &Path, _: HandedOver, _: i64) -> Result<Pushed> {
        match self {}
    }

    pub async fn abandon(self) {
        match self {}
    }
}
