// SPDX-License-Identifier: GPL-2.0

//! The tool's errors and their exit statuses: 2 for a usage error (the
//! command line or a script line is wrong), 1 for anything that failed
//! while running.

use std::fmt;

use crate::device::{DeviceError, OpError};

/// Exit status of a runtime failure.
pub const EXIT_FAILURE: u8 = 1;
/// Exit status of a usage error.
pub const EXIT_USAGE: u8 = 2;

/// Why a command did not succeed.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// The command line (or a script line) is wrong: exit 2.
    Usage(String),
    /// The command failed: exit 1.
    Failed(String),
}

impl Error {
    /// The exit status this error ends the tool with.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => EXIT_USAGE,
            Self::Failed(_) => EXIT_FAILURE,
        }
    }

    /// The message, without the kind.
    pub fn message(&self) -> &str {
        match self {
            Self::Usage(m) | Self::Failed(m) => m,
        }
    }

    /// The same kind of error with `prefix: ` before the message.
    pub fn context(self, prefix: &str) -> Self {
        match self {
            Self::Usage(m) => Self::Usage(format!("{prefix}: {m}")),
            Self::Failed(m) => Self::Failed(format!("{prefix}: {m}")),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Error {}

impl From<String> for Error {
    fn from(m: String) -> Self {
        Self::Failed(m)
    }
}

impl From<&str> for Error {
    fn from(m: &str) -> Self {
        Self::Failed(m.to_string())
    }
}

impl From<OpError> for Error {
    fn from(e: OpError) -> Self {
        Self::Failed(e.to_string())
    }
}

impl From<DeviceError> for Error {
    fn from(e: DeviceError) -> Self {
        Self::Failed(e.to_string())
    }
}

/// A usage error.
pub fn usage(m: impl Into<String>) -> Error {
    Error::Usage(m.into())
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
