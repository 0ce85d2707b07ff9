//! Python's pickle, as far as checkpoints need it: a restricted unpickler that only builds data
//! (`torch.load(weights_only=True)`'s rules, torch/_weights_only_unpickler.py) and a protocol-2
//! pickler for [`Value`](super::Value) trees.

mod globals;
mod obj;
pub(crate) mod read;
pub(crate) mod write;

pub(crate) use read::{StorageId, Unpickler};
