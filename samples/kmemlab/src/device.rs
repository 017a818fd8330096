// SPDX-License-Identifier: GPL-2.0

//! `/dev/kmemlab`: opening it with helpful errors, and issuing ioctls.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use crate::uapi::{KmemlabVersion, KMEMLAB_IOC_VERSION};

extern "C" {
    fn ioctl(fd: i32, request: std::ffi::c_ulong, ...) -> i32;
}

/// Why the device could not be used, phrased for the person at the terminal.
#[derive(Debug)]
pub enum DeviceError {
    /// The kmemlab module is not loaded.
    NotLoaded(PathBuf),
    /// The module is loaded but its device node is missing.
    NoNode(PathBuf),
    /// The caller may not open the node.
    Permission(PathBuf),
    /// The node does not answer kmemlab's ioctls.
    NotKmemlab(PathBuf),
    /// Any other system error.
    Os(PathBuf, &'static str, io::Error),
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotLoaded(p) => write!(
                f,
                "{} does not exist and the kmemlab module is not loaded \
                 (no /sys/module/kmemlab): load it with 'insmod kmemlab.ko'",
                p.display()
            ),
            Self::NoNode(p) => write!(
                f,
                "the kmemlab module is loaded but {} is missing: is devtmpfs mounted on /dev?",
                p.display()
            ),
            Self::Permission(p) => write!(
                f,
                "permission denied opening {}: the device is root-only (mode 0600), run as root",
                p.display()
            ),
            Self::NotKmemlab(p) => write!(
                f,
                "{} does not answer KMEMLAB_IOC_VERSION: it is not a kmemlab device",
                p.display()
            ),
            Self::Os(p, what, e) => write!(f, "{what} {}: {e}", p.display()),
        }
    }
}

/// An open `/dev/kmemlab`.
pub struct Device {
    file: File,
    path: PathBuf,
}

impl Device {
    /// Opens the device node at `path`.
    pub fn open(path: &Path) -> Result<Self, DeviceError> {
        let path = path.to_path_buf();
        match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(file) => Ok(Self { file, path }),
            Err(e) => Err(match e.kind() {
                io::ErrorKind::NotFound if Path::new("/sys/module/kmemlab").exists() => {
                    DeviceError::NoNode(path)
                }
                io::ErrorKind::NotFound => DeviceError::NotLoaded(path),
                io::ErrorKind::PermissionDenied => DeviceError::Permission(path),
                _ => DeviceError::Os(path, "cannot open", e),
            }),
        }
    }

    /// Issues `request` with a pointer to `buf` (the encoded ABI structure).
    fn ioctl_buf(&self, request: u32, buf: &mut [u8]) -> io::Result<i32> {
        // SAFETY: `buf` is a live, writable buffer exactly as large as the
        // structure `request` encodes (the callers pass `T::SIZE` arrays), so
        // the kernel reads and writes only memory we own.
        let ret = unsafe {
            ioctl(
                self.file.as_raw_fd(),
                std::ffi::c_ulong::from(request),
                buf.as_mut_ptr(),
            )
        };
        if ret < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(ret)
        }
    }

    /// `KMEMLAB_IOC_VERSION`.
    pub fn version(&self) -> Result<KmemlabVersion, DeviceError> {
        let mut buf = [0u8; KmemlabVersion::SIZE];
        match self.ioctl_buf(KMEMLAB_IOC_VERSION, &mut buf) {
            Ok(_) => Ok(KmemlabVersion::decode(&buf)),
            Err(e) if e.raw_os_error() == Some(25) => {
                Err(DeviceError::NotKmemlab(self.path.clone()))
            }
            Err(e) => Err(DeviceError::Os(
                self.path.clone(),
                "KMEMLAB_IOC_VERSION on",
                e,
            )),
        }
    }
}
