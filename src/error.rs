//! Errors for everything that depends on the outside world (files, checkpoints, state blobs,
//! datasets). Programmer errors in tensor code panic instead, with PyTorch's message.

use std::fmt;

/// An error from input Flambeau does not control.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A value from outside (a state blob, a flag, a file's content) is not acceptable.
    InvalidArgument(String),
    /// `load_state_dict` found missing, unexpected or mis-shaped entries (PyTorch's message).
    LoadStateDict(String),
    /// A file's bytes are not what its format requires (a checkpoint, a dataset): the message
    /// names the problem and, where known, the file.
    Format(String),
    /// Reading or writing a file failed.
    Io(std::io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgument(msg) | Error::LoadStateDict(msg) | Error::Format(msg) => {
                f.write_str(msg)
            }
            Error::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

/// `Result` with Flambeau's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
